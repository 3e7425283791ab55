"""The CER table of every experiment of a recipe, one row per experiment and
decoding, one column per test set (the layout of the seed's tables).

    python -m local.report.summary exp [--test_sets "dev test"] [--out exp/summary.md]
"""

import argparse
from pathlib import Path

from fileio.atomic import write_text
from local.report.results import markdown_table, scored_sets, sum_avg


def collect(expdir):
    """[(experiment, decoding, {set: CER %})] for everything scored under expdir."""
    rows = []
    for exp in sorted(Path(expdir).glob("asr_*")):
        for decode_dir, sets in scored_sets(exp).items():
            rows.append(
                (
                    exp.name[len("asr_") :],
                    decode_dir.name,
                    {s: sum_avg(r)[6] for s, r in sets.items()},
                )
            )
    return rows


def table(rows, test_sets):
    if not test_sets:
        test_sets = sorted({s for _, _, cers in rows for s in cers})
    body = [[exp, decode] + [cers.get(s, "-") for s in test_sets] for exp, decode, cers in rows]
    return markdown_table(["experiment", "decoding"] + list(test_sets), body)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("expdir")
    parser.add_argument("--test_sets", default="", help="columns, in order (default: all found)")
    parser.add_argument("--out", help="also write the table (Markdown) here")
    args = parser.parse_args(argv)
    rows = collect(args.expdir)
    text = f"CER (%) of the experiments in {args.expdir}\n\n" + table(rows, args.test_sets.split())
    if not rows:
        text += "\n\n(no scored experiment yet: run stages 7 and 8)"
    if args.out:
        write_text(args.out, text + "\n")
    print(text)


if __name__ == "__main__":
    main()
