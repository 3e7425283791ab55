"""The seed's two CER tables, regenerated from the experiments of both recipes.

    python -m local.report.seed_tables [--aishell egs2/aishell/asr1]
                                [--wenetspeech egs2/wenetspeech/asr1] [--out tables.md]

Aishell table: rows are frontend + training data, columns dev / test. WenetSpeech
table: columns dev / test_net / test_meeting. Every scored decoding of every
experiment of both recipes is a row of each table whose test sets it decoded: a
model of one recipe appears in the other corpus's table through the test sets it
imported (`--test_sets ../../<corpus>/asr1/data/<set>`, named `<corpus>_<set>`).
Each cell is `ours / published (difference)` where the training data is the
published row's (a model of egs2/aishell or egs2/wenetspeech; a mini recipe's
model stands alone); published rows that no experiment matches are listed as not
trained, with `-` for ours. Nothing is estimated:
a number is there only if its result.txt is.
"""

import argparse
import json
import os
from pathlib import Path

import yaml

from fileio.atomic import write_text
from local.data.import_test_set import corpus_of
from local.report.results import markdown_table, scored_sets, sum_avg

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


def frontend_name(config, recipe):
    """fbank, or <model>-<base|large> of a weighted-sum SSL frontend."""
    if config.get("frontend") == "default":
        return "fbank"
    folder = Path(recipe) / ((config.get("frontend_conf") or {}).get("model_path") or "")
    try:
        hf = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        size = "large" if hf.get("do_stable_layer_norm") else "base"
        return f"{hf['model_type']}-{size}"
    except (OSError, KeyError, ValueError):
        return f"{config.get('frontend')} ({folder.name or 'unknown model'})"


def training_data(config, corpus):
    """`Aishell 178h` for the full training set of egs2/aishell, else `<corpus> <set>`
    (the mini recipes' models are never compared with the published numbers)."""
    speech = config["train_data_path_and_name_and_type"][0][0]
    train_set = Path(speech).parent.name
    base = train_set[: -len("_sp")] if train_set.endswith("_sp") else train_set
    return TRAINING_DATA.get((corpus, base), f"{corpus} {train_set}")


def experiment_rows(recipe, columns, set_prefix):
    """[(frontend, training data, experiment, decoding, {column: CER})] of a recipe.

    set_prefix "" reads the recipe's own sets; "aishell_" the ones it imported."""
    rows = []
    corpus = corpus_of(recipe)
    for exp in sorted((Path(recipe) / "exp").glob("asr_*")):
        config_file = exp / "config.yaml"
        if not config_file.is_file():
            continue
        config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
        for decoding, sets in scored_sets(exp).items():
            cers = {
                c: float(sum_avg(sets[set_prefix + c])[6])
                for c in columns
                if set_prefix + c in sets
            }
            if cers:
                rows.append(
                    (
                        frontend_name(config, recipe),
                        training_data(config, corpus),
                        f"{corpus}/{exp.name}",
                        decoding.name,
                        cers,
                    )
                )
    return rows


def cell(ours, published):
    if ours is None:
        return "-" if published is None else f"- / {published}"
    if published is None:
        return f"{ours:.1f}"
    return f"{ours:.1f} / {published} ({ours - published:+.1f})"


def table(rows, seed, columns):
    header = ["frontend", "training data", "experiment", "decoding"] + [
        f"{c} (ours / seed)" for c in columns
    ]
    body, seen = [], set()
    for frontend, data, exp, decoding, cers in rows:
        published = seed.get((frontend, data), [None] * len(columns))
        seen.add((frontend, data))
        body.append(
            [frontend, data, exp, decoding]
            + [cell(cers.get(c), p) for c, p in zip(columns, published)]
        )
    for (frontend, data), published in seed.items():
        if (frontend, data) not in seen:
            body.append([frontend, data, "not trained", "-"] + [cell(None, p) for p in published])
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
        + "\n"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
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
    text = tables(Path(args.aishell), Path(args.wenetspeech))
    if args.out:
        write_text(args.out, text)
    print(text, end="")


if __name__ == "__main__":
    main()
