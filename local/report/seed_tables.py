"""The seed's CER tables, regenerated from the experiments of the recipes.

    python -m local.report.seed_tables [--aishell egs2/aishell/asr1]
                                [--wenetspeech egs2/wenetspeech/asr1] [--out tables.md]

One table per corpus whose recipe describes one in egs2/<corpus>/asr1/local/
seed_table.yaml (its test-set columns, its training sets under the published
rows' names, the seed's published CERs; Aishell: dev / test, WenetSpeech: dev /
test_net / test_meeting), in the order of the corpus names; option --<corpus> names
the recipe folder in that role. Rows are frontend + training data. Every scored
decoding of every experiment of these recipes is a row of each table whose test
sets it decoded: a model of one recipe appears in another corpus's table through
the test sets it imported (`--test_sets ../../<corpus>/asr1/data/<set>`, named
`<corpus>_<set>`). Each cell is `ours ±h / published (difference)` where the
training data is the published row's (a model of egs2/aishell or egs2/wenetspeech;
a mini recipe's model stands alone); ±h is half the width of the 95 % bootstrap
interval of our CER. The last column gives, for each SSL row, the p value of the
MAPSSWE test against the FBank row trained on the same data, per test set, starred
where significant (local.report.significance). Published rows that no experiment
matches are listed as not trained, with `-` for ours. Nothing is estimated: a
number is there only if its result.txt is.
"""

import argparse
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from fileio.atomic import OutputError, write_text
from fileio.kaldi_table import DataError
from fileio.yaml_file import read_yaml
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

ROOT = Path(__file__).resolve().parents[2]
TABLE_FILE = "local/seed_table.yaml"  # a recipe's description of its seed table
KEYS = ("name", "title", "columns", "training_data", "published")


@dataclass
class SeedTable:
    """A corpus's seed table, as its recipe's local/seed_table.yaml describes it."""

    corpus: str  # of egs2/<corpus>/asr1; the command's option --<corpus>
    name: str  # the role, in the help
    title: str  # the table's heading
    columns: list  # test sets
    training_data: dict  # training set (without _sp) -> the published rows' name
    published: dict  # (frontend, training data) -> [CER or None per column]


def read_seed_table(path):
    """The SeedTable of a seed_table.yaml; DataError naming the file when it is wrong."""
    doc = read_yaml(path)
    missing = [k for k in KEYS if k not in doc] if isinstance(doc, dict) else list(KEYS)
    if missing:
        raise DataError(f"{path}: not a seed table (no {', '.join(missing)})")
    columns, training = doc["columns"], doc["training_data"]
    if not (isinstance(columns, list) and columns and all(isinstance(c, str) for c in columns)):
        raise DataError(f"{path}: columns: a list of test set names is needed")
    if not isinstance(training, dict):
        raise DataError(f"{path}: training_data: a mapping of training sets to names is needed")
    published = {}
    for row in doc["published"] or []:
        if not (
            isinstance(row, list)
            and len(row) == 2 + len(columns)
            and all(isinstance(x, str) for x in row[:2])
            and all(x is None or is_number(x) for x in row[2:])
        ):
            raise DataError(
                f"{path}: published: {row!r} is not [frontend, training data, "
                f"{len(columns)} CERs (null for none)]"
            )
        published[row[0], row[1]] = row[2:]
    return SeedTable(
        corpus=Path(path).parents[2].name,  # egs2/<corpus>/asr1/local/seed_table.yaml
        name=str(doc["name"]),
        title=str(doc["title"]),
        columns=columns,
        training_data={str(k): str(v) for k, v in training.items()},
        published=published,
    )


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def seed_tables(root=None):
    """[SeedTable] of every recipe under root/egs2 (the project's) that has one, by
    corpus name."""
    root = root or ROOT
    paths = sorted(Path(root).glob(f"egs2/*/asr1/{TABLE_FILE}"))
    if not paths:
        raise DataError(f"{root}/egs2: no recipe has a seed table (asr1/{TABLE_FILE})")
    return [read_seed_table(path) for path in paths]


def training_data(config, corpus, exp, training):
    """The published rows' name of a training set of the corpus's recipe (its seed
    table's training_data), else `<corpus> <set>` (the mini recipes' models are never
    compared with the published numbers). training: {corpus: {training set: name}}."""
    name = train_set(config, exp)
    base = name[: -len("_sp")] if name.endswith("_sp") else name
    return training.get(corpus, {}).get(base, f"{corpus} {name}")


def experiment_rows(recipe, columns, set_prefix, training):
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
                        training_data(config, corpus, exp, training),
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


def table(rows, published_rows, columns):
    """A seed table: every row, then the published rows that no row matches;
    published_rows: {(frontend, training data): [CER or None per column]}."""
    header = ["frontend", "training data", "experiment", "decoding"]
    header += [f"{c} (ours / seed)" for c in columns]
    header.append(f"p vs FBank ({' / '.join(columns)})")
    body, seen = [], set()
    for row in rows:
        published = published_rows.get((row.frontend, row.training), [None] * len(columns))
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
    for (frontend, data), published in published_rows.items():
        if (frontend, data) not in seen:
            body.append(
                [frontend, data, "not trained", "-"] + [cell(None, p) for p in published] + ["-"]
            )
    return markdown_table(header, body)


def corpus_prefix(recipe):
    """The prefix of a recipe's test sets imported elsewhere (local.data.import_test_set)."""
    return corpus_of(recipe) + "_"


def tables(recipes, seeds):
    """The Markdown of every seed table; recipes: {corpus: the recipe folder in its role}."""
    training = {seed.corpus: seed.training_data for seed in seeds}
    parts = []
    for seed in seeds:
        recipe = recipes[seed.corpus]
        rows = experiment_rows(recipe, seed.columns, "", training)
        for other in seeds:  # the other recipes' decodings of this corpus's test sets
            if other is not seed:
                prefix = corpus_prefix(recipe)
                rows += experiment_rows(recipes[other.corpus], seed.columns, prefix, training)
        parts.append(
            f"## {seed.title}, CER (%)  [{os.path.relpath(recipe)}]\n\n"
            + table(rows, seed.published, seed.columns)
        )
    return "\n\n".join(parts) + "\n\n" + significance.LEGEND + "\n"


def main(argv=None):
    try:
        seeds = seed_tables()
    except DataError as e:
        sys.exit(f"seed_tables: error: {e}")
    parser = argparse.ArgumentParser(
        prog="python -m local.seed_tables",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    for seed in seeds:
        parser.add_argument(
            f"--{seed.corpus}",
            dest=seed.corpus,
            default=ROOT / "egs2" / seed.corpus / "asr1",
            help=f"recipe folder in the {seed.name} role [%(default)s]",
        )
    parser.add_argument("--out", help="also write the tables (Markdown) here")
    args = parser.parse_args(argv)
    recipes = {seed.corpus: Path(getattr(args, seed.corpus)) for seed in seeds}
    try:
        for recipe in recipes.values():
            if not recipe.is_dir():
                raise DataError(f"{recipe}: no such recipe folder")
            if not any((recipe / name).exists() for name in ("run.sh", "asr.sh", "exp")):
                raise DataError(f"{recipe}: not a recipe folder (no run.sh, asr.sh or exp/)")
        text = tables(recipes, seeds)
        if args.out:  # the first heading marks the file as ours
            write_text(args.out, text, owned=owned.starts_with(f"## {seeds[0].title}"))
    except (DataError, OutputError) as e:
        sys.exit(f"seed_tables: error: {e}")
    except OSError as e:
        sys.exit(f"seed_tables: error: {e.filename}: {e.strerror}")
    print(text, end="")


if __name__ == "__main__":
    main()
