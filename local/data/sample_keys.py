"""A random sample of the keys of a Kaldi table (for statistics from a sample).

    python -m local.data.sample_keys --n 1000 [--seed 0] dump/raw/train_sp/wav.scp OUT

Writes the lines of N randomly chosen keys (all of them when the table has at most
N), in the table's order. The same seed gives the same sample.
"""

import argparse
import random
import sys

from fileio.atomic import write_text
from fileio.kaldi_table import DataError, read_lines


def sample(lines, n, seed):
    """n of the lines, chosen at random (seeded), in their order."""
    if n >= len(lines):
        return list(lines)
    chosen = set(random.Random(seed).sample(range(len(lines)), n))
    return [line for i, line in enumerate(lines) if i in chosen]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m local.data.sample_keys",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--n", type=int, required=True, help="number of keys to keep")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("table")
    parser.add_argument("out")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n must be positive")
    try:
        lines = [line for _, line in read_lines(args.table) if line.strip()]
    except (OSError, DataError) as e:
        sys.exit(f"sample_keys: error: {e}")
    if not lines:
        sys.exit(f"sample_keys: error: {args.table}: no lines")
    kept = sample(lines, args.n, args.seed)
    write_text(args.out, "".join(line + "\n" for line in kept))
    print(f"{args.out}: {len(kept)} of {len(lines)} keys of {args.table}", file=sys.stderr)


if __name__ == "__main__":
    main()
