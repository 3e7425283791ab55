"""python -m frontend.extract: hidden states of a model as Kaldi feats.scp / ark."""

import json
import shutil

import kaldiio
import numpy as np
import pytest
import soundfile
import torch

import fairseq_fixtures
from conftest import ROOT, run
from frontend import extract
from frontend.models import resolve

FIXTURES = ROOT / "tests/fixtures/fairseq"


def write_sources(folder, name, extra=()):
    """The fixture's fairseq inputs source_0..2 (16000, 24000, 12345 samples) as
    16 kHz float WAVs (exact values, unlike PCM16) and a wav.scp (+ extra lines)."""
    ref = np.load(FIXTURES / f"{name}.npz")
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(3):
        soundfile.write(folder / f"utt{i}.wav", ref[f"source_{i}"][0], 16000, subtype="FLOAT")
        lines.append(f"utt{i} {folder / f'utt{i}.wav'}")
    (folder / "wav.scp").write_text("\n".join(lines + list(extra)) + "\n")
    return ref, folder / "wav.scp"


def hf_folder(tmp_path, name, do_normalize=None):
    """The fixture converted to a Hugging Face folder, optionally with do_normalize changed."""
    folder = resolve(FIXTURES / f"{name}.pt", tmp_path / "cache")
    if do_normalize is not None:
        folder = shutil.copytree(folder, tmp_path / f"{name}-normalize-{do_normalize}")
        config = json.loads((folder / "preprocessor_config.json").read_text())
        config["do_normalize"] = do_normalize
        (folder / "preprocessor_config.json").write_text(json.dumps(config))
    return folder


def feats(path):
    return dict(kaldiio.load_scp(str(path)))


def test_cli_fairseq_base_checkpoint_equals_fairseq(tmp_path):
    """The command on a fairseq .pt (converted into OUT_DIR/converted_model): the three
    utterances batched together give fairseq's own layer-1 outputs; unreadable audio is
    reported and skipped."""
    (tmp_path / "garbage.wav").write_bytes(b"this is not audio" * 100)
    ref, scp = write_sources(
        tmp_path / "audio",
        "hubert_base_tiny",
        [f"missing {tmp_path}/nowhere.wav", f"garbage {tmp_path}/garbage.wav"],
    )
    out = tmp_path / "out"
    proc = run(
        [
            "python",
            "-m",
            "frontend.extract",
            str(FIXTURES / "hubert_base_tiny.pt"),
            str(scp),
            str(out),
            "--layer",
            "1",
            "--batch_seconds",
            "5",
        ]
    )
    assert (out / "converted_model/hubert_base_tiny/config.json").is_file()
    got = feats(out / "feats.scp")
    assert sorted(got) == ["utt0", "utt1", "utt2"]
    for i in range(3):
        assert got[f"utt{i}"].dtype == np.float32
        np.testing.assert_allclose(got[f"utt{i}"], ref[f"layer_1_{i}"][0], atol=1e-4, rtol=0)
    assert f"skipped missing ({tmp_path}/nowhere.wav): AudioError: no such file" in proc.stderr
    assert f"skipped garbage ({tmp_path}/garbage.wav)" in proc.stderr
    assert "3 utterances written" in proc.stderr and "2 skipped" in proc.stderr
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("name", ["wav2vec2_large_tiny", "hubert_large_tiny", "wav2vec2_base_tiny"])
def test_batched_layers_equal_fairseq(tmp_path, monkeypatch, name):
    """fairseq's references are for the raw source_i (its dataset, not its model,
    normalizes), so the LARGE models run here with do_normalize off; normalization is
    tested against transformers' feature extractor below."""
    ref, scp = write_sources(tmp_path / "audio", name)
    model = hf_folder(tmp_path, name, do_normalize=False)
    shapes = []

    def spy(model, wav, lengths):
        shapes.append(tuple(wav.shape))
        return real(model, wav, lengths)

    real = extract.hidden_states
    monkeypatch.setattr(extract, "hidden_states", spy)
    extract.main(
        [str(model), str(scp), str(tmp_path / "l1"), "--layer", "1", "--batch_seconds", "5"]
    )
    extract.main([str(model), str(scp), str(tmp_path / "last"), "--batch_seconds", "5"])
    assert shapes == [(3, 24000)] * 2  # the three utterances padded into one batch
    layer1, last = feats(tmp_path / "l1/feats.scp"), feats(tmp_path / "last/feats.scp")
    layers = json.loads((model / "config.json").read_text())["num_hidden_layers"]
    for i in range(3):
        np.testing.assert_allclose(layer1[f"utt{i}"], ref[f"layer_1_{i}"][0], atol=1e-4, rtol=0)
        # the default (last) is fairseq's encoder output: for pre-LN (LARGE) models
        # that is the final LayerNorm of the last layer's output, not that output
        np.testing.assert_allclose(last[f"utt{i}"], ref[f"encoder_out_{i}"][0], atol=1e-4, rtol=0)
        if "large" in name:
            assert not np.allclose(last[f"utt{i}"], ref[f"layer_{layers}_{i}"][0], atol=1e-2)


def test_all_layers_equal_transformers_hidden_states(tmp_path):
    """--layer all --input_norm hf on a LARGE model with do_normalize (as converted):
    every layer equals transformers' output_hidden_states for the utterance alone,
    normalized by its feature extractor."""
    from transformers import AutoFeatureExtractor, AutoModel

    name = "hubert_large_tiny"
    _, scp = write_sources(tmp_path / "audio", name)
    model_dir = hf_folder(tmp_path, name)
    extractor = AutoFeatureExtractor.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    assert extractor.do_normalize
    extract.main(
        [str(model_dir), str(scp), str(tmp_path / "out"), "--layer", "all", "--input_norm", "hf"]
    )
    layers = model.config.num_hidden_layers
    got = [feats(tmp_path / f"out/feats_layer{k}.scp") for k in range(layers + 1)]
    assert not (tmp_path / f"out/feats_layer{layers + 1}.scp").exists()
    assert not (tmp_path / "out/feats.scp").exists()
    for i in range(3):
        wav, _ = soundfile.read(tmp_path / f"audio/utt{i}.wav", dtype="float32")
        inputs = extractor(wav, sampling_rate=16000, return_tensors="pt")
        with torch.no_grad():
            states = model(inputs.input_values, output_hidden_states=True).hidden_states
        assert len(states) == layers + 1
        for k in range(layers + 1):
            np.testing.assert_allclose(got[k][f"utt{i}"], states[k][0].numpy(), atol=1e-4, rtol=0)


def test_audio_formats_and_bad_audio(tmp_path, capsys):
    """8 kHz stereo is resampled, first channel; an ark entry (dump stage) is read; too
    short, unreadable and missing audio is skipped with the reason."""
    rng = np.random.default_rng(0)
    mono = (np.round(3277 * rng.standard_normal(16000)) / 32768).astype(np.float32)  # PCM16 grid
    soundfile.write(tmp_path / "mono.wav", mono, 16000, subtype="FLOAT")
    stereo = np.stack([mono[:8000], np.zeros(8000, np.float32)], axis=1)
    soundfile.write(tmp_path / "stereo8k.wav", stereo, 8000, subtype="FLOAT")
    soundfile.write(tmp_path / "short.wav", mono[:300], 16000, subtype="FLOAT")
    soundfile.write(tmp_path / "huge.wav", mono * 1e30, 16000, subtype="FLOAT")
    soundfile.write(tmp_path / "nan.wav", mono * np.nan, 16000, subtype="FLOAT")
    (tmp_path / "bad.flac").write_bytes(b"fLaC" + bytes(200))
    with kaldiio.WriteHelper(
        f"ark,scp:{tmp_path}/a.ark,{tmp_path}/a.scp", write_function="soundfile"
    ) as w:
        w("x", (16000, (mono * 32768).astype(np.int16)))
    ark_entry = (tmp_path / "a.scp").read_text().split()[1]
    (tmp_path / "wav.scp").write_text(
        f"ark {ark_entry}\nbad {tmp_path}/bad.flac\nmono {tmp_path}/mono.wav\n"
        f"pipe sox x.wav -t wav - |\nshort {tmp_path}/short.wav\nstereo {tmp_path}/stereo8k.wav\n"
        f"huge {tmp_path}/huge.wav\nnan {tmp_path}/nan.wav\n"
    )
    model = hf_folder(tmp_path, "wav2vec2_large_tiny")
    extract.main([str(model), str(tmp_path / "wav.scp"), str(tmp_path / "out"), "--layer", "1"])
    err = capsys.readouterr().err
    got = feats(tmp_path / "out/feats.scp")
    assert sorted(got) == ["ark", "mono", "stereo"]
    assert got["mono"].shape == (49, 48) and got["stereo"].shape == (49, 48)
    np.testing.assert_allclose(got["ark"], got["mono"], atol=1e-5, rtol=0)
    assert f"stereo ({tmp_path}/stereo8k.wav): 2 channels, using the first" in err
    assert f"skipped bad ({tmp_path}/bad.flac): LibsndfileError" in err
    assert "skipped pipe (sox x.wav -t wav - |): AudioError: pipe commands are not supported" in err
    assert "skipped short" in err and "too short: 300 samples, a frame needs 400" in err
    assert f"skipped huge ({tmp_path}/huge.wav): features are not finite (audio far" in err
    assert f"skipped nan ({tmp_path}/nan.wav)" in err and "not finite" in err
    assert "3 utterances written" in err and "5 skipped" in err
    assert (
        (tmp_path / "out/feats.scp")
        .read_text()
        .splitlines()[0]
        .startswith(f"ark {tmp_path}/out/feats.ark:")
    )  # sorted by key, pointing at the final ark


def test_every_utterance_failing_is_an_error(tmp_path):
    (tmp_path / "wav.scp").write_text(f"a {tmp_path}/a.wav\nb {tmp_path}/b.wav\n")
    model = hf_folder(tmp_path, "hubert_base_tiny")
    with pytest.raises(SystemExit, match="none of the 2 utterances .* could be read"):
        extract.main([str(model), str(tmp_path / "wav.scp"), str(tmp_path / "out")])
    assert not (tmp_path / "out").exists()  # nothing left behind


def test_a_failed_run_leaves_nothing_it_made(tmp_path):
    """Bad data (no readable audio), a bad model or a bad layer: the folders the run
    made are removed again (OUT_DIR and its missing parents, the fairseq conversion),
    and an OUT_DIR that was there keeps what it held."""
    _, scp = write_sources(tmp_path / "audio", "hubert_base_tiny")
    bad_scp = tmp_path / "bad.scp"
    bad_scp.write_text(f"a {tmp_path}/nowhere.wav\n")
    fairseq = str(FIXTURES / "hubert_base_tiny.pt")
    hf = str(hf_folder(tmp_path, "hubert_base_tiny"))
    (tmp_path / "broken").mkdir()  # a model folder without a model
    cases = [
        ([fairseq, str(bad_scp)], "none of the 1 utterances"),  # converted, then no audio
        ([hf, str(bad_scp)], "none of the 1 utterances"),
        ([str(tmp_path / "broken"), str(scp)], "broken"),
        ([str(tmp_path / "nope.pt"), str(scp)], "no such model folder or checkpoint"),
        ([hf, str(scp), "--layer", "9"], "the model has layers 0 .. 2"),
    ]
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept/notes.txt").write_text("mine\n")
    for args, words in cases:
        for out in (tmp_path / "new/out", tmp_path / "kept"):
            with pytest.raises(SystemExit, match=words):
                extract.main([*args[:2], str(out), *args[2:]])
            assert not (tmp_path / "new").exists(), args
            assert sorted(p.name for p in (tmp_path / "kept").iterdir()) == ["notes.txt"], args


def test_interrupted_run_keeps_the_previous_outputs(tmp_path, monkeypatch):
    _, scp = write_sources(tmp_path / "audio", "hubert_base_tiny")
    model = hf_folder(tmp_path, "hubert_base_tiny")
    out = tmp_path / "out"
    extract.main([str(model), str(scp), str(out), "--layer", "0"])
    before = feats(out / "feats.scp")
    calls = []

    def interrupted(*args):  # dies in the second batch
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(*args)

    real = extract.hidden_states
    monkeypatch.setattr(extract, "hidden_states", interrupted)
    with pytest.raises(KeyboardInterrupt):
        extract.main([str(model), str(scp), str(out), "--layer", "1", "--batch_seconds", "1.5"])
    assert calls == [1, 1]
    # no temporary left
    assert sorted(p.name for p in out.iterdir()) == [
        "extract_outputs.json",
        "feats.ark",
        "feats.scp",
    ]
    after = feats(out / "feats.scp")
    assert sorted(after) == sorted(before)
    for utt in before:
        np.testing.assert_array_equal(after[utt], before[utt])
    monkeypatch.setattr(extract, "hidden_states", real)
    extract.main([str(model), str(scp), str(out), "--layer", "1", "--batch_seconds", "1.5"])
    rerun = feats(out / "feats.scp")
    assert sorted(rerun) == sorted(before) and rerun["utt0"].shape == before["utt0"].shape
    assert not np.allclose(rerun["utt0"], before["utt0"])


def test_make_batches():
    lengths = {"a": 16000, "b": 24000, "c": 12345, "d": 200000, "e": 12345}
    # longest first; a batch holds at most 2 s of padded audio; a longer utterance goes alone
    assert extract.make_batches(lengths, 32000) == [["d"], ["b"], ["a", "c"], ["e"]]
    assert extract.make_batches(lengths, 10**9) == [["d", "b", "a", "c", "e"]]


def test_help_documents_the_options(capsys):
    with pytest.raises(SystemExit) as exit:
        extract.main(["--help"])
    assert exit.value.code == 0
    text = capsys.readouterr().out
    for words in [
        "--layer",
        "all",
        "feats_layer<N>.scp",
        "last_hidden_state",
        "--dtype",
        "bfloat16",
        "float16 needs --device cuda",
        "--batch_seconds",
        "--device",
        "first channel",
        "converted_model",
        "skipped",
    ]:
        assert words in text, words


def test_dtypes(tmp_path):
    _, scp = write_sources(tmp_path / "audio", "wav2vec2_large_tiny")
    model = hf_folder(tmp_path, "wav2vec2_large_tiny")
    with pytest.raises(SystemExit, match="float16 needs --device cuda"):
        extract.main([str(model), str(scp), str(tmp_path / "fp16"), "--dtype", "float16"])
    extract.main([str(model), str(scp), str(tmp_path / "fp32"), "--layer", "1"])
    extract.main(
        [str(model), str(scp), str(tmp_path / "bf16"), "--layer", "1", "--dtype", "bfloat16"]
    )
    fp32, bf16 = feats(tmp_path / "fp32/feats.scp"), feats(tmp_path / "bf16/feats.scp")
    for utt in fp32:
        assert bf16[utt].dtype == np.float32 and bf16[utt].shape == fp32[utt].shape
        assert np.abs(bf16[utt] - fp32[utt]).mean() < 0.05 * np.abs(fp32[utt]).mean()


def test_missing_model_and_bad_layer_are_clear_errors(tmp_path):
    _, scp = write_sources(tmp_path / "audio", "hubert_base_tiny")
    proc = run(
        [
            "python",
            "-m",
            "frontend.extract",
            str(tmp_path / "nope.pt"),
            str(scp),
            str(tmp_path / "out"),
        ],
        check=False,
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert (
        f"frontend.extract: error: {tmp_path}/nope.pt: no such model folder or checkpoint"
        in proc.stderr
    )
    with pytest.raises(SystemExit, match="the model has layers 0 .. 2"):
        extract.main(
            [
                str(hf_folder(tmp_path, "hubert_base_tiny")),
                str(scp),
                str(tmp_path / "out"),
                "--layer",
                "3",
            ]
        )


@pytest.mark.parametrize("name", fairseq_fixtures.normalized_input_checkpoints())
def test_fairseq_checkpoint_loud_and_quiet_audio_equal_fairseq(tmp_path, name):
    """The command on a fairseq .pt (FAIRSEQ_FIXTURES: ones no test has seen), every
    layer, loud and quiet (RMS 0.005) audio batched together: fairseq's own hidden
    states for the audio its dataset normalized (task.normalize), within 1e-4."""
    ref = fairseq_fixtures.references(name)
    inputs = fairseq_fixtures.raw_inputs(ref)
    audio = tmp_path / "audio"
    audio.mkdir()
    lines = []
    for (loudness, i), wav in sorted(inputs.items()):
        soundfile.write(audio / f"{loudness}{i}.wav", wav, 16000, subtype="FLOAT")
        lines.append(f"{loudness}{i} {audio / f'{loudness}{i}.wav'}")
    (tmp_path / "wav.scp").write_text("\n".join(lines) + "\n")
    checkpoint = fairseq_fixtures.FIXTURES / f"{name}.pt"
    extract.main(
        [str(checkpoint), str(tmp_path / "wav.scp"), str(tmp_path / "out"), "--layer", "all"]
    )
    layers = len(fairseq_fixtures.hidden(ref, "loud", 0))
    for k in range(layers):
        got = feats(tmp_path / f"out/feats_layer{k}.scp")
        for loudness, i in inputs:
            want = fairseq_fixtures.hidden(ref, loudness, i)[k]
            np.testing.assert_allclose(got[f"{loudness}{i}"], want, atol=1e-4, rtol=0)
    if bool(ref["task_normalize"]):  # the other rule is measurably off on quiet audio
        extract.main(
            [str(checkpoint), str(tmp_path / "wav.scp"), str(tmp_path / "hf"), "--layer", "1"]
            + ["--input_norm", "hf"]
        )
        hf = feats(tmp_path / "hf/feats.scp")
        quiet = max(
            np.abs(hf[f"quiet{i}"] - fairseq_fixtures.hidden(ref, "quiet", i)[1]).max()
            for i in range(3)
        )
        assert quiet > 1e-3


def test_files_it_did_not_write_are_never_overwritten(tmp_path):
    _, scp = write_sources(tmp_path / "audio", "hubert_base_tiny")
    model = str(hf_folder(tmp_path, "hubert_base_tiny"))
    out = tmp_path / "data"
    out.mkdir()
    (out / "feats.scp").write_text("utt0 /somewhere/raw_fbank.1.ark:10\n")
    proc = run(["python", "-m", "frontend.extract", model, str(scp), str(out)], check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert f"{out}/feats.scp: exists and was not written by frontend.extract" in proc.stderr
    assert (out / "feats.scp").read_text() == "utt0 /somewhere/raw_fbank.1.ark:10\n"
    (out / "feats.scp").unlink()
    extract.main([model, str(scp), str(out), "--layer", "1"])
    extract.main([model, str(scp), str(out), "--layer", "0"])  # its own output: replaced
    record = json.loads((out / "extract_outputs.json").read_text())
    assert record["layer"] == 0 and sorted(record["files"]) == ["feats.ark", "feats.scp"]
    with open(out / "feats.ark", "ab") as f:  # changed by someone else since
        f.write(b"x")
    with pytest.raises(SystemExit, match="feats.ark: exists and was not written"):
        extract.main([model, str(scp), str(out)])


def test_bad_arguments_are_one_line_errors(tmp_path):
    _, scp = write_sources(tmp_path / "audio", "hubert_base_tiny")
    model = str(hf_folder(tmp_path, "hubert_base_tiny"))
    (tmp_path / "a_file").write_text("x")
    cases = [
        ([model, str(tmp_path / "nowhere.scp"), str(tmp_path / "o1")], "nowhere.scp"),
        ([model, str(scp), str(tmp_path / "a_file")], "a_file: exists and is not a folder"),
        ([str(tmp_path / "a_file"), str(scp), str(tmp_path / "o2")], "a_file: not a PyTorch"),
    ]
    for args, words in cases:
        proc = run(["python", "-m", "frontend.extract", *args], check=False)
        assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
        errors = [line for line in proc.stderr.splitlines() if "error:" in line]
        assert len(errors) == 1 and words in errors[0], proc.stderr
