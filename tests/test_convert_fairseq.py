"""fairseq checkpoints -> Hugging Face, without fairseq: hidden states equal fairseq's."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import ROOT, run
from frontend.checkpoint import CheckpointError, load_fairseq_checkpoint
from frontend.convert_fairseq import ConversionError, convert

FIXTURES = ROOT / "tests/fixtures/fairseq"
CHECKPOINTS = [
    "wav2vec2_base_tiny",
    "wav2vec2_large_tiny",
    "hubert_base_tiny",
    "hubert_large_tiny",
    "wav2vec2_base_tiny_ctc",
    "hubert_large_tiny_ctc",
    "wav2vec2_legacy_args_tiny",
    "wav2vec2_legacy_args_tiny_ctc",
]
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


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_hidden_states_equal_fairseq(tmp_path, name):
    from transformers import AutoFeatureExtractor, AutoModel

    record = convert(FIXTURES / f"{name}.pt", tmp_path / "hf", log=lambda _: None)
    model = AutoModel.from_pretrained(tmp_path / "hf").eval()
    extractor = AutoFeatureExtractor.from_pretrained(tmp_path / "hf")
    large = "large" in name
    assert model.config.do_stable_layer_norm == large
    assert model.config.feat_extract_norm == ("layer" if large else "group")
    assert extractor.do_normalize == large and extractor.return_attention_mask == large

    ref = np.load(FIXTURES / f"{name}.npz")
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

    kind = "hubert" if name.startswith("hubert") else "wav2vec2"
    dropped = {
        d.removeprefix("w2v_encoder.w2v_model.") for d in record["dropped_pretraining_tensors"]
    }
    if name.endswith("_ctc"):
        assert {"w2v_encoder.proj.weight", "w2v_encoder.proj.bias", "mask_emb"} <= dropped
    else:
        assert dropped == DROPPED[kind]
    saved = json.loads((tmp_path / "hf/fairseq_conversion.json").read_text())
    assert saved["dropped_pretraining_tensors"] == record["dropped_pretraining_tensors"]


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
