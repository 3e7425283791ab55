"""The seed's two CER tables, regenerated from the experiments of both recipes.

    python -m local.report.seed_tables [--aishell egs2/aishell/asr1]
                                [--wenetspeech egs2/wenetspeech/asr1] [--out tables.md]

Aishell table: rows are frontend + training data, columns dev / test. WenetSpeech
table: columns dev / test_net / test_meeting. Every scored decoding of every
experiment of both recipes is a row of each table whose test sets it decoded: a
model of one recipe appears in the other corpus's table through the test sets it
imported (`--test_sets ../../<corpus>/asr1/data/<set>`, named `<corpus>_<set>`).
Each cell is `ours ±h / published (difference)` where the training data is the
published row's (a model of egs2/aishell or egs2/wenetspeech; a mini recipe's
model stands alone); ±h is half the width of the 95 % bootstrap interval of our
CER. The last column gives, for each SSL row, the p value of the MAPSSWE test
against the FBank row trained on the same data, per test set, starred where
significant (local.report.significance). Published rows that no experiment
matches are listed as not trained, with `-` for ours. Nothing is estimated:
a number is there only if its result.txt is.
"""

import argparse
import os
import sys
from pathlib import Path

from fileio.atomic import OutputError, write_text
from fileio.kaldi_table import DataError
from local.data.import_test_set import corpus_of
from local.report import owned, significance
from local.report.experiments import (
    Row,
    experiment_folders,
    frontend_name,
    read_config,
    train_set,
)
from local.report.results import markdown_table, scored_sets, sum_avg

TITLE = "## Aishell-1 test sets"  # the first line of the tables
# The published numbers (TencentGameMate/chinese_speech_pretrain README), keyed by
# (frontend, training data); None where the seed gives no number.
AISHELL_COLUMNS = ["dev", "test"]
WENETSPEECH_COLUMNS = ["dev", "test_net", "test_meeting"]
SEED_AISHELL = {
    ("fbank", "Aishell 178h"): [4.4, 4.7],
    ("fbank", "WenetSpeech 10000h"): [None, 3.9],
    ("wav2vec2-base", "Aishell 178h"): [4.2, 4.7],
    ("wav2vec2-large", "Aishell 178h"): [3.8, 4.1],
    ("hubert-base", "Aishell 178h"): [4.1, 4.3],
    ("hubert-large", "Aishell 178h"): [3.1, 3.3],
}
SEED_WENETSPEECH = {
    ("fbank", "WenetSpeech 100h"): [17.4, 22.6, 32.7],
    ("fbank", "WenetSpeech 1000h"): [11.6, 14.6, 22.4],
    ("fbank", "WenetSpeech 10000h"): [9.7, 8.9, 15.9],
    ("wav2vec2-base", "WenetSpeech 100h"): [13.1, 16.1, 25.5],
    ("wav2vec2-large", "WenetSpeech 100h"): [11.7, 13.8, 25.5],
    ("hubert-base", "WenetSpeech 100h"): [12.6, 14.7, 21.3],
    ("hubert-large", "WenetSpeech 100h"): [10.0, 10.2, 14.5],
}
TRAINING_DATA = {
    ("aishell", "train"): "Aishell 178h",
    ("wenetspeech", "train_s"): "WenetSpeech 100h",
    ("wenetspeech", "train_m"): "WenetSpeech 1000h",
    ("wenetspeech", "train_l"): "WenetSpeech 10000h",
}


def training_data(config, corpus, exp):
    """`Aishell 178h` for the full training set of egs2/aishell, else `<corpus> <set>`
    (the mini recipes' models are never compared with the published numbers)."""
    name = train_set(config, exp)
    base = name[: -len("_sp")] if name.endswith("_sp") else name
    return TRAINING_DATA.get((corpus, base), f"{corpus} {name}")


def experiment_rows(recipe, columns, set_prefix):
    """[Row] of a recipe's scored decodings that have some of the columns.

    set_prefix "" reads the recipe's own sets; "aishell_" the ones it imported."""
    rows = []
    corpus = corpus_of(recipe)
    for exp in experiment_folders(Path(recipe) / "exp"):
        config = read_config(exp)
        if config is None:
            continue
        for decoding, sets in scored_sets(exp).items():
            results = {c: sets[set_prefix + c] for c in columns if set_prefix + c in sets}
            if results:
                rows.append(
                    Row(
                        f"{corpus}/{exp.name}",
                        decoding.name,
                        frontend_name(config, recipe),
                        training_data(config, corpus, exp),
                        results,
                    )
                )
    return rows


def cell(ours, published, result_txt=None):
    if ours is None:
        return "-" if published is None else f"- / {published}"
    shown = significance.with_interval(f"{ours:.1f}", result_txt)
    if published is None:
        return shown
    return f"{shown} / {published} ({ours - published:+.1f})"


def table(rows, seed, columns):
    header = ["frontend", "training data", "experiment", "decoding"]
    header += [f"{c} (ours / seed)" for c in columns]
    header.append(f"p vs FBank ({' / '.join(columns)})")
    body, seen = [], set()
    for row in rows:
        published = seed.get((row.frontend, row.training), [None] * len(columns))
        seen.add((row.frontend, row.training))
        cells = []
        for column, number in zip(columns, published):
            result = row.results.get(column)
            ours = float(sum_avg(result)[6]) if result else None
            cells.append(cell(ours, number, result))
        body.append(
            [row.frontend, row.training, row.experiment, row.decoding, *cells]
            + [significance.versus_fbank(rows, row, columns)]
        )
    for (frontend, data), published in seed.items():
        if (frontend, data) not in seen:
            body.append(
                [frontend, data, "not trained", "-"] + [cell(None, p) for p in published] + ["-"]
            )
    return markdown_table(header, body)


def corpus_prefix(recipe):
    """The prefix of a recipe's test sets imported elsewhere (local.data.import_test_set)."""
    return corpus_of(recipe) + "_"


def tables(aishell, wenetspeech):
    aishell_rows = experiment_rows(aishell, AISHELL_COLUMNS, "")
    aishell_rows += experiment_rows(wenetspeech, AISHELL_COLUMNS, corpus_prefix(aishell))
    wenet_rows = experiment_rows(wenetspeech, WENETSPEECH_COLUMNS, "")
    wenet_rows += experiment_rows(aishell, WENETSPEECH_COLUMNS, corpus_prefix(wenetspeech))
    aishell, wenetspeech = os.path.relpath(aishell), os.path.relpath(wenetspeech)
    return (
        f"## Aishell-1 test sets, CER (%)  [{aishell}]\n\n"
        + table(aishell_rows, SEED_AISHELL, AISHELL_COLUMNS)
        + f"\n\n## WenetSpeech test sets, CER (%)  [{wenetspeech}]\n\n"
        + table(wenet_rows, SEED_WENETSPEECH, WENETSPEECH_COLUMNS)
        + "\n\n"
        + significance.LEGEND
        + "\n"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m local.seed_tables",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root = Path(__file__).resolve().parents[2]
    parser.add_argument(
        "--aishell",
        default=root / "egs2/aishell/asr1",
        help="recipe folder in the Aishell role [%(default)s]",
    )
    parser.add_argument(
        "--wenetspeech",
        default=root / "egs2/wenetspeech/asr1",
        help="recipe folder in the WenetSpeech role [%(default)s]",
    )
    parser.add_argument("--out", help="also write the tables (Markdown) here")
    args = parser.parse_args(argv)
    try:
        for recipe in (args.aishell, args.wenetspeech):
            if not Path(recipe).is_dir():
                raise DataError(f"{recipe}: no such recipe folder")
            if not any((Path(recipe) / name).exists() for name in ("run.sh", "asr.sh", "exp")):
                raise DataError(f"{recipe}: not a recipe folder (no run.sh, asr.sh or exp/)")
        text = tables(Path(args.aishell), Path(args.wenetspeech))
        if args.out:
            write_text(args.out, text, owned=owned.starts_with(TITLE))
    except (DataError, OutputError) as e:
        sys.exit(f"seed_tables: error: {e}")
    except OSError as e:
        sys.exit(f"seed_tables: error: {e.filename}: {e.strerror}")
    print(text, end="")


if __name__ == "__main__":
    main()
