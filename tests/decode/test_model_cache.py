"""The conversion cache of fairseq checkpoints (frontend.models.resolve): converted
again when the checkpoint changes, and once when several jobs ask at the same time."""

import shutil
import subprocess

import torch
from safetensors.torch import load_file

from conftest import project_env
from frontend.make_tiny_models import make
from frontend.models import resolve


def test_a_changed_checkpoint_is_converted_again(tmp_path):
    for seed, name in ((0, "a"), (1, "b")):
        make("hubert", "large", tmp_path / name, seed=seed)
    location = tmp_path / "model.pt"
    shutil.copy(tmp_path / "a/tiny-hubert-large-fairseq-ckpt.pt", location)
    first = resolve(location, tmp_path / "cache")
    weights_a = load_file(first / "model.safetensors")
    shutil.copy(tmp_path / "b/tiny-hubert-large-fairseq-ckpt.pt", location)  # replaced
    again = resolve(location, tmp_path / "cache")
    assert again == first
    weights = load_file(again / "model.safetensors")
    expected = load_file(tmp_path / "b/tiny-hubert-large/model.safetensors")
    name = "encoder.layers.0.attention.q_proj.weight"
    torch.testing.assert_close(weights[name], expected[name])
    assert not torch.equal(weights[name], weights_a[name])


def test_jobs_asking_at_once_convert_once_and_share_the_result(tmp_path):
    make("hubert", "large", tmp_path / "models")
    location = tmp_path / "models/tiny-hubert-large-fairseq-ckpt.pt"
    jobs = [
        subprocess.Popen(
            ["python", "-m", "frontend.models", str(location), str(tmp_path / "cache")],
            env=project_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [job.communicate(timeout=300) for job in jobs]
    assert [job.returncode for job in jobs] == [0, 0, 0], outputs
    folders = {out.strip() for out, _ in outputs}
    assert folders == {str((tmp_path / "cache/tiny-hubert-large-fairseq-ckpt").resolve())}
    conversions = sum(f"{location} -> " in err for _, err in outputs)
    assert conversions == 1  # the others waited for the lock and found it done
