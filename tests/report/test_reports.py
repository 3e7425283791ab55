"""The report tools on made-up experiments: Kaldi text conventions, the error
analysis, intervals and p values in the summary and the seed tables, the layer
weights figure, and what each tool does with bad input or foreign files."""

import random
import re
import shutil

import pytest
import yaml

from conftest import ROOT, run, tool
from local.report import compare, significance
from local.report.experiments import Row
from local.report.score import score_files

PNG = b"\x89PNG\r\n\x1a\n"


def write_text(path, table):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "".join(f"{k} {v}\n" if v else f"{k}\n" for k, v in table.items()), encoding="utf-8"
    )


def assert_one_line_error(proc, *needles):
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


# --- a made-up recipe: FBank and SSL experiments, scored ------------------------------


def fake_recipe(root, rates=None, seed=0, utterances=150):
    """egs2-like folder: dump/raw/test, exp/asr_<name> with config.yaml and a scored
    decoding for each {name: (frontend, error rate)}; returns the folder."""
    rng = random.Random(seed)
    rates = rates or {"fbank": ("default", 0.15), "hubert": ("ssl_weighted_sum", 0.05)}
    data = root / "dump/raw/test"
    refs = {
        f"S{i % 4}-U{i:03d}": "".join(
            rng.choice("甲乙丙丁戊己庚辛") for _ in range(rng.randint(2, 12))
        )
        for i in range(utterances)
    }
    write_text(data / "text", refs)
    write_text(data / "utt2spk", {u: u.split("-")[0] for u in refs})
    write_text(data / "utt2num_samples", {u: len(t) * 3200 for u, t in refs.items()})
    for name, (frontend, rate) in rates.items():
        exp = root / f"exp/asr_{name}"
        hyps = {
            u: "".join(c if rng.random() > rate else rng.choice("甲乙丙") for c in t)
            for u, t in refs.items()
        }
        decode = exp / "decode_asr/test"
        write_text(decode / "text", hyps)
        config = {
            "frontend": frontend,
            "train_data_path_and_name_and_type": [["dump/raw/train_sp/wav.scp", "speech", "sound"]],
        }
        (exp / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
        run(
            ["bash", str(ROOT / "local/score.sh"), str(data / "text"), str(decode / "text")]
            + [str(decode / "score_cer"), "--utt2spk", str(data / "utt2spk")]
        )
    return root


# --- Kaldi text conventions ----------------------------------------------------------


def test_kaldi_variants_score_exactly_as_the_clean_files(tmp_path):
    refs = {"S1-u1": "今天 天气 很好", "S1-u2": "你好", "S2-u3": "再见 朋友"}
    hyps = {"S1-u1": "今天天汽很好", "S1-u2": "你好吗", "S2-u3": ""}
    spk = {u: u[:2] for u in refs}
    clean, kaldi = tmp_path / "clean", tmp_path / "kaldi"
    write_text(clean / "ref", refs)
    write_text(clean / "hyp", hyps)
    write_text(clean / "utt2spk", spk)
    kaldi.mkdir()
    # a BOM, tabs and a full-width space after the id, CRLF, blank lines; zero-width
    # spaces and a byte order mark inside a transcript (invisible: not characters)
    (kaldi / "ref").write_text(
        "\ufeffS1-u1\t今天\u200b天气 很好\r\n\nS1-u2\u3000你好\n  \nS2-u3 \t再见 朋友\n\n",
        encoding="utf-8",
    )
    (kaldi / "hyp").write_text(
        "\ufeff\nS1-u1\t今天天汽\u200b很好\nS1-u2  你好\ufeff吗\r\nS2-u3\t\n", "utf-8"
    )
    (kaldi / "utt2spk").write_text("\ufeffS1-u1\tS1\n\nS1-u2\u3000S1\nS2-u3 S2\n", "utf-8")
    for folder in (clean, kaldi):
        score_files(folder / "ref", folder / "hyp", folder / "out", folder / "utt2spk", "hyp")
    for name in ("ref.trn", "hyp.trn", "result.txt"):
        assert (kaldi / "out" / name).read_bytes() == (clean / "out" / name).read_bytes(), name
    tail = lambda f: (f / "out/analysis.md").read_text().split("\n", 1)[1]
    assert tail(kaldi) == tail(clean)  # the first line names the files


@pytest.mark.parametrize(
    "ref, hyp, needles",
    [
        ({"u1": "", "u2": " "}, {"u1": "你", "u2": ""}, ["ref: every reference is empty"]),
        ({"u1": "", "u2": "你好"}, {"u1": "你"}, ["hyp: the references of its 1 utterances"]),
        ({"u1": "你好"}, {}, ["hyp: no hypothesis utterance"]),
        ({}, {"u1": "你"}, ["ref: no reference utterance"]),
        ({"u1": "你好"}, {"u1": "你", "u7": "好"}, ["hyp: 1 utterances have no reference", "u7"]),
    ],
)
def test_score_refuses_input_without_a_cer(tmp_path, ref, hyp, needles):
    write_text(tmp_path / "ref", ref)
    write_text(tmp_path / "hyp", hyp)
    proc = run(["bash", str(ROOT / "local/score.sh"), "ref", "hyp"], cwd=tmp_path, check=False)
    assert_one_line_error(proc, *needles)
    assert "CER" not in proc.stdout


def test_score_names_the_file_and_line_of_bad_input(tmp_path):
    write_text(tmp_path / "ref", {"u1": "你好", "u2": "再见"})
    (tmp_path / "gbk").write_bytes("u1 你好\nu2 再见\n".encode("gbk"))
    (tmp_path / "dup").write_text("u1 你好\nu1 你\n", encoding="utf-8")
    (tmp_path / "samples").write_text("u1 many\n", encoding="utf-8")
    score = ["bash", str(ROOT / "local/score.sh"), "ref"]
    cases = [
        (["gbk"], ["gbk:1: not UTF-8"]),
        (["dup"], ["dup:2: duplicate key 'u1'"]),
        (["missing"], ["missing: no such file"]),
        (["ref", "--utt2spk", "gbk"], ["gbk:1: not UTF-8"]),
        (["ref", "out", "--durations", "samples"], ["samples: 'u1' has 'many'"]),
    ]
    for args, needles in cases:
        proc = run(score + args, cwd=tmp_path, check=False)
        assert_one_line_error(proc, *needles)


def test_ids_sclite_cannot_tell_apart_are_refused(tmp_path):
    """sclite ignores the case of ids and joins speaker and utterance with '-': two
    utterances it would take for one are an error of score.sh and compare.sh alike."""
    write_text(tmp_path / "ref", {"A1": "你好世界", "a1": "再见朋友"})
    write_text(tmp_path / "hyp", {"A1": "你好世", "a1": "再见朋友"})
    write_text(tmp_path / "joined", {"c": "你好", "b-c": "再见"})
    write_text(tmp_path / "utt2spk", {"c": "a-b", "b-c": "a"})
    write_text(tmp_path / "paren", {"u(1)": "你好世界"})
    write_text(tmp_path / "spk_paren", {"A1": "a(b", "a1": "c"})
    score, compare_sh = (["bash", str(ROOT / f"local/{name}.sh")] for name in ("score", "compare"))
    for command, needle in (
        (score + ["ref", "hyp"], "ref: utterances 'A1' and 'a1' have the same sclite id (a1)"),
        (compare_sh + ["ref", "hyp", "ref"], "ref: utterances 'A1' and 'a1'"),
        (score + ["joined", "joined", "--utt2spk", "utt2spk"], "'c' and 'b-c'"),
        (compare_sh + ["joined", "joined", "ref", "--utt2spk", "utt2spk"], "(a-b-c)"),
        (score + ["paren", "paren"], "paren: utterance 'u(1)': an id with '(' cannot be"),
        (score + ["ref", "ref", "--utt2spk", "spk_paren"], "'A1' of speaker 'a(b'"),
    ):
        assert_one_line_error(run(command, cwd=tmp_path, check=False), needle)
    # sclite folds the case of ASCII letters only: Ä and ä are two speakers
    write_text(tmp_path / "umlaut", {"Ä-1": "你好", "ä-1": "好"})
    run(score + ["umlaut", "umlaut"], cwd=tmp_path)


def test_score_replaces_only_its_own_outputs(tmp_path):
    write_text(tmp_path / "ref", {"u1": "你好"})
    write_text(tmp_path / "hyp", {"u1": "你"})
    score = ["bash", str(ROOT / "local/score.sh"), "ref", "hyp"]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine/ref.trn").write_text("my own notes\n")
    proc = run([*score, "mine"], cwd=tmp_path, check=False)
    assert_one_line_error(proc, "mine/ref.trn: exists and was not written by local/score.sh")
    assert (tmp_path / "mine/ref.trn").read_text() == "my own notes\n"
    assert sorted(p.name for p in (tmp_path / "mine").iterdir()) == ["ref.trn"]
    (tmp_path / "file").write_text("x")
    assert_one_line_error(run([*score, "file"], cwd=tmp_path, check=False), "not a folder")
    run([*score, "out"], cwd=tmp_path)
    (tmp_path / "out/result.txt").unlink()  # as if stopped before the last file
    run([*score, "out"], cwd=tmp_path)
    (tmp_path / "out/analysis.md").unlink()  # an output of a version without these
    (tmp_path / "out/.written_by").unlink()
    write_text(tmp_path / "hyp", {"u1": "你好"})
    proc = run([*score, "out"], cwd=tmp_path)  # its own outputs: replaced
    assert "CER 0.0 %" in proc.stdout and "(u1)" in (tmp_path / "out/hyp.trn").read_text()
    assert (tmp_path / "out/analysis.md").exists()

    # our analysis.md copied beside the user's files proves nothing about them
    (tmp_path / "copy").mkdir()
    shutil.copy(tmp_path / "out/analysis.md", tmp_path / "copy/analysis.md")
    (tmp_path / "copy/result.txt").write_text("my notes\n")
    (tmp_path / "copy/ref.trn").write_text("my ref\n")
    proc = run([*score, "copy"], cwd=tmp_path, check=False)
    assert_one_line_error(proc, "copy/ref.trn: exists and was not written by local/score.sh")
    assert (tmp_path / "copy/result.txt").read_text() == "my notes\n"
    assert (tmp_path / "copy/ref.trn").read_text() == "my ref\n"
    assert sorted(p.name for p in (tmp_path / "copy").iterdir()) == [
        "analysis.md",
        "ref.trn",
        "result.txt",
    ]


# --- the error analysis ----------------------------------------------------------------


def test_error_analysis_counts_pairs_characters_durations_and_speakers(tmp_path):
    data = tmp_path / "dump/raw/test"
    write_text(data / "text", {"A-1": "甲乙丙丁", "A-2": "甲乙", "B-3": "甲乙丙丁戊己庚辛"})
    write_text(data / "utt2num_samples", {"A-1": 8000, "A-2": 20000, "B-3": 200000})
    write_text(data / "utt2spk", {"A-1": "A", "A-2": "A", "B-3": "B"})
    # A-1: 乙->戊, 丁 deleted; A-2: 乙->丙; B-3: 乙->丙, 己->丙, 戊 inserted at the end
    write_text(tmp_path / "hyp", {"A-1": "甲戊丙", "A-2": "甲丙", "B-3": "甲丙丙丁戊丙庚辛戊"})
    run(
        ["bash", str(ROOT / "local/score.sh"), str(data / "text"), str(tmp_path / "hyp")]
        + [str(tmp_path / "out"), "--utt2spk", str(data / "utt2spk")]
    )
    text = (tmp_path / "out/analysis.md").read_text()
    assert "3 utterances, 14 reference characters, 6 errors (CER 42.9 %)" in text
    assert "| 乙 | 丙 | 2 |\n| 乙 | 戊 | 1 |\n| 己 | 丙 | 1 |\n\n" in text  # most frequent first
    assert "| deleted | count |\n|---|---|\n| 丁 | 1 |\n\n" in text
    assert "| inserted | count |\n|---|---|\n| 戊 | 1 |\n\n" in text
    # durations from utt2num_samples beside the reference: 0.5 s, 1.25 s, 12.5 s
    buckets = ["| 0-1 | 1 | 4 | 2 | 50.0 |", "| 1-2 | 1 | 2 | 1 | 50.0 |"]
    assert "\n".join(buckets + ["| 12-20 | 1 | 8 | 3 | 37.5 |"]) in text
    assert "| a | 2 | 6 | 3 | 50.0 |\n| b | 1 | 8 | 3 | 37.5 |" in text  # worst speaker first


def test_results_md_includes_the_error_analysis_and_keeps_foreign_files(tmp_path):
    recipe = fake_recipe(tmp_path)
    exp = recipe / "exp/asr_hubert"
    results = ["local.report.results", "--exp", str(exp), "--asr_config", "a.yaml"]
    results += ["--inference_config", "d.yaml", "--use_lm", "false"]
    tool(*results, "--out", str(exp / "RESULTS.md"))
    text = (exp / "RESULTS.md").read_text()
    for needle in (
        "### Error analysis: test",
        "#### Most frequent substitutions",
        "#### CER by utterance duration",
        "#### CER by speaker",
        "| s0 |",
    ):
        assert needle in text, needle
    tool(*results, "--out", str(exp / "RESULTS.md"))  # its own file: replaced
    (tmp_path / "notes.md").write_text("# my notes\n")
    proc = tool(*results, "--out", str(tmp_path / "notes.md"), check=False)
    assert_one_line_error(proc, "notes.md: exists and was not written by this tool")
    assert (tmp_path / "notes.md").read_text() == "# my notes\n"
    proc = tool(*results[:2], str(tmp_path / "nothere"), *results[3:], "--out", "x", check=False)
    assert_one_line_error(proc, "nothere: no such experiment folder")


# --- summary and seed tables ------------------------------------------------------------


def test_summary_shows_intervals_and_the_p_value_against_fbank(tmp_path):
    recipe = fake_recipe(tmp_path)
    proc = tool("local.summary", "exp", "--out", "exp/summary.md", cwd=recipe)
    rows = {line.split("|")[1]: line.split("|") for line in proc.stdout.splitlines()[4:6]}
    fbank_cell, hubert_cell = rows["fbank"][3], rows["hubert"][3]
    assert rows["fbank"][4] == "FBank"
    fbank = recipe / "exp/asr_fbank/decode_asr/test/score_cer/result.txt"
    hubert = recipe / "exp/asr_hubert/decode_asr/test/score_cer/result.txt"
    # the same numbers as local/compare.sh on the same texts
    systems = compare.load(
        recipe / "dump/raw/test/text",
        [p.parent.parent / "text" for p in (fbank, hubert)],
        ["fbank", "hubert"],
        recipe / "dump/raw/test/utt2spk",
    )
    compare.add_intervals(systems)
    ((_, _, result),) = compare.pairs(systems)
    for cell, system in zip((fbank_cell, hubert_cell), systems):
        cer, width = cell.split(" ±")
        assert float(cer) == pytest.approx(system.cer, abs=0.05)
        assert float(width) == pytest.approx((system.high - system.low) / 2, abs=0.05)
    assert result.differ and result.better == 1  # 15 % against 5 % errors
    assert rows["hubert"][4] == f"{result.p:.2g}* (vs fbank)"
    assert "MAPSSWE" in proc.stdout and (recipe / "exp/summary.md").read_text() == proc.stdout


def test_an_ssl_row_is_compared_with_the_fbank_row_of_its_training_data(tmp_path):
    recipe = fake_recipe(tmp_path)
    fbank, hubert = (
        recipe / f"exp/asr_{name}/decode_asr/test/score_cer/result.txt"
        for name in ("fbank", "hubert")
    )
    other_data = Row("fbank_s", "decode_a", "fbank", "train_s", {"test": fbank})
    other_decoding = Row("fbank_sp_b", "decode_b", "fbank", "train_sp", {"test": fbank})
    same_decoding = Row("fbank_sp_a", "decode_a", "fbank", "train_sp", {"test": fbank})
    ssl = Row("hubert", "decode_a", "hubert-large", "train_sp", {"dev": hubert, "test": hubert})
    rows = [other_data, other_decoding, same_decoding, ssl]
    assert significance.fbank_partner(rows, ssl) is same_decoding
    assert significance.fbank_partner(rows[:2] + [ssl], ssl) is other_decoding
    assert significance.fbank_partner([other_data, ssl], ssl) is None
    assert significance.fbank_partner(rows, same_decoding) is None
    p = significance.p_text(significance.test(fbank, hubert))
    # dev: the FBank row has no dev set; extra: neither row has it
    cells = significance.versus_fbank(rows, ssl, ["dev", "test", "extra"])
    assert cells == f"- / {p} / - (vs fbank_sp_a)" and p.endswith("*")
    assert significance.versus_fbank([other_data, ssl], ssl, ["test"]) == "-"
    assert significance.versus_fbank(rows, same_decoding, ["test"]) == "FBank"


def test_summary_of_close_systems_is_not_starred(tmp_path):
    recipe = fake_recipe(
        tmp_path, {"fbank": ("default", 0.1), "w2v": ("ssl_weighted_sum", 0.1)}, utterances=40
    )
    proc = tool("local.summary", "exp", cwd=recipe)
    row = next(line for line in proc.stdout.splitlines() if line.startswith("|w2v|"))
    p = row.split("|")[4]
    assert p.endswith(" (vs fbank)") and "*" not in p and float(p.split()[0]) > 0.05


def test_rows_scored_against_different_references_get_no_p_value(tmp_path):
    """An SSL row scored after the test set's text changed: no test, a warning naming
    both scorings, and the table still written."""
    recipe = fake_recipe(tmp_path, utterances=20)
    data, decode = recipe / "dump/raw/test", recipe / "exp/asr_hubert/decode_asr/test"
    changed = data.parent / "test_changed/text"
    lines = (data / "text").read_text(encoding="utf-8").splitlines()
    lines[3] += "甲"
    changed.parent.mkdir()
    changed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run(
        ["bash", str(ROOT / "local/score.sh"), str(changed), str(decode / "text")]
        + [str(decode / "score_cer"), "--utt2spk", str(data / "utt2spk")]
    )
    proc = tool("local.summary", "exp", cwd=recipe)
    row = next(line for line in proc.stdout.splitlines() if line.startswith("|hubert|"))
    assert row.split("|")[4] == "- (vs fbank)"
    (warning,) = [line for line in proc.stderr.splitlines() if "warning" in line]
    assert "asr_fbank/decode_asr/test/score_cer/result.txt and " in warning
    assert "asr_hubert/decode_asr/test/score_cer/result.txt: scored against different" in warning
    assert "Traceback" not in proc.stderr


def test_summary_refuses_a_folder_that_is_not_a_recipes_exp(tmp_path):
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    for folder, needle in (
        ("nothere", "nothere: no such folder"),
        ("file", "file: not a folder"),
        ("empty", "empty: no asr_* experiment in this folder"),
    ):
        assert_one_line_error(tool("local.summary", folder, cwd=tmp_path, check=False), needle)
    (tmp_path / "exp/asr_x").mkdir(parents=True)  # an experiment not yet scored
    proc = tool("local.summary", "exp", cwd=tmp_path)
    assert "no scored experiment yet" in proc.stdout


def test_summary_refuses_test_sets_no_experiment_has(tmp_path):
    recipe = fake_recipe(tmp_path, utterances=20)
    for sets, needle in (
        ("foo", "no experiment in exp has scored 'foo'; the scored test sets: test"),
        ("test tset dve", "has scored 'tset', 'dve'; the scored test sets: test"),
    ):
        proc = tool("local.summary", "exp", "--test_sets", sets, cwd=recipe, check=False)
        assert_one_line_error(proc, "summary: error: --test_sets: ", needle)
        assert proc.stdout == ""
    proc = tool("local.summary", "exp", "--test_sets", "test", cwd=recipe)
    assert proc.stdout.splitlines()[2] == "|experiment|decoding|test|p vs FBank (test)|"
    (tmp_path / "new/exp/asr_x").mkdir(parents=True)  # nothing scored: no set is known yet
    proc = tool("local.summary", "exp", "--test_sets", "foo", cwd=tmp_path / "new")
    assert "no scored experiment yet" in proc.stdout


def test_summary_names_a_broken_result_and_keeps_foreign_files(tmp_path):
    recipe = fake_recipe(tmp_path)
    (recipe / "exp/mine.md").write_text("my table\n")
    proc = tool("local.summary", "exp", "--out", "exp/mine.md", cwd=recipe, check=False)
    assert_one_line_error(proc, "exp/mine.md: exists and was not written by this tool")
    assert (recipe / "exp/mine.md").read_text() == "my table\n"
    result = recipe / "exp/asr_fbank/decode_asr/test/score_cer/result.txt"
    result.write_text("garbage\n")
    proc = tool("local.summary", "exp", cwd=recipe, check=False)
    assert_one_line_error(proc, "result.txt: no Sum/Avg row")
    (recipe / "exp/asr_fbank/config.yaml").write_text("a: [\n")
    proc = tool("local.summary", "exp", cwd=recipe, check=False)
    assert_one_line_error(proc, "asr_fbank/config.yaml:2: not valid YAML (expected the node")


def test_seed_tables_show_intervals_and_p_values(tmp_path):
    recipe = fake_recipe(tmp_path / "egs2/aishell/asr1")
    other = tmp_path / "egs2/wenetspeech/asr1"
    (other / "exp").mkdir(parents=True)  # a recipe with nothing trained yet
    proc = tool("local.seed_tables", "--aishell", str(recipe), "--wenetspeech", str(other))
    rows = {
        line.split("|")[3]: line.split("|")
        for line in proc.stdout.splitlines()
        if "aishell/asr_" in line
    }
    fbank, hubert = rows["aishell/asr_fbank"], rows["aishell/asr_hubert"]
    assert fbank[1] == "fbank" and fbank[7] == "FBank"
    # Aishell's training set: our number beside the published one; no dev set decoded
    assert fbank[2] == "Aishell 178h" and fbank[5] == "- / 4.4"
    assert re.fullmatch(r"\d+\.\d ±\d+\.\d / 4\.7 \([+-]\d+\.\d\)", fbank[6])
    assert hubert[7].startswith("- / ") and hubert[7].endswith("* (vs aishell/asr_fbank)")
    scored = recipe / "exp/asr_hubert/decode_asr/test/score_cer/result.txt"
    assert hubert[6].startswith(significance.with_interval(hubert[6].split()[0], scored))
    assert significance.LEGEND in proc.stdout
    (tmp_path / "mine.md").write_text("mine\n")
    args = ["--aishell", str(recipe), "--wenetspeech", str(other), "--out", "mine.md"]
    proc = tool("local.seed_tables", *args, cwd=tmp_path, check=False)
    assert_one_line_error(proc, "mine.md: exists and was not written by this tool")
    proc = tool("local.seed_tables", "--aishell", "nothere", cwd=tmp_path, check=False)
    assert_one_line_error(proc, "nothere: no such recipe folder")


def test_seed_tables_are_the_recipes_own(tmp_path, monkeypatch, capsys):
    """The published numbers and the table layout live in each recipe's
    local/seed_table.yaml: the shared builder makes one table (and one option) per
    recipe that has one, and names a broken file."""
    from local.report import seed_tables

    seeds = {seed.corpus: seed for seed in seed_tables.seed_tables()}
    assert list(seeds) == ["aishell", "wenetspeech"]
    assert seeds["aishell"].columns == ["dev", "test"]
    assert seeds["aishell"].published["fbank", "WenetSpeech 10000h"] == [None, 3.9]
    assert seeds["wenetspeech"].training_data == {
        "train_s": "WenetSpeech 100h",
        "train_m": "WenetSpeech 1000h",
        "train_l": "WenetSpeech 10000h",
    }
    sources = [p.read_text(encoding="utf-8") for p in (ROOT / "local/report").glob("*.py")]
    for seed in seeds.values():  # no corpus's published rows in the shared report layer
        for _, training in seed.published:
            assert not any(training in source for source in sources), training
    # a third corpus with its own table: a third option and table, its training set named
    root = tmp_path / "project"
    for corpus in ("aishell", "zz_corpus"):
        (root / f"egs2/{corpus}/asr1/local").mkdir(parents=True)
    shutil.copy(
        ROOT / "egs2/aishell/asr1/local/seed_table.yaml",
        root / "egs2/aishell/asr1/local/seed_table.yaml",
    )
    (root / "egs2/zz_corpus/asr1/local/seed_table.yaml").write_text(
        "name: ZZ\ntitle: ZZ test sets\ncolumns: [test]\ntraining_data: {train: ZZ 5h}\n"
        "published:\n  - [fbank, ZZ 5h, 9.5]\n  - [hubert-large, ZZ 5h, null]\n"
    )
    monkeypatch.setattr(seed_tables, "ROOT", root)
    zz = fake_recipe(tmp_path / "egs2/zz_corpus/asr1", utterances=20)
    aishell = tmp_path / "egs2/aishell/asr1"
    (aishell / "exp").mkdir(parents=True)
    seed_tables.main(["--aishell", str(aishell), "--zz_corpus", str(zz)])
    text = capsys.readouterr().out
    assert text.startswith("## Aishell-1 test sets, CER (%)  [")
    assert "\n## ZZ test sets, CER (%)  [" in text
    zz_table = text.split("## ZZ test sets")[1]
    assert re.search(r"\|fbank\|ZZ 5h\|zz_corpus/asr_fbank\|decode_asr\|[^|]+ / 9\.5 \(", zz_table)
    assert "|hubert-large|ZZ 5h|not trained|-|-|-|" in zz_table
    (root / "egs2/zz_corpus/asr1/local/seed_table.yaml").write_text(
        "name: ZZ\ntitle: ZZ\ncolumns: [test]\ntraining_data: {}\npublished: [[fbank, 5h]]\n"
    )
    with pytest.raises(SystemExit, match=r"zz_corpus/asr1/local/seed_table.yaml: published: "):
        seed_tables.main([])


# --- the layer weights figure -------------------------------------------------------------


def test_layer_weights_of_every_ssl_experiment_in_one_figure(tmp_path):
    exp = tmp_path / "exp"
    for name, layers in (("a", 13), ("b", 25), ("fbank", 0)):
        (exp / f"asr_{name}").mkdir(parents=True)
        if layers:
            lines = [f"layer {i:2d}  {1 / layers:.4f}  ####" for i in range(layers)]
            (exp / f"asr_{name}/layer_weights.txt").write_text("\n".join(lines) + "\n")
    proc = tool("local.report.layer_weights_figure", str(exp))
    assert proc.stdout.strip() == f"{exp / 'layer_weights.png'}: layer weights of a, b"
    figure = (exp / "layer_weights.png").read_bytes()
    assert figure.startswith(PNG) and b"local.report.layer_weights_figure" in figure
    tool("local.report.layer_weights_figure", str(exp))  # its own figure: replaced
    (tmp_path / "photo.png").write_bytes(PNG + b"not ours")
    args = ["local.report.layer_weights_figure", str(exp), "--out", str(tmp_path / "photo.png")]
    assert_one_line_error(tool(*args, check=False), "photo.png: exists and was not written")
    assert (tmp_path / "photo.png").read_bytes() == PNG + b"not ours"
    (exp / "asr_b/layer_weights.txt").write_text("layer 0 0.5\nlayer 2 0.5\n")
    proc = tool("local.report.layer_weights_figure", str(exp), check=False)
    assert_one_line_error(proc, "asr_b/layer_weights.txt:2: not a `layer 1 <weight>` line")


def test_no_figure_without_ssl_experiments(tmp_path):
    (tmp_path / "exp/asr_fbank").mkdir(parents=True)
    proc = tool("local.report.layer_weights_figure", "exp", cwd=tmp_path)
    assert "no experiment with layer weights" in proc.stdout
    assert not (tmp_path / "exp/layer_weights.png").exists()


# --- the tuning grid ------------------------------------------------------------------------


def test_tune_table_replaces_only_its_own_outputs(tmp_path):
    tune = tmp_path / "tune"
    write_text(tmp_path / "ref", {"u1": "甲乙丙丁", "u2": "甲乙"})
    for setting, hyp in (("beam10_ctc0.3_lm0.1", "甲乙丙"), ("beam10_ctc0.5_lm0.1", "甲乙丙丁")):
        write_text(tune / setting / "dev/text", {"u1": hyp, "u2": "甲乙"})
        score_files(tmp_path / "ref", tune / setting / "dev/text", tune / setting / "dev/score_cer")
    proc = tool("local.report.tune_table", str(tune), "dev")
    assert proc.stdout.strip() == "10 0.5 0.1 0.0"
    assert (tune / "grid.png").read_bytes().startswith(PNG)
    tool("local.report.tune_table", str(tune), "dev")  # its own outputs: replaced
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.figure().savefig(tune / "grid.png")  # a plot of an earlier version, without the mark
    tool("local.report.tune_table", str(tune), "dev")
    assert b"local.report.tune_table" in (tune / "grid.png").read_bytes()
    (tune / "grid.png").write_bytes(PNG + b"someone's plot")
    proc = tool("local.report.tune_table", str(tune), "dev", check=False)
    assert_one_line_error(proc, "grid.png: exists and was not written by this tool")
    assert (tune / "grid.png").read_bytes() == PNG + b"someone's plot"


def test_results_names_a_broken_input_file(tmp_path):
    recipe = fake_recipe(tmp_path)
    exp = recipe / "exp/asr_fbank"
    (exp / "decode_asr/test/rtf").write_text("rtf\n")
    args = ["local.report.results", "--exp", str(exp), "--asr_config", "a.yaml"]
    args += ["--inference_config", "d.yaml", "--use_lm", "false", "--out", str(exp / "R.md")]
    assert_one_line_error(tool(*args, check=False), "decode_asr/test/rtf:1: not an `rtf")
    assert not (exp / "R.md").exists()
