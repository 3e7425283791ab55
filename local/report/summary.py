"""The CER table of every experiment of a recipe, one row per experiment and
decoding, one column per test set (the layout of the seed's tables).

    python -m local.report.summary exp [--test_sets "dev test"] [--out exp/summary.md]

Each CER carries ± half the width of its 95 % bootstrap interval, and each SSL
row the p value of the MAPSSWE test against the FBank experiment trained on the
same data, per test set, starred where significant (local.report.significance).
EXPDIR must be a recipe's exp folder (with asr_* experiments); the table says so
when none of them is scored yet. Once one is, a --test_sets name that no
experiment has scored (a mistyped name, a set not decoded yet) is an error naming
the scored sets, even beside known names: a column of `-` would hide the mistake.
"""

import argparse
import sys
from pathlib import Path

from fileio.atomic import OutputError, write_text
from fileio.kaldi_table import DataError
from local.report import owned, significance
from local.report.experiments import (
    Row,
    experiment_folders,
    frontend_name,
    read_config,
    train_set,
)
from local.report.results import markdown_table, scored_sets, sum_avg

TITLE = "CER (%) of the experiments in "  # the first line of every summary


def collect(expdir):
    """[Row] of every scored decoding of the experiments under expdir."""
    rows = []
    recipe = Path(expdir).parent
    for exp in experiment_folders(expdir):
        sets = scored_sets(exp)
        if not sets:
            continue
        config = read_config(exp)
        frontend = frontend_name(config, recipe) if config else "unknown"
        training = train_set(config, exp) if config else "unknown"
        for decode_dir, found in sets.items():
            rows.append(
                Row(exp.name[len("asr_") :], decode_dir.name, frontend, training, dict(found))
            )
    return rows


def table(rows, test_sets):
    if not test_sets:
        test_sets = sorted({s for row in rows for s in row.results})
    header = ["experiment", "decoding", *test_sets, f"p vs FBank ({' / '.join(test_sets)})"]
    body = []
    for row in rows:
        cells = [
            significance.with_interval(sum_avg(row.results[s])[6], row.results[s])
            if s in row.results
            else "-"
            for s in test_sets
        ]
        body.append(
            [row.experiment, row.decoding, *cells]
            + [significance.versus_fbank(rows, row, test_sets)]
        )
    return markdown_table(header, body)


def check_expdir(expdir):
    """A recipe's exp folder: it exists and holds asr_* experiments."""
    path = Path(expdir)
    if not path.exists():
        raise DataError(f"{expdir}: no such folder")
    if not path.is_dir():
        raise DataError(f"{expdir}: not a folder")
    if not experiment_folders(path):
        raise DataError(
            f"{expdir}: no asr_* experiment in this folder; give a recipe's exp folder "
            "(e.g. egs2/aishell/asr1/exp)"
        )


def check_test_sets(rows, test_sets, expdir):
    """Refuse (DataError) test sets that no scored decoding has (once one is scored)."""
    scored = sorted({s for row in rows for s in row.results})
    unknown = [s for s in test_sets if s not in scored]
    if rows and unknown:
        raise DataError(
            f"--test_sets: no experiment in {expdir} has scored "
            + ", ".join(f"'{s}'" for s in unknown)
            + f"; the scored test sets: {' '.join(scored)}"
        )


def summary(expdir, test_sets):
    """The summary's text (Markdown)."""
    check_expdir(expdir)
    rows = collect(expdir)
    check_test_sets(rows, test_sets, expdir)
    text = f"{TITLE}{expdir}\n\n" + table(rows, test_sets)
    if rows:
        text += "\n\n" + significance.LEGEND
    else:
        text += "\n\n(no scored experiment yet: run stages 7 and 8)"
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m local.summary",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("expdir")
    parser.add_argument("--test_sets", default="", help="columns, in order (default: all found)")
    parser.add_argument("--out", help="also write the table (Markdown) here")
    args = parser.parse_args(argv)
    try:
        text = summary(args.expdir, args.test_sets.split())
        if args.out:
            write_text(args.out, text + "\n", owned=owned.starts_with(TITLE))
    except (DataError, OutputError) as e:
        sys.exit(f"summary: error: {e}")
    except OSError as e:
        sys.exit(f"summary: error: {e.filename}: {e.strerror}")
    print(text)


if __name__ == "__main__":
    main()
