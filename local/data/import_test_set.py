"""Bring a test set prepared by another recipe into this one (cross-corpus decoding).

    python -m local.data.import_test_set SOURCE_DATA_DIR data/NAME
    python -m local.data.import_test_set --name SOURCE_DATA_DIR      # prints NAME

The stage driver calls this for every `--test_sets` entry that is a path rather
than a set name, e.g. `--test_sets "dev ../../aishell/asr1/data/test"`. The set
is named `<corpus>_<set>` after its recipe (`aishell_test`; for a recipe folder
outside egs2/, its folder name), and copied with its audio paths made absolute and its
transcripts re-normalized with local.data.text_norm.normalize_mandarin, the rule both
recipes apply to their own text, so that the hypotheses of one recipe's model
and the references of the other corpus are compared on the same terms.
"""

import argparse
import os
import sys
from pathlib import Path

from fileio.atomic import OutputError, terminate_cleanly
from fileio.kaldi_table import DataError
from local.data.datadir import DataDir
from local.data.text_norm import normalize_mandarin

TOOL = "local.data.import_test_set"  # the marker of the folders it writes (fileio.atomic)


def corpus_of(recipe):
    """`aishell` for the recipe folder .../egs2/aishell/asr1, else the folder's name."""
    recipe = Path(os.path.abspath(recipe))
    return recipe.parent.name if recipe.parent.parent.name == "egs2" else recipe.name


def set_name(source):
    """`aishell_test` for .../egs2/aishell/asr1/data/test."""
    source = Path(os.path.abspath(source))
    return f"{corpus_of(source.parent.parent)}_{source.name}"


def absolute_path(value, base):
    """A wav.scp value with a relative file path made absolute."""
    if os.path.isabs(value):
        return value
    return str((base / value).resolve())


def import_set(source, target):
    source = Path(source)
    data = DataDir.read(source)
    recipe = source.resolve().parent.parent  # relative paths start from data/<set>/../..
    pipes = [key for key, value in data.wav_scp.items() if value.rstrip().endswith("|")]
    if pipes:
        raise DataError(
            f"{source / 'wav.scp'}: '{pipes[0]}' is a pipe command; the recipes "
            "read audio files only (write the audio to files first)"
        )
    data.wav_scp = {key: absolute_path(value, recipe) for key, value in data.wav_scp.items()}
    changed = 0
    for utt, text in data.text.items():
        normalized = normalize_mandarin(text)
        changed += normalized != text
        data.text[utt] = normalized
    data.utt2num_samples = None  # the dump stage measures the audio again
    data.write(target, TOOL, [source])
    print(
        f"{target}: {len(data.utt2spk)} utterances from {source.resolve()} "
        f"({changed} transcripts changed by normalization)"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--name", action="store_true", help="only print the set name")
    parser.add_argument("source", help="data directory of another recipe")
    parser.add_argument("target", nargs="?", help="data directory to write")
    args = parser.parse_args(argv)
    terminate_cleanly()  # a job runner's SIGTERM removes temporary outputs too
    if args.name:
        print(set_name(args.source))
        return
    if args.target is None:
        parser.error("TARGET is required")
    try:
        import_set(args.source, args.target)
    except (DataError, OutputError) as error:
        sys.exit(f"import_test_set: {error}")


if __name__ == "__main__":
    main()
