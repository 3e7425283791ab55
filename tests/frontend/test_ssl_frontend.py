"""The weighted-sum SSL frontend: padding, normalization, freezing, model lookup."""

import numpy as np
import pytest
import torch

import fairseq_fixtures
from conftest import tool
from frontend.espnet_frontend import WeightedSumFrontend
from frontend.make_tiny_models import make
from frontend.models import ModelError, resolve
from frontend.ssl_forward import hidden_states, length_groups, normalize

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
    """do_normalize (LARGE): fairseq's F.layer_norm over each utterance by default,
    transformers' feature extractor's rule with input_norm hf; BASE: raw samples."""
    from transformers import AutoFeatureExtractor

    folder = tiny / f"tiny-hubert-{size}"
    extractor = AutoFeatureExtractor.from_pretrained(folder)
    frontend = WeightedSumFrontend(str(folder))
    assert frontend.input_norm == "fairseq"
    wavs, padded, lengths = batch([9000, 16000], seed=3)
    ours = normalize(padded, lengths, frontend.do_normalize)
    for i, wav in enumerate(wavs):
        want = torch.nn.functional.layer_norm(wav, wav.shape) if size == "large" else wav
        torch.testing.assert_close(ours[i, : len(wav)], want, atol=1e-6, rtol=1e-6)
        assert not ours[i, len(wav) :].any()
    hf = normalize(padded, lengths, frontend.do_normalize, "hf")
    theirs = extractor(
        [w.numpy() for w in wavs], sampling_rate=16000, padding=True, return_tensors="pt"
    ).input_values
    torch.testing.assert_close(hf, theirs, atol=1e-5, rtol=1e-5)
    assert extractor.do_normalize == (size == "large")
    with pytest.raises(ValueError, match="input_norm must be one of"):
        WeightedSumFrontend(str(folder), input_norm="kaldi")


def test_rules_differ_on_quiet_audio():
    """What the choice is about: at RMS 0.005 the two epsilons scale the input apart."""
    g = torch.Generator().manual_seed(0)
    wav = torch.randn(1, 16000, generator=g)
    wav = 0.005 * wav / wav.pow(2).mean().sqrt()
    lengths = torch.tensor([16000])
    ratio = normalize(wav, lengths, True, "hf").std() / normalize(wav, lengths, True).std()
    assert 1.15 < ratio < 1.25


def one_hot_layer(frontend, layer):
    """Featurizer weights whose softmax picks one hidden state exactly."""
    with torch.no_grad():
        frontend.featurizer.weights.fill_(-1e4)
        frontend.featurizer.weights[layer] = 0.0


@pytest.mark.parametrize("name", fairseq_fixtures.normalized_input_checkpoints())
def test_training_frontend_equals_fairseq(tmp_path, name):
    """The ESPnet frontend on a fairseq checkpoint (FAIRSEQ_FIXTURES: ones no test has
    seen), loud and quiet audio in one padded batch: every hidden state it feeds the
    weighted sum equals fairseq's own for the raw audio fairseq's dataset normalized."""
    ref = fairseq_fixtures.references(name)
    inputs = fairseq_fixtures.raw_inputs(ref)
    keys = sorted(inputs)
    assert {loudness for loudness, _ in keys} == {"loud", "quiet"}
    wavs = [torch.from_numpy(inputs[k]) for k in keys]
    padded = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    lengths = torch.tensor([len(w) for w in wavs])
    folder = resolve(fairseq_fixtures.FIXTURES / f"{name}.pt", tmp_path / "cache")
    frontend = WeightedSumFrontend(str(folder))
    layers = frontend.upstream.config.num_hidden_layers + 1
    for layer in range(layers):
        one_hot_layer(frontend, layer)
        feats, feats_lens = frontend(padded, lengths)
        for row, (loudness, i) in enumerate(keys):
            want = fairseq_fixtures.hidden(ref, loudness, i)
            assert len(want) == layers
            got = feats[row, : feats_lens[row]].detach().numpy()
            np.testing.assert_allclose(got, want[layer], atol=1e-4, rtol=0)


def test_length_groups():
    # longest first; a group's padding at most the given fraction of its samples
    assert length_groups([100, 100, 100], 0.0) == [[0, 1, 2]]
    assert length_groups([50, 100, 90, 10], 0.0) == [[1], [2], [0], [3]]
    assert length_groups([50, 100, 90, 10], 0.2) == [[1, 2], [0], [3]]
    assert length_groups([50, 100, 90, 10], 0.25) == [[1, 2, 0], [3]]
    assert length_groups([50, 100, 90, 10], 10.0) == [[1, 2, 0, 3]]


@pytest.mark.parametrize("kind,size", [("hubert", "large"), ("wav2vec2", "base")])
def test_grouped_forward_equals_one_padded_batch(tiny, kind, size):
    """Groups of similar length give the features of one padded batch."""
    frontend = WeightedSumFrontend(str(tiny / f"tiny-{kind}-{size}"))
    _, padded, lengths = batch([16000, 4000, 15000, 9000], seed=7)
    wav = normalize(padded, lengths, frontend.do_normalize)
    with torch.no_grad():
        grouped, frames = hidden_states(frontend.upstream, wav, lengths, max_padding=0.0)
        single, frames_single = hidden_states(frontend.upstream, wav, lengths, max_padding=100)
    assert torch.equal(frames, frames_single)
    for a, b in zip(grouped, single):
        for i, n in enumerate(frames.tolist()):
            torch.testing.assert_close(a[i, :n], b[i, :n], atol=1e-4, rtol=0)


def test_architecture_only_folder_takes_the_weights_from_a_state_dict(tiny, tmp_path):
    """A packed model: config.json + preprocessor_config.json, weights from the ASR
    checkpoint (loaded as ESPnet loads a trained model's state dict)."""
    import shutil

    full = WeightedSumFrontend(str(tiny / "tiny-hubert-large"))
    full.featurizer.weights.data.normal_()
    packed = tmp_path / "ssl_upstream"
    packed.mkdir()
    for name in ("config.json", "preprocessor_config.json"):
        shutil.copy(tiny / "tiny-hubert-large" / name, packed / name)
    rebuilt = WeightedSumFrontend(str(packed / "config.json"))
    rebuilt.reload_pretrained_parameters()  # nothing to reload: no error
    _, padded, lengths = batch([8000, 6000], seed=2)
    assert not torch.allclose(rebuilt(padded, lengths)[0], full(padded, lengths)[0])
    rebuilt.load_state_dict(full.state_dict())
    torch.testing.assert_close(rebuilt(padded, lengths)[0], full(padded, lengths)[0])
    with pytest.raises(ModelError, match="missing preprocessor_config.json"):
        (packed / "preprocessor_config.json").unlink()
        WeightedSumFrontend(str(packed / "config.json"))


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


@pytest.mark.parametrize("where", ["cache", "cache/sub", "cache/sub/deeper"])
def test_a_file_in_the_way_of_the_cache_is_named(tmp_path, where):
    """A file at the cache folder or above it: one line naming that file, nothing made."""
    pt = tmp_path / "x.pt"
    pt.write_bytes(b"not read: the cache is made first")
    (tmp_path / "cache").write_text("mine")
    if where != "cache":
        (tmp_path / "cache").unlink()
        (tmp_path / "cache").mkdir()
        (tmp_path / "cache/sub").write_text("mine")
    blocker = tmp_path / ("cache" if where == "cache" else "cache/sub")
    message = f"{tmp_path / where}: cannot make the folder: {blocker} is not a folder"
    with pytest.raises(ModelError) as raised:
        resolve(pt, tmp_path / where)
    assert str(raised.value) == message
    proc = tool("frontend.models", pt, tmp_path / where, check=False)
    assert proc.returncode != 0 and proc.stdout == ""
    assert proc.stderr == f"frontend.models: error: {message}\n"
    assert blocker.read_text() == "mine"


def test_make_tiny_models_replaces_only_its_own_folders(tmp_path):
    from fileio.atomic import OutputError

    foreign = tmp_path / "tiny-hubert-base"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="holds files this tool did not write"):
        make("hubert", "base", tmp_path)
    assert (foreign / "notes.txt").read_text() == "mine"
    folder = make("hubert", "large", tmp_path)
    assert make("hubert", "large", tmp_path) == folder  # its own: replaced
    assert (folder / "preprocessor_config.json").is_file()
