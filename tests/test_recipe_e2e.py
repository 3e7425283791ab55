"""Every stage of the shared driver on a few utterances with tiny models."""
import zipfile

import pytest

from conftest import run
from local.datadir import read_table
from recipe import DRIVER_ARGS, make_recipe, mini_subset


@pytest.fixture(scope="module")
def finished_recipe(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    corpus = mini_subset(tmp / "corpus", {"S0001": 24, "S0002": 24, "S0010": 6, "S0012": 6})
    folder, env = make_recipe(tmp / "asr1", corpus)
    proc = run(["./asr.sh", *DRIVER_ARGS, "--speed_perturb_factors", "0.9 1.0 1.1"],
               cwd=folder, check=False, **env)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return folder, env, proc


def test_all_stages_produce_their_outputs(finished_recipe):
    folder, _, proc = finished_recipe
    for stage in range(1, 11):
        assert f"Stage {stage}:" in proc.stderr
    assert len(read_table(folder / "dump/raw/train_sp/wav.scp")) == 48 * 3
    assert read_table(folder / "data/train_sp/utt2spk")["sp0.9-MZH000S0001W0001"] == "sp0.9-S0001"
    exp = folder / "exp/asr_train_asr_tiny_sp"
    decode = exp / "decode_decode_tiny_lm_train_lm_tiny_valid.acc.ave_2best"
    for dset, n in (("dev", 6), ("test", 6)):
        assert len(read_table(decode / dset / "text", allow_empty_value=True)) == n
        result = (decode / dset / "score_cer/result.txt").read_text()
        assert "Sum/Avg" in result and "DUMP OF SYSTEM ALIGNMENT STRUCTURE" in result
    results = (exp / "RESULTS.md").read_text()
    for needle in ("torch: 2.8.0", "espnet: 202511", "- git:", "./asr.sh --train_set train",
                   "|dev|6|", "|test|6|", "LM perplexity on dev"):
        assert needle in results, needle
    summary = (folder / "exp/summary.md").read_text()
    assert "| experiment | decoding | dev | test |".replace(" ", "") in summary.replace(" ", "")
    assert "train_asr_tiny_sp" in summary
    with zipfile.ZipFile(exp / "packed/asr_train_asr_tiny_sp.zip") as packed:
        names = packed.namelist()
    assert any(n.endswith("valid.acc.ave_2best.pth") for n in names)
    assert any(n.endswith("RESULTS.md") for n in names)
    for log in ("exp/log/data_prep.log", "exp/log/dump_train_sp/dump.1.log",
                "exp/lm_train_lm_tiny/log/train.log", "exp/asr_train_asr_tiny_sp/log/train.log",
                f"{decode.relative_to(folder)}/test/log/inference.2.log"):
        assert (folder / log).is_file(), log


def test_rerun_skips_finished_stages(finished_recipe):
    folder, env, _ = finished_recipe
    dumped = folder / "dump/raw/train_sp/wav.scp"
    before = dumped.stat().st_mtime_ns
    proc = run(["./asr.sh", *DRIVER_ARGS, "--speed_perturb_factors", "0.9 1.0 1.1",
                "--stop_stage", "7"], cwd=folder, **env)
    assert proc.stderr.count("already done") >= 9
    assert "espnet2.bin" not in proc.stderr
    assert dumped.stat().st_mtime_ns == before


def test_failing_stage_stops_with_its_log(finished_recipe):
    folder, env, _ = finished_recipe
    proc = run(["./asr.sh", *DRIVER_ARGS, "--stage", "6", "--stop_stage", "7",
                "--asr_tag", "broken", "--asr_args", "--no_such_option 1"],
               cwd=folder, check=False, **env)
    assert proc.returncode != 0
    assert "exp/asr_broken/log/train.log" in proc.stderr
    assert "Stage 7" not in proc.stderr


def test_ssl_frontend_from_a_fairseq_checkpoint(finished_recipe, tmp_path):
    folder, env, _ = finished_recipe
    run(["python", "-m", "frontend.make_tiny_models", str(tmp_path)])
    env = dict(env, TINY_HUBERT_LARGE=str(tmp_path / "tiny-hubert-large-fairseq-ckpt.pt"))
    proc = run(["./asr.sh", *DRIVER_ARGS, "--speed_perturb_factors", "0.9 1.0 1.1",
                "--stage", "6", "--stop_stage", "9", "--asr_config", "conf/train_asr_tiny_ssl.yaml"],
               cwd=folder, **env)
    converted = folder / "exp/ssl_models/tiny-hubert-large-fairseq-ckpt"
    assert (converted / "config.json").exists() and (converted / "fairseq_conversion.json").exists()
    exp = folder / "exp/asr_train_asr_tiny_ssl_sp"
    assert f"model_path: {converted}" in (exp / "config.yaml").read_text()
    weights = (exp / "layer_weights.txt").read_text().splitlines()
    assert len(weights) == 5  # 4 transformer layers + their input
    assert abs(sum(float(line.split()[2]) for line in weights) - 1.0) < 1e-3
    assert (exp / "layer_weights.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![layer weights](layer_weights.png)" in (exp / "RESULTS.md").read_text()
    summary = (folder / "exp/summary.md").read_text()
    assert "train_asr_tiny_ssl_sp" in summary and "train_asr_tiny_sp" in summary
    assert "layer weights:" in proc.stderr
