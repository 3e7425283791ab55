"""bench/gpu_check.sh keeps working: its CPU mode at tiny sizes (CI has no GPU)."""

import json

from conftest import ROOT, run


def test_gpu_check_runs_on_cpu_at_tiny_sizes(tmp_path):
    proc = run(
        ["bash", str(ROOT / "bench/gpu_check.sh"), "--device", "cpu", "--steps", "2"]
        + ["--out", str(tmp_path / "check.json")],
        cwd=tmp_path,
    )
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("s3prl_ratio=") and "fp16_err=" in last and "bf16_err=" in last
    report = json.loads((tmp_path / "check.json").read_text())
    assert report["device"] == "cpu" and report["steps"] == 2
    results = report["results"]
    assert results["float32"]["feature_rel_diff"] == 0.0 and results["float32"]["step_s"] > 0
    assert 0 < results["bfloat16"]["feature_rel_diff"] < 0.05
    assert results["s3prl"]["step_s"] > 0
    # the stock frontend sees the same weights: its features differ only by its own
    # input normalization and padding, not by a different model
    assert results["s3prl"]["feature_rel_diff"] < 0.5


def test_bad_option_is_refused():
    proc = run(["bash", str(ROOT / "bench/gpu_check.sh"), "--steps", "x"], check=False)
    assert proc.returncode == 2 and "--steps 'x'" in proc.stderr
