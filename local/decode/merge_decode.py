"""Merge the outputs of the decoding jobs (espnet2.bin.asr_inference --output_dir
LOGDIR/output.JOB) into DIR/{text,token,token_int,score}, sorted by utterance.

    python -m local.decode.merge_decode --nj N LOGDIR DIR

Every key of LOGDIR/keys.JOB.scp must have a hypothesis, else it is an error that
names the job's log.
"""

import argparse
import sys
from pathlib import Path

from fileio.kaldi_table import DataError, read_table, write_table

FILES = ("text", "token", "token_int", "score")


def merge(logdir, out_dir, nj):
    logdir, out_dir = Path(logdir), Path(out_dir)
    merged = {name: {} for name in FILES}
    for job in range(1, nj + 1):
        keys = list(read_table(logdir / f"keys.{job}.scp", allow_empty_value=True))
        best = logdir / f"output.{job}" / "1best_recog"
        for name in FILES:
            if (best / name).exists():
                merged[name].update(read_table(best / name, allow_empty_value=True))
        missing = [k for k in keys if k not in merged["text"]]
        if missing:
            raise DataError(
                f"job {job} has no hypothesis for {len(missing)} utterances, e.g. "
                f"'{missing[0]}' (see {logdir}/inference.{job}.log)"
            )
    for name, table in merged.items():
        if table:
            write_table(out_dir / name, table)
    return len(merged["text"])


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nj", type=int, required=True)
    parser.add_argument("logdir")
    parser.add_argument("out_dir")
    args = parser.parse_args(argv)
    if args.nj < 1:
        parser.error(f"--nj {args.nj}: at least one job")
    try:
        n = merge(args.logdir, args.out_dir, args.nj)
    except DataError as e:
        sys.exit(f"merge_decode: error: {e}")
    print(f"{args.out_dir}: {n} hypotheses")


if __name__ == "__main__":
    main()
