"""Fail when an evaluation sentence occurs in the LM training text.

    python -m local.data.check_lm_text LM_TEXT EVAL_TEXT [EVAL_TEXT ...]

All files are Kaldi text files (`<id> <sentence>`); sentences are compared with
whitespace removed. The LM must be trained on training transcripts only: a
dev/test sentence in its text makes the reported error rates meaningless.
"""

import argparse
import sys

from fileio.kaldi_table import DataError, read_lines, read_table


def sentence_key(text):
    return "".join(text.split())


def overlaps(lm_text, eval_texts):
    """[(eval file, id, sentence, first LM line number)] for every leaked sentence."""
    first_line = {}
    for number, line in read_lines(lm_text):
        fields = line.split(maxsplit=1)
        key = sentence_key(fields[1]) if len(fields) > 1 else ""
        if key:
            first_line.setdefault(key, number)
    found = []
    for path in eval_texts:
        for utt, text in read_table(path, allow_empty_value=True).items():
            key = sentence_key(text)
            if key in first_line:
                found.append((path, utt, key, first_line[key]))
    return found


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("lm_text")
    parser.add_argument("eval_texts", nargs="+")
    args = parser.parse_args(argv)
    try:
        found = overlaps(args.lm_text, args.eval_texts)
    except (DataError, OSError) as e:
        sys.exit(f"check_lm_text: error: {e}")
    if found:
        for path, utt, sentence, line in found[:20]:
            print(f"{path}: {utt} '{sentence}' is line {line} of {args.lm_text}", file=sys.stderr)
        sys.exit(
            f"check_lm_text: error: {len(found)} evaluation sentences are in the LM "
            f"training text {args.lm_text}"
        )
    print(f"{args.lm_text}: no sentence of {' '.join(args.eval_texts)}")


if __name__ == "__main__":
    main()
