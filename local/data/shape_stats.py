"""Length (shape) statistics of a dumped set without running any model.

    python -m local.data.shape_stats --keys dump/raw/train_sp/wav.scp \
        --utt2num_samples dump/raw/train_sp/utt2num_samples --text dump/raw/train_sp/text \
        --out exp/asr_X/stats/train --token_type char --token_list tokens.txt \
        [--non_linguistic_symbols none --cleaner none --g2p none]

Writes OUT/speech_shape (`<utt> <samples>`, from utt2num_samples) and OUT/text_shape
(`<utt> <tokens>`), for the utterances of --keys, in its order: the files that
`espnet2.bin.asr_train --collect_stats true` writes, without reading audio. Token
counts come from ESPnet's own preprocessor (CommonPreprocessor with the given text
options, as the statistics and training jobs build it), so they are ESPnet's.
With --audio_format none, utt2num_samples comes from the segment times (within a
sample of what the reader returns). An utterance missing from utt2num_samples or
from the text is an error naming the file.
"""

import argparse
import sys
from pathlib import Path

from fileio.atomic import write_text
from fileio.kaldi_table import DataError, read_table


def none_or(value):
    return None if value in (None, "none", "None", "") else value


def token_counter(token_type, token_list, non_linguistic_symbols, cleaner, g2p):
    """text -> number of token ids, by ESPnet's CommonPreprocessor."""
    import numpy as np
    from espnet2.train.preprocessor import CommonPreprocessor

    preprocessor = CommonPreprocessor(
        train=False,
        token_type=token_type,
        token_list=token_list,
        non_linguistic_symbols=none_or(non_linguistic_symbols),
        text_cleaner=none_or(cleaner),
        g2p_type=none_or(g2p),
    )
    dummy = np.zeros(1, dtype=np.float32)

    def count(text):
        return len(preprocessor("utt", {"speech": dummy, "text": text})["text"])

    return count


def shapes(keys, num_samples, texts, count):
    """(speech_shape lines, text_shape lines) for `keys`."""
    speech, text = [], []
    for utt in keys:
        speech.append(f"{utt} {int(num_samples[utt])}\n")
        text.append(f"{utt} {count(texts[utt])}\n")
    return speech, text


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m local.data.shape_stats",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--keys", required=True, help="table whose keys are the utterances")
    parser.add_argument("--utt2num_samples", required=True)
    parser.add_argument("--text", required=True)
    parser.add_argument("--out", required=True, help="folder for speech_shape and text_shape")
    parser.add_argument("--token_type", required=True)
    parser.add_argument("--token_list", required=True)
    parser.add_argument("--non_linguistic_symbols", default="none")
    parser.add_argument("--cleaner", default="none")
    parser.add_argument("--g2p", default="none")
    args = parser.parse_args(argv)
    try:
        keys = list(read_table(args.keys))
        num_samples = read_table(args.utt2num_samples)
        texts = read_table(args.text, allow_empty_value=True)
    except (OSError, DataError) as e:
        sys.exit(f"shape_stats: error: {e}")
    for table, path in ((num_samples, args.utt2num_samples), (texts, args.text)):
        missing = [utt for utt in keys if utt not in table]
        if missing:
            sys.exit(
                f"shape_stats: error: {path}: no entry for {len(missing)} utterance(s) "
                f"of {args.keys}, e.g. {missing[0]}"
            )
    count = token_counter(
        args.token_type, args.token_list, args.non_linguistic_symbols, args.cleaner, args.g2p
    )
    speech, text = shapes(keys, num_samples, texts, count)
    out = Path(args.out)
    write_text(out / "speech_shape", "".join(speech))
    write_text(out / "text_shape", "".join(text))
    print(f"{out}: shapes of {len(keys)} utterances", file=sys.stderr)


if __name__ == "__main__":
    main()
