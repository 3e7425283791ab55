"""The weighted-sum SSL frontend: padding, normalization, freezing, model lookup."""

import pytest
import torch

from frontend.espnet_frontend import WeightedSumFrontend
from frontend.make_tiny_models import make
from frontend.models import ModelError, resolve
from frontend.ssl_forward import normalize

MODELS = [("hubert", "base"), ("hubert", "large"), ("wav2vec2", "base"), ("wav2vec2", "large")]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny")
    for i, (kind, size) in enumerate(MODELS):
        make(kind, size, out, seed=i)
    return out


def batch(lengths, seed=0):
    g = torch.Generator().manual_seed(seed)
    wavs = [0.1 * torch.randn(n, generator=g) + 0.01 for n in lengths]
    return wavs, torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True), torch.tensor(lengths)


@pytest.mark.parametrize("kind,size", MODELS)
def test_padded_batch_equals_each_utterance_alone(tiny, kind, size):
    frontend = WeightedSumFrontend(str(tiny / f"tiny-{kind}-{size}"))
    frontend.featurizer.weights.data.normal_()
    wavs, padded, lengths = batch([16000, 23999, 8000, 12345])
    feats, feats_lens = frontend(padded, lengths)
    assert feats.shape[-1] == frontend.output_size()
    for i, wav in enumerate(wavs):
        alone, alone_len = frontend(wav[None], lengths[i : i + 1])
        assert alone_len[0] == feats_lens[i] == (lengths[i] - 400) // 320 + 1
        torch.testing.assert_close(feats[i, : feats_lens[i]], alone[0], atol=1e-4, rtol=0)


@pytest.mark.parametrize("size", ["base", "large"])
def test_normalization_follows_the_preprocessor_config(tiny, size):
    from transformers import AutoFeatureExtractor

    folder = tiny / f"tiny-hubert-{size}"
    extractor = AutoFeatureExtractor.from_pretrained(folder)
    frontend = WeightedSumFrontend(str(folder))
    wavs, padded, lengths = batch([9000, 16000], seed=3)
    ours = normalize(padded, lengths, frontend.do_normalize)
    theirs = extractor(
        [w.numpy() for w in wavs], sampling_rate=16000, padding=True, return_tensors="pt"
    ).input_values
    torch.testing.assert_close(ours, theirs, atol=1e-5, rtol=1e-5)
    assert extractor.do_normalize == (size == "large")


def test_upstream_is_frozen_and_in_eval_mode(tiny):
    frontend = WeightedSumFrontend(str(tiny / "tiny-hubert-large"))
    frontend.train()
    assert frontend.training and not frontend.upstream.training
    _, padded, lengths = batch([8000, 6000])
    feats, _ = frontend(padded, lengths)
    feats.pow(2).mean().backward()
    assert frontend.featurizer.weights.grad is not None
    assert all(p.grad is None and not p.requires_grad for p in frontend.upstream.parameters())
    again, _ = frontend(padded, lengths)  # no dropout: the same features twice
    torch.testing.assert_close(feats, again)


def test_bfloat16_upstream_stays_close(tiny):
    _, padded, lengths = batch([16000, 12000], seed=5)
    exact = WeightedSumFrontend(str(tiny / "tiny-hubert-large"))
    half = WeightedSumFrontend(str(tiny / "tiny-hubert-large"), upstream_dtype="bfloat16")
    a, _ = exact(padded, lengths)
    b, _ = half(padded, lengths)
    assert b.dtype == torch.float32
    relative = ((a - b).norm() / a.norm()).item()
    assert 0 < relative < 0.05


def test_checkpoint_is_converted_once(tiny, tmp_path):
    pt = tiny / "tiny-hubert-base-fairseq-ckpt.pt"
    first = resolve(pt, tmp_path / "cache")
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    assert resolve(pt, tmp_path / "cache") == first
    assert (first / "model.safetensors").stat().st_mtime_ns == stamp
    a = WeightedSumFrontend(str(first))
    b = WeightedSumFrontend(str(tiny / "tiny-hubert-base"))
    _, padded, lengths = batch([8000, 9000])
    torch.testing.assert_close(a(padded, lengths)[0], b(padded, lengths)[0])


def test_missing_model_names_the_expected_files(tiny, tmp_path):
    with pytest.raises(ModelError, match="no such model folder or checkpoint.*config.json"):
        resolve(tmp_path / "chinese-hubert-large", tmp_path / "cache")
    incomplete = tmp_path / "incomplete"
    incomplete.mkdir()
    (incomplete / "config.json").write_text((tiny / "tiny-hubert-base/config.json").read_text())
    with pytest.raises(
        ModelError,
        match="missing preprocessor_config.json, pytorch_model.bin or "
        "model.safetensors.*huggingface.co/TencentGameMate",
    ):
        resolve(incomplete, tmp_path / "cache")
    with pytest.raises(ModelError, match="preprocessor_config.json"):
        WeightedSumFrontend(str(incomplete))
