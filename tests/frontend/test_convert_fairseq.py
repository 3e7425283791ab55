"""fairseq checkpoints -> Hugging Face, without fairseq: hidden states equal fairseq's."""

import importlib.util
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

import fairseq_fixtures
from conftest import ROOT, run
from frontend.checkpoint import CheckpointError, load_fairseq_checkpoint
from frontend.convert_fairseq import ConversionError, convert

FIXTURES = ROOT / "tests/fixtures/fairseq"  # malicious.pt and the edited checkpoints
DROPPED = {
    "wav2vec2": {
        "mask_emb",
        "final_proj.weight",
        "final_proj.bias",
        "quantizer.vars",
        "quantizer.weight_proj.weight",
        "quantizer.weight_proj.bias",
        "project_q.weight",
        "project_q.bias",
    },
    "hubert": {"mask_emb", "final_proj.weight", "final_proj.bias", "label_embs_concat"},
}


def test_fairseq_is_not_installed():
    assert importlib.util.find_spec("fairseq") is None


@pytest.mark.parametrize("name", fairseq_fixtures.checkpoints())
def test_hidden_states_equal_fairseq(tmp_path, name):
    """Any fixture checkpoint (FAIRSEQ_FIXTURES: ones no test has seen): every hidden
    state of the converted model equals fairseq's for the same (raw) input."""
    from transformers import AutoFeatureExtractor, AutoModel

    checkpoint = fairseq_fixtures.FIXTURES / f"{name}.pt"
    record = convert(checkpoint, tmp_path / "hf", log=lambda _: None)
    model = AutoModel.from_pretrained(tmp_path / "hf").eval()
    extractor = AutoFeatureExtractor.from_pretrained(tmp_path / "hf")
    layer_norm = record["extractor_mode"] == "layer_norm"
    assert model.config.do_stable_layer_norm == record["layer_norm_first"]
    assert model.config.feat_extract_norm == ("layer" if layer_norm else "group")
    assert extractor.return_attention_mask == layer_norm
    ref = fairseq_fixtures.references(name)
    if "task_normalize" in ref.files:
        assert extractor.do_normalize == bool(ref["task_normalize"])

    layers = model.config.num_hidden_layers
    for i in range(3):
        with torch.no_grad():
            states = model(
                torch.from_numpy(ref[f"source_{i}"]), output_hidden_states=True
            ).hidden_states
        expected = (
            [ref[f"encoder_input_{i}"]]
            + [ref[f"layer_{j}_{i}"] for j in range(1, layers)]
            + [ref[f"encoder_out_{i}"]]
        )
        assert len(states) == len(expected) == layers + 1
        for got, want in zip(states, expected):
            np.testing.assert_allclose(got.numpy(), want, atol=1e-4, rtol=0)

    projection = model.feature_projection.projection
    square = projection.in_features == projection.out_features
    has_proj = any(
        k.endswith("post_extract_proj.weight") for k in load_fairseq_checkpoint(checkpoint)["model"]
    )
    assert record["identity_projection"] == (not has_proj)
    if not has_proj:  # conv width == encoder width: fairseq feeds the features as they are
        assert square
        assert torch.equal(projection.weight, torch.eye(projection.in_features))
        assert not projection.bias.any()

    kind = record["model_type"]
    dropped = {
        d.removeprefix("w2v_encoder.w2v_model.") for d in record["dropped_pretraining_tensors"]
    }
    if record["fine_tuned"]:
        assert {"w2v_encoder.proj.weight", "w2v_encoder.proj.bias", "mask_emb"} <= dropped
    else:
        assert dropped == DROPPED[kind]
    saved = json.loads((tmp_path / "hf/fairseq_conversion.json").read_text())
    assert saved["dropped_pretraining_tensors"] == record["dropped_pretraining_tensors"]


def test_identity_projection_fixture_is_there():
    """The shipped fixtures hold a checkpoint without post_extract_proj, made by fairseq."""
    names = fairseq_fixtures.checkpoints()
    if fairseq_fixtures.FIXTURES == FIXTURES:
        assert "hubert_large_tiny_identity_proj" in names
        state = load_fairseq_checkpoint(FIXTURES / "hubert_large_tiny_identity_proj.pt")
        assert not any("post_extract_proj" in k for k in state["model"])


def test_code_executing_pickle_is_refused(tmp_path):
    marker = Path("/tmp/PWNED_BY_MALICIOUS_PT")
    marker.unlink(missing_ok=True)
    with pytest.raises(CheckpointError, match="refused to load global 'posix.system'"):
        load_fairseq_checkpoint(FIXTURES / "malicious.pt")
    proc = run(
        [
            "python",
            "-m",
            "frontend.convert_fairseq",
            str(FIXTURES / "malicious.pt"),
            str(tmp_path / "out"),
        ],
        check=False,
    )
    assert proc.returncode != 0 and "posix.system" in proc.stderr
    assert not (tmp_path / "out").exists()
    assert not any("PWN" in p.name for p in Path("/tmp").iterdir())


def test_self_made_reduce_payload_is_refused(tmp_path):
    class Payload:
        def __reduce__(self):
            import os

            return (os.system, (f"touch {tmp_path}/ran",))

    torch.save({"model": {}, "cfg": {"model": {}}, "x": Payload()}, tmp_path / "bad.pt")
    with pytest.raises(CheckpointError, match="refused"):
        load_fairseq_checkpoint(tmp_path / "bad.pt")
    assert not (tmp_path / "ran").exists()


def edited_checkpoint(tmp_path, edit):
    state = load_fairseq_checkpoint(FIXTURES / "hubert_large_tiny.pt")
    edit(state["model"])
    torch.save({"cfg": state["cfg"], "model": state["model"]}, tmp_path / "edited.pt")
    return tmp_path / "edited.pt"


def test_unexpected_tensor_is_named(tmp_path):
    path = edited_checkpoint(
        tmp_path, lambda m: m.__setitem__("encoder.extra_gate.weight", torch.ones(2))
    )
    with pytest.raises(ConversionError, match="unexpected tensors.*encoder.extra_gate.weight"):
        convert(path, tmp_path / "hf", log=lambda _: None)


def test_missing_tensor_is_named(tmp_path):
    path = edited_checkpoint(tmp_path, lambda m: m.pop("encoder.layers.1.fc2.bias"))
    with pytest.raises(
        ConversionError, match="without a value.*encoder.layers.1.feed_forward.output_dense.bias"
    ):
        convert(path, tmp_path / "hf", log=lambda _: None)
    assert not (tmp_path / "hf").exists()


# --- outputs: never delete what the converter did not write (issue 16) ----------


def convert_cli(*args, cwd=None):
    return run(["python", "-m", "frontend.convert_fairseq", *map(str, args)], cwd=cwd, check=False)


def refused(proc, *words):
    """A one-line error naming what is wrong, non-zero exit, no traceback."""
    assert proc.returncode != 0, proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(lines) == 1, proc.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_output_folder_holding_the_checkpoint_is_never_replaced(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    checkpoint = models / "x.pt"
    shutil.copy(FIXTURES / "hubert_base_tiny.pt", checkpoint)
    before = checkpoint.read_bytes()
    for force in ([], ["--force"]):
        refused(convert_cli(checkpoint, models, *force), str(models), "holds the input")
        refused(convert_cli("x.pt", ".", *force, cwd=models), "current folder")
        assert checkpoint.read_bytes() == before
        assert sorted(p.name for p in models.iterdir()) == ["x.pt"]


def test_current_folder_and_foreign_folders_are_kept(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    checkpoint = FIXTURES / "hubert_base_tiny.pt"
    refused(convert_cli(checkpoint, ".", "--force", cwd=work), "current folder")
    refused(convert_cli(checkpoint, tmp_path, "--force", cwd=work), "current folder")
    assert (work / "notes.txt").read_text() == "mine"

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "keep.txt").write_text("keep")
    with pytest.raises(ConversionError, match="holds files this tool did not write"):
        convert(checkpoint, foreign, log=lambda _: None)
    assert sorted(p.name for p in foreign.iterdir()) == ["keep.txt"]
    convert(checkpoint, foreign, log=lambda _: None, force=True)  # the user said so
    assert (foreign / "config.json").is_file() and not (foreign / "keep.txt").exists()

    a_file = tmp_path / "a_file"
    a_file.write_text("data")
    with pytest.raises(ConversionError, match="is not a folder"):
        convert(checkpoint, a_file, log=lambda _: None, force=True)
    assert a_file.read_text() == "data"


def test_a_conversion_record_beside_foreign_files_does_not_make_the_folder_ours(tmp_path):
    """A folder converted before the owner marker existed is replaced on a rerun; the
    same record beside one file of the user's is not (a record alone proves nothing)."""
    checkpoint = FIXTURES / "hubert_base_tiny.pt"
    old = tmp_path / "old"
    convert(checkpoint, old, log=lambda _: None)
    (old / ".written_by").unlink()  # as written before the marker existed
    convert(checkpoint, old, log=lambda _: None)
    assert (old / ".written_by").is_file()

    mixed = tmp_path / "mixed"
    mixed.mkdir()
    (mixed / "fairseq_conversion.json").write_text("{}\n")
    (mixed / "notes.txt").write_text("mine")
    refused(convert_cli(checkpoint, mixed), str(mixed), "did not write")
    assert sorted(p.name for p in mixed.iterdir()) == ["fairseq_conversion.json", "notes.txt"]
    assert (mixed / "notes.txt").read_text() == "mine"


def test_rerun_replaces_its_own_output_with_the_umask_permissions(tmp_path):
    import os

    checkpoint = FIXTURES / "hubert_base_tiny.pt"
    out = tmp_path / "out"
    old = os.umask(0o027)
    try:
        convert(checkpoint, out, log=lambda _: None)
        (out / "stale.txt").write_text("from an earlier run")
        convert(checkpoint, out, log=lambda _: None)  # its own output: replaced
    finally:
        os.umask(old)
    assert not (out / "stale.txt").exists() and (out / "model.safetensors").is_file()
    assert out.stat().st_mode & 0o777 == 0o750
    assert (out / "model.safetensors").stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no temporary left


@pytest.mark.parametrize(
    "name,content,words",
    [
        ("text.pt", b"Yes, a text file\n", ["not a PyTorch checkpoint"]),
        ("empty.pt", b"", ["an empty file"]),
        ("truncated.pt", None, ["damaged or truncated"]),
        ("missing.pt", "missing", ["No such file"]),
        ("folder", "folder", ["is a folder"]),
        ("state_dict.bin", "state_dict", ["not a fairseq checkpoint", "no 'model' entry"]),
    ],
)
def test_bad_checkpoints_are_one_line_errors(tmp_path, name, content, words):
    path = tmp_path / name
    if content == "folder":
        path.mkdir()
    elif content == "state_dict":
        torch.save({"encoder.weight": torch.ones(2)}, path)
    elif content is None:
        path.write_bytes((FIXTURES / "hubert_base_tiny.pt").read_bytes()[:3000])
    elif content != "missing":
        path.write_bytes(content)
    proc = convert_cli(path, tmp_path / "out")
    refused(proc, f"{path}:", *words)
    assert "invalid load key" not in proc.stderr
    assert not (tmp_path / "out").exists()
