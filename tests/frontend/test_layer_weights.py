"""python -m frontend.layer_weights: printed, written, never over files it did not write."""

import torch

from conftest import run

PARAMETER = "frontend.featurizer.weights"


def layer_weights_cli(*args):
    return run(["python", "-m", "frontend.layer_weights", *map(str, args)], check=False)


def one_error_line(proc, words):
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and words in errors[0], proc.stderr


def test_writes_and_rewrites_its_own_outputs_only(tmp_path):
    exp = tmp_path / "asr_x"
    exp.mkdir()
    torch.save({PARAMETER: torch.tensor([0.0, 1.0, 2.0]), "other": torch.ones(2)}, exp / "m.pth")
    proc = layer_weights_cli(exp, "--model", "m.pth")
    assert proc.returncode == 0, proc.stderr
    lines = (exp / "layer_weights.txt").read_text().splitlines()
    assert len(lines) == 3 and lines[2].startswith("layer  2  0.6652")
    assert b"frontend.layer_weights" in (exp / "layer_weights.png").read_bytes()[:4096]
    assert layer_weights_cli(exp, "--model", "m.pth").returncode == 0  # its own: replaced

    (exp / "layer_weights.txt").write_text("my notes\n")
    one_error_line(layer_weights_cli(exp, "--model", "m.pth"), "layer_weights.txt: exists")
    assert (exp / "layer_weights.txt").read_text() == "my notes\n"
    (exp / "layer_weights.txt").unlink()
    (exp / "layer_weights.png").write_bytes(b"\x89PNG\r\n\x1a\nsomeone else's plot")
    one_error_line(layer_weights_cli(exp, "--model", "m.pth"), "layer_weights.png: exists")
    assert (exp / "layer_weights.png").read_bytes().endswith(b"someone else's plot")


def test_bad_inputs_are_one_line_errors(tmp_path):
    one_error_line(layer_weights_cli(tmp_path / "nowhere"), "no such experiment folder")
    exp = tmp_path / "asr_y"
    exp.mkdir()
    one_error_line(layer_weights_cli(exp), "valid.acc.ave.pth: no such model file")
    (exp / "bad.pth").write_text("not a model")
    one_error_line(layer_weights_cli(exp, "--model", "bad.pth"), "bad.pth: not a readable")
    torch.save({"encoder.weight": torch.ones(2)}, exp / "fbank.pth")
    proc = layer_weights_cli(exp, "--model", "fbank.pth")
    assert proc.returncode == 2 and "no weighted-sum SSL frontend" in proc.stderr


def test_weights_that_are_not_one_finite_weight_per_layer_are_refused(tmp_path):
    """A diverged training (nan, inf) or a damaged file: one line, nothing written."""
    exp = tmp_path / "asr_z"
    exp.mkdir()
    for name, weights, words in (
        ("nan", torch.tensor([0.0, float("nan")]), "not finite"),
        ("inf", torch.tensor([float("inf"), 1.0]), "not finite"),
        ("empty", torch.zeros(0), "(0,), not one weight per layer"),
        ("scalar", torch.tensor(1.0), "(), not one weight per layer"),
        ("matrix", torch.ones(2, 3), "(2, 3), not one weight per layer"),
        ("number", 3, "no tensor, not one weight per layer"),
    ):
        torch.save({PARAMETER: weights}, exp / f"{name}.pth")
        proc = layer_weights_cli(exp, "--model", f"{name}.pth")
        one_error_line(proc, f"{name}.pth: {PARAMETER}")
        assert words in proc.stderr, proc.stderr
        assert sorted(p.name for p in exp.iterdir() if not p.name.endswith(".pth")) == []
