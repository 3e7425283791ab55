"""Bad arguments and inputs for the report tools (local.report, local/score.sh).
Shared bad inputs and checks: tests/bad_input.py."""

import shutil

import pytest

from bad_input import bad_arguments, check_refused
from conftest import ROOT, run, tool


@pytest.mark.parametrize(
    "command, message",
    [
        (["local.report.tune_table", "O", "dev"], "no scored setting"),
        (["local.report.compare", "T", "T", "T", "--seed", "-1"], "--seed"),
        (["local.report.compare", "T", "T", "T", "--resamples", "99999999999"], "--resamples"),
        (["local.report.seed_tables", "--aishell", "O", "--wenetspeech", "O"], "not a recipe"),
    ],
)
def test_bad_arguments(tmp_path, command, message):
    bad_arguments(tmp_path, command, message)


def test_tuning_settings_are_read_as_numbers_and_never_merged(tmp_path):
    ref = tmp_path / "ref"
    ref.write_text("u1 你好世界\nu2 再见朋友\n")
    hyps = {"good": "u1 你好世界\nu2 再见朋友\n", "bad": "u1 你好世\nu2 再见朋友\n"}
    for name, text in hyps.items():
        (tmp_path / name).write_text(text)
    tune = tmp_path / "tune"
    for setting, hyp in (
        ("beam10_ctc0.3_lm0.1", "bad"),
        ("beam10_ctc0.3_lm1e-1x", "bad"),
        ("beam10_ctc0.3_lm2e-1", "good"),
    ):
        run(
            [
                str(ROOT / "local/score.sh"),
                str(ref),
                str(tmp_path / hyp),
                str(tune / setting / "dev/score_cer"),
            ]
        )
    proc = tool("local.report.tune_table", tune, "dev", check=False)
    check_refused(proc, tune / "beam10_ctc0.3_lm1e-1x")  # not a number: said, not skipped
    shutil.rmtree(tune / "beam10_ctc0.3_lm1e-1x")
    proc = tool("local.report.tune_table", tune, "dev")
    assert proc.stdout.split() == ["10", "0.3", "0.2", "0.0"]  # 2e-1 is 0.2, the best
    run(
        [
            str(ROOT / "local/score.sh"),
            str(ref),
            str(tmp_path / "bad"),
            str(tune / "beam10_ctc0.30_lm0.1/dev/score_cer"),
        ]
    )
    proc = tool("local.report.tune_table", tune, "dev", check=False)
    check_refused(proc, tune / "beam10_ctc0.30_lm0.1")
    assert "the same setting twice" in proc.stderr


def test_speakers_must_cover_the_scored_utterances(tmp_path):
    (tmp_path / "ref").write_text("u1 你好\nu2 再见\n")
    (tmp_path / "hyp").write_text("u1 你好\nu2 再见\n")
    (tmp_path / "utt2spk").write_text("x1 s1\n")
    proc = run(
        [
            str(ROOT / "local/score.sh"),
            str(tmp_path / "ref"),
            str(tmp_path / "hyp"),
            "--utt2spk",
            str(tmp_path / "utt2spk"),
        ],
        check=False,
    )
    check_refused(proc, tmp_path / "utt2spk")
    assert "no speaker for 2 scored utterances, e.g. 'u1'" in proc.stderr
