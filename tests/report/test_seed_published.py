"""The seed's published CERs are kept in each recipe's local/seed_table.yaml (what
local.report.seed_tables reads); the recipe's RESULTS.md shows them under
'## Published by the seed'. The two must say the same: every row in the same order,
every number, the frontends and training data under the YAML's names."""

import pytest

from conftest import ROOT
from local.report.seed_tables import seed_tables

HEADING = "## Published by the seed"
SEEDS = {seed.corpus: seed for seed in seed_tables(ROOT)}


def published_section(text):
    """The text from HEADING to the next `## ` heading (or the end)."""
    assert HEADING in text, f"no section '{HEADING}'"
    return text.split(HEADING, 1)[1].split("\n## ", 1)[0]


def published_rows(text, columns):
    """[[frontend, training data, CER or None per column]] of the section's Markdown
    table, in its order; its other columns (config) are left out."""
    lines = [line.strip() for line in published_section(text).splitlines()]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines if line[:1] == "|"]
    assert len(cells) > 2, "no Markdown table in the section"
    header, body = cells[0], cells[2:]  # cells[1]: the |---| line
    wanted = ["frontend", "training data", *columns]
    assert all(name in header for name in wanted), f"header {header}: needs {wanted}"
    rows = []
    for row in body:
        assert len(row) == len(header), f"row {row}: {len(header)} cells needed"
        picked = [row[header.index(name)] for name in wanted]
        rows.append(picked[:2] + [None if c == "-" else float(c) for c in picked[2:]])
    return rows


def yaml_rows(seed):
    return [[frontend, data, *cers] for (frontend, data), cers in seed.published.items()]


def results_text(corpus):
    return (ROOT / f"egs2/{corpus}/asr1/RESULTS.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("corpus", sorted(SEEDS))
def test_results_md_shows_the_yaml_published_rows(corpus):
    seed = SEEDS[corpus]
    text = results_text(corpus)
    assert published_rows(text, seed.columns) == yaml_rows(seed)
    assert "`local/seed_table.yaml`" in published_section(text)  # says where they are kept


def test_published_training_data_are_training_sets_of_a_recipe():
    """The builder matches a published row by the name a recipe's training_data gives
    its training set: a name no recipe gives would never be matched."""
    names = {name for seed in SEEDS.values() for name in seed.training_data.values()}
    for seed in SEEDS.values():
        for _, data in seed.published:
            assert data in names, f"{seed.corpus}: {data!r} is no recipe's training set name"


@pytest.mark.parametrize(
    "old, new",
    [
        ("| 4.4 | 4.7 |", "| 4.4 | 4.8 |"),  # a number
        ("| 4.4 | 4.7 |", "| - | 4.7 |"),  # a number dropped
        ("| fbank | Aishell 178h |", "| fbank | Aishell-1 train, 178 h |"),  # a name
        ("| hubert-large | Aishell 178h |", "| chinese-hubert-large | Aishell 178h |"),
    ],
)
def test_a_drifted_results_md_is_seen(old, new):
    text = results_text("aishell")
    assert text.count(old) == 1
    seed = SEEDS["aishell"]
    assert published_rows(text.replace(old, new), seed.columns) != yaml_rows(seed)


def test_a_row_left_out_or_moved_is_seen():
    text = results_text("aishell")
    row = next(line for line in text.splitlines() if line.startswith("| wav2vec2-large |"))
    seed = SEEDS["aishell"]
    left_out = text.replace(row + "\n", "")
    moved = left_out + row + "\n"  # the last row now
    for changed in (left_out, moved):
        assert published_rows(changed, seed.columns) != yaml_rows(seed)
