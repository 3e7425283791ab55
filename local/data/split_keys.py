"""Split the keys of a Kaldi table (wav.scp, text) into N lists for array jobs.

    python -m local.data.split_keys --nj 4 dump/raw/test/wav.scp exp/.../log/keys.JOB.scp
    python -m local.data.split_keys --nj 4 --lengths dump/raw/test/utt2num_samples ...

Without --lengths the lines are cut into N consecutive runs of (almost) equal
count, as Kaldi's split_scp.pl does. With --lengths each line goes to the job
with the least total length so far, longest first, so that jobs that decode by
audio length finish together. JOB in the output pattern becomes 1..N; every
output keeps the input's line order.
"""

import argparse
import heapq
import math
import sys
from pathlib import Path

from fileio.atomic import not_a_folder_error, write_text
from fileio.kaldi_table import DataError, read_lines, read_table


def split_by_count(keys, nj):
    size, extra = divmod(len(keys), nj)
    parts, start = [], 0
    for job in range(nj):
        end = start + size + (job < extra)
        parts.append(keys[start:end])
        start = end
    return parts


def split_by_length(keys, lengths, nj):
    """Greedy longest-first assignment to the least loaded job."""
    heap = [(0, job) for job in range(nj)]
    assigned = [[] for _ in range(nj)]
    for key in sorted(keys, key=lambda k: (-lengths[k], k)):
        total, job = heapq.heappop(heap)
        assigned[job].append(key)
        heapq.heappush(heap, (total + lengths[key], job))
    order = {k: i for i, k in enumerate(keys)}
    return [sorted(part, key=order.get) for part in assigned]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--nj", type=int, required=True)
    parser.add_argument("--lengths", help="table of <key> <length> (e.g. utt2num_samples)")
    parser.add_argument("table", help="input table; its lines are copied")
    parser.add_argument("pattern", help="output path with JOB, e.g. keys.JOB.scp")
    args = parser.parse_args(argv)
    try:
        lines = {}
        for number, line in read_lines(args.table):
            if line.strip():
                key = line.split(maxsplit=1)[0]
                if key in lines:
                    raise DataError(f"{args.table}:{number}: duplicate key '{key}'")
                lines[key] = line + "\n"
        keys = list(lines)
        if not 1 <= args.nj <= len(keys):
            raise DataError(f"--nj {args.nj}: {args.table} has {len(keys)} lines to split")
        if "JOB" not in args.pattern:
            raise DataError(f"output pattern '{args.pattern}' has no JOB")
        outputs = [Path(args.pattern.replace("JOB", str(job))) for job in range(1, args.nj + 1)]
        inputs = {Path(p).resolve() for p in (args.table, args.lengths) if p}
        for out in outputs:
            if out.resolve() in inputs:
                raise DataError(f"{out}: an output would overwrite an input")
            blocked = not_a_folder_error(out.parent, for_file=out)
            if blocked is not None:
                raise DataError(str(blocked))
            if out.is_dir():
                raise DataError(f"{out}: is a folder; a file name is needed")
        if args.lengths:
            lengths = read_lengths(args.lengths)
            missing = [k for k in keys if k not in lengths]
            if missing:
                raise DataError(f"{args.lengths}: no length for '{missing[0]}'")
            parts = split_by_length(keys, lengths, args.nj)
        else:
            parts = split_by_count(keys, args.nj)
    except DataError as e:
        sys.exit(f"split_keys: error: {e}")
    for out, part in zip(outputs, parts):
        write_text(out, "".join(lines[k] for k in part))


def read_lengths(path):
    """{key: length} of a table of non-negative numbers (the first word of a value)."""
    lengths = {}
    for key, value in read_table(path).items():
        try:
            lengths[key] = float(value.split()[0])
        except ValueError:
            lengths[key] = math.nan
        if not (math.isfinite(lengths[key]) and lengths[key] >= 0):
            number = next(n for n, line in read_lines(path) if line.split()[:1] == [key])
            raise DataError(f"{path}:{number}: '{value}' is not a length")
    return lengths


if __name__ == "__main__":
    main()
