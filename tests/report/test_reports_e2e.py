"""The reports of the mini recipe with two experiments (the e2e session fixtures:
FBank tiny, all stages; tiny SSL, stages 6-10 in the same folder): intervals and
p values in the summary and the seed tables, the error analysis in RESULTS.md,
and one figure with the layer weights."""

import re

import pytest

from conftest import run
from local.report import compare, significance

DECODE = "decode_tiny_lm_train_lm_tiny_valid.acc.ave_2best"  # ESPnet's naming
FBANK, SSL = "train_asr_tiny_sp", "train_asr_tiny_ssl_sp"
CER = re.compile(r"\d+\.\d ±\d+\.\d")


def expected_p_column(folder, sets):
    """The summary's p column of the SSL row, computed by local/compare.sh's code
    from the decoded texts themselves."""
    cells = []
    for dset in sets:
        data = folder / "dump/raw" / dset
        systems = compare.load(
            data / "text",
            [folder / f"exp/asr_{name}/{DECODE}/{dset}/text" for name in (FBANK, SSL)],
            [FBANK, SSL],
            data / "utt2spk",
        )
        ((_, _, result),) = compare.pairs(systems)
        cells.append(significance.p_text(result))
    return " / ".join(cells) + f" (vs {FBANK})"


def table_rows(text, first_cell):
    """{first cell: cells} of the Markdown rows whose first cell is in first_cell and
    whose decoding is stage 7's (other tests add decodings to the same experiments)."""
    rows = {}
    for line in text.splitlines():
        cells = line.split("|")
        if len(cells) > 2 and cells[1] in first_cell and cells[2] == DECODE:
            rows[cells[1]] = cells[1:-1]
    return rows


@pytest.mark.slow  # the SSL experiment (stages 6-10 again)
def test_summary_shows_intervals_and_p_values_against_fbank(ssl_experiment):
    folder, _, proc = ssl_experiment
    summary = (folder / "exp/summary.md").read_text(encoding="utf-8")
    rows = table_rows(summary, (FBANK, SSL))
    assert table_rows(proc.stdout, (FBANK, SSL)) == rows  # printed at the end of the run
    fbank, ssl = rows[FBANK], rows[SSL]
    assert fbank[1] == ssl[1] == DECODE
    assert all(CER.fullmatch(cell) for cell in fbank[2:4] + ssl[2:4]), rows
    assert fbank[4] == "FBank"
    assert ssl[4] == expected_p_column(folder, ["dev", "test"])
    assert significance.LEGEND in summary
    # the command gives the same table
    again = run(["python", "-m", "local.summary", "exp", "--test_sets", "dev test"], cwd=folder)
    assert table_rows(again.stdout, (FBANK, SSL)) == rows


@pytest.mark.slow  # the SSL experiment (stages 6-10 again)
def test_seed_tables_show_intervals_and_p_values(ssl_experiment, tmp_path):
    folder, _, _ = ssl_experiment
    (tmp_path / "no_wenetspeech/exp").mkdir(parents=True)  # a recipe, nothing trained
    proc = run(
        ["python", "-m", "local.seed_tables", "--aishell", str(folder)]
        + ["--wenetspeech", str(tmp_path / "no_wenetspeech")]
    )
    aishell_table = proc.stdout.split("## WenetSpeech")[0]
    rows = {
        cells[3]: cells
        for cells in (line.split("|") for line in aishell_table.splitlines())
        if len(cells) > 4 and cells[3].startswith(f"{folder.name}/asr_") and cells[4] == DECODE
    }
    fbank, ssl = rows[f"{folder.name}/asr_{FBANK}"], rows[f"{folder.name}/asr_{SSL}"]
    assert fbank[1] == "fbank" and ssl[1].startswith("hubert-large")
    assert all(CER.fullmatch(cell) for cell in fbank[5:7] + ssl[5:7])  # mini: no seed number
    assert fbank[7] == "FBank"
    assert ssl[7] == expected_p_column(folder, ["dev", "test"]).replace(
        f"(vs {FBANK})", f"(vs {folder.name}/asr_{FBANK})"
    )
    assert significance.LEGEND in proc.stdout


@pytest.mark.slow  # the SSL experiment (stages 6-10 again)
def test_results_md_has_the_error_analysis(ssl_experiment):
    folder, _, _ = ssl_experiment
    for name in (FBANK, SSL):
        results = (folder / f"exp/asr_{name}/RESULTS.md").read_text(encoding="utf-8")
        for dset in ("dev", "test"):
            section = results.split(f"### Error analysis: {dset}\n")[1].split("\n### ")[0]
            for heading in (
                "#### Most frequent substitutions",
                "#### Most often deleted characters",
                "#### Most often inserted characters",
                "#### CER by utterance duration",
                "#### CER by speaker",
            ):
                assert heading in section, (name, dset, heading)
            analysis = (folder / f"exp/asr_{name}/{DECODE}/{dset}/score_cer/analysis.md").read_text(
                encoding="utf-8"
            )
            assert analysis.split("\n", 1)[1].strip().replace("\n## ", "\n#### ") in section
            # 6 utterances of 1-3 s each, durations from dump/raw/<set>/utt2num_samples
            buckets = re.findall(r"^\| (\d+-\d+) \| (\d+) \|", section, re.M)
            assert buckets and sum(int(n) for _, n in buckets) == 6, section
            assert "| unknown |" not in section and "durations unknown" not in section


@pytest.mark.slow  # the SSL experiment (stages 6-10 again)
def test_one_figure_with_the_layer_weights_of_the_ssl_experiment(ssl_experiment):
    folder, _, proc = ssl_experiment
    figure = folder / "exp/layer_weights.png"
    data = figure.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and b"local.report.layer_weights_figure" in data
    assert f"{figure.relative_to(folder)}: layer weights of {SSL}\n" in proc.stderr
