"""An experiment's results as an entry of its recipe's RESULTS.md (results_entry), on
a generated exp folder scored by the real scorer and reported by stage 8's tool."""

import pytest

from conftest import tool
from local.report import results_entry
from local.report.score import score_files

REFS = {f"S01-u{i}": "他是老师我在市场" for i in range(6)}
HYPS = {  # decoding a: homophones only (CER > 0, tone-less syllables right); b: worse,
    # in a folder named as before ESPnet's naming (decode_decode_*): reported all the same
    "decode_a_valid.acc.ave": {u: "他事老师我再市场" for u in REFS},
    "decode_decode_b_valid.acc.ave": {u: "他事老师" for u in REFS},
}


def write_table(path, table):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k} {v}\n" for k, v in table.items()), encoding="utf-8")


def stage8_results(exp):
    tool(
        "local.report.results",
        "--exp",
        exp,
        "--asr_config",
        "conf/train_asr.yaml",
        "--inference_config",
        "conf/decode_a.yaml",
        "--use_lm",
        "false",
        "--out",
        exp / "RESULTS.md",
    )


@pytest.fixture
def recipe(tmp_path):
    """A recipe folder with exp/asr_x: two decodings of dev and test, scored, and the
    RESULTS.md of stage 8."""
    exp = tmp_path / "exp/asr_x"
    write_table(tmp_path / "ref", REFS)
    for decoding, hyps in HYPS.items():
        for dset in ("dev", "test"):
            folder = exp / decoding / dset
            write_table(folder / "text", hyps)
            score_files(tmp_path / "ref", folder / "text", folder / "score_cer")
            (folder / "command").write_text(f"./asr.sh --stage 7 --inference_config {decoding}\n")
    (exp / "train_command").write_text("./asr.sh --asr_config conf/train_asr.yaml\n")
    stage8_results(exp)
    return tmp_path, exp


def entry(recipe, *options, check=True):
    folder, _ = recipe
    return tool("local.report.results_entry", "exp/asr_x", *options, cwd=folder, check=check)


def test_stage8_results_show_the_pinyin_rates_beside_the_cer(recipe):
    _, exp = recipe
    text = (exp / "RESULTS.md").read_text(encoding="utf-8")
    assert "### Pinyin syllable error rate" in text
    # decoding a: 2 of 8 characters wrong, both homophones: 25 % CER, 0 % as syllables
    assert "|dev|characters (CER)|6|48|75.0|25.0|0.0|0.0|25.0|100.0|" in text
    assert "|dev|pinyin without tones|6|48|100.0|0.0|0.0|0.0|0.0|0.0|" in text
    assert "|dev|pinyin with tones|6|48|100.0|0.0|0.0|0.0|0.0|0.0|" in text
    assert "- machine (stage 8): " in text and "CPU cores" in text
    assert "## Training\n\n```sh\n./asr.sh --asr_config conf/train_asr.yaml\n```" in text


def test_entry_holds_the_cer_with_intervals_commands_revision_and_machine(recipe):
    folder, _ = recipe
    proc = entry(recipe, "--machine", "4 x A100")
    text = (folder / "RESULTS.md").read_text(encoding="utf-8")
    assert "RESULTS.md: the entry of asr_x @ " in proc.stdout
    assert text.count("### asr_x\n") == 1
    assert "- machine: 4 x A100" in text
    assert "|decoding|dev|test|" in text
    # every utterance alike: the bootstrap interval has no width
    assert "|decode_a_valid.acc.ave|25.0 ±0.0|25.0 ±0.0|" in text
    assert "|decode_decode_b_valid.acc.ave|62.5 ±0.0|62.5 ±0.0|" in text
    assert "|decode_a_valid.acc.ave|0.0 / 0.0|0.0 / 0.0|" in text  # pinyin: no / with tones
    assert "|decode_decode_b_valid.acc.ave|50.0 / 50.0|50.0 / 50.0|" in text
    assert "```sh\n./asr.sh --asr_config conf/train_asr.yaml\n```" in text
    assert "./asr.sh --stage 7 --inference_config decode_decode_b_valid.acc.ave" in text
    assert "- revision: " in text and "#### " in text


def test_an_entry_is_never_written_twice_nor_others_dropped(recipe):
    folder, exp = recipe
    out = folder / "RESULTS.md"
    out.write_text(
        "# Results\n\nintro\n\n" + results_entry.ANCHOR + "\n\n### older\n\nkept\n\n"
        "## Published by the seed\n\n|a|b|\n",
        encoding="utf-8",
    )
    entry(recipe)
    first = out.read_text(encoding="utf-8")
    proc = entry(recipe, check=False)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "already holds the entry of asr_x @" in proc.stderr
    assert "--replace" in proc.stderr
    assert out.read_text(encoding="utf-8") == first
    entry(recipe, "--replace", "--machine", "another")
    replaced = out.read_text(encoding="utf-8")
    assert replaced.count("### asr_x\n") == 1 and "- machine: another" in replaced
    assert replaced == first.replace(
        first[first.index("- machine: ") : first.index("\n", first.index("- machine: "))],
        "- machine: another",
    )
    # a new revision is a new entry, above the older ones; nothing else changes
    results_md = exp / "RESULTS.md"
    text = results_md.read_text(encoding="utf-8")
    line = next(x for x in text.splitlines() if x.startswith("- git: "))
    results_md.write_text(text.replace(line, "- git: 0123abc"), encoding="utf-8")
    entry(recipe)
    both = out.read_text(encoding="utf-8")
    assert both.count("### asr_x\n") == 2
    older = first[first.index("<!-- results_entry asr_x @ ") :].split("\n")[0]
    assert both.index("<!-- results_entry asr_x @ 0123abc -->") < both.index(older)
    assert "\n\n\n" not in both
    for kept in ("# Results\n\nintro\n", "### older\n\nkept\n", "## Published by the seed\n"):
        assert kept in both
    assert both.index("### asr_x") < both.index("### older") < both.index("## Published")


def test_a_file_without_entries_keeps_its_text_and_gets_them_at_the_end(recipe):
    folder, _ = recipe
    (folder / "RESULTS.md").write_text("# Results of x\n\nsome text\n", encoding="utf-8")
    entry(recipe)
    text = (folder / "RESULTS.md").read_text(encoding="utf-8")
    assert text.startswith("# Results of x\n\nsome text\n\n" + results_entry.ANCHOR + "\n")
    entry(recipe, "--replace")
    assert text == (folder / "RESULTS.md").read_text(encoding="utf-8")


def test_bad_experiments_are_one_line_errors(recipe):
    folder, exp = recipe
    proc = tool("local.report.results_entry", "exp/none", cwd=folder, check=False)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1
    assert "exp/none/RESULTS.md: not found (run stage 8 first)" in proc.stderr
    (exp / "RESULTS.md").write_text("# something else\n", encoding="utf-8")
    proc = entry(recipe, check=False)
    assert proc.returncode == 1 and "not a RESULTS.md of stage 8" in proc.stderr
    proc = entry(recipe, "--out", "exp", check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert not (folder / "RESULTS.md").exists()


def test_help():
    proc = tool("local.report.results_entry", "--help")
    assert "icefall" in proc.stdout and "--replace" in proc.stdout
