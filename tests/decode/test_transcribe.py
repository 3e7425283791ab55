"""Transcription with a packed model: the zh_ssl_asr API (local.decode.transcriber)
and `python -m local.transcribe`.

With a random tiny model packed as stage 10 packs (tiny_pack): hypotheses equal
ESPnet's Speech2Text, token times equal torchaudio's forced alignment, long
recordings cut by silero-vad within 0.3 s of the joined utterances, subtitles that
`srt` and `webvtt-py` read back, bad inputs per file and bad model paths with one
line each, the unpack cache. On the end-to-end recipes (conftest's session
fixtures): the FBank and SSL packs of stage 10, unzipped elsewhere with exp/ and
the SSL models out of reach, give stage 7's hypotheses through the command and the
API."""

import html
import itertools
import json
import os
import shutil
import zipfile
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import soundfile

from conftest import run
from fileio.kaldi_table import read_table
from tiny_pack import mini_test_utterances

RATE = 16000


@pytest.fixture(scope="module")
def utterances():
    return [samples for _, samples in mini_test_utterances()]


def joined(utterances, seed, n, pauses=(0.4, 2.5), noise=0.0):
    """n utterances (cycling through them) separated by random pauses: (samples,
    [(start, end)] seconds of each utterance)."""
    rng = np.random.default_rng(seed)
    first = rng.integers(len(utterances))
    parts, truth, t = [], [], 0.0
    for i in range(n):
        speech = utterances[(first + i) % len(utterances)]
        pause = np.zeros(int(RATE * rng.uniform(*pauses)), dtype=np.float32)
        parts += [pause, speech]
        t += len(pause) / RATE
        truth.append((t, t + len(speech) / RATE))
        t += len(speech) / RATE
    parts.append(np.zeros(int(RATE * rng.uniform(*pauses)), dtype=np.float32))
    samples = np.concatenate(parts)
    if noise:
        samples = samples + rng.normal(0, noise, len(samples)).astype(np.float32)
    return samples, truth


def check_segments(result, truth):
    """Every segment within 0.3 s of its utterance; token times inside their
    segment and in order; the text is the segments' texts."""
    assert result.ok and len(result.segments) == len(truth)
    for segment, (start, end) in zip(result.segments, truth):
        assert abs(segment.start - start) <= 0.3 and abs(segment.end - end) <= 0.3
        times = [(t.start, t.end) for t in segment.tokens]
        assert all(a is not None for a, _ in times)
        assert all(segment.start <= a <= b <= segment.end for a, b in times)
        assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(times))
    assert result.text == "".join(s.text for s in result.segments)


# --- the API ---------------------------------------------------------------------


def espnets(asr, samples):
    """(text, tokens) of ESPnet's Speech2Text, without the special tokens it leaves
    in (the random model runs some hypotheses to the length limit, ending in
    <sos/eos>), which a transcript never holds."""
    _, tokens, *_ = asr.speech2text(samples)[0]
    tokens = [t for t in tokens if t not in ("<sos/eos>", "<unk>", "<blank>")]
    return "".join(tokens), tokens


def test_hypotheses_are_espnets_speech2text(asr, utterances):
    items = utterances[:12]
    results = asr.transcribe(items, batch_size=5)
    for result, samples in zip(results, items):
        text, tokens = espnets(asr, samples)
        assert result.text == text
        assert [t.text for t in result.tokens] == tokens
        assert len(result.segments) == 1 and result.duration == round(len(samples) / RATE, 3)
    assert [r.text for r in asr.transcribe(items, batch_size=1)] == [r.text for r in results]


def test_token_times_are_torchaudios_forced_alignment(asr, utterances):
    import torch
    from torchaudio.functional import forced_align, merge_tokens

    from local.decode.align import frame_shift

    samples = utterances[3]
    (result,) = asr.transcribe([samples])
    model = asr.speech2text.asr_model
    with torch.no_grad():
        enc = asr.decoder.encode(torch.from_numpy(samples))
        log_probs = model.ctc.log_softmax(enc.unsqueeze(0))
    shift = frame_shift(model)
    assert shift == 160 * 8  # FBank hop x conv2d8
    assert abs(len(samples) / shift - len(enc)) <= 2
    ids = asr.speech2text.converter.tokens2ids([t.text for t in result.tokens])
    labels, scores = forced_align(log_probs, torch.tensor([ids], dtype=torch.int32), blank=0)
    spans = merge_tokens(labels[0], scores[0].exp())
    segment = result.segments[0]
    clip = lambda frame: min(max(frame * shift / RATE, segment.start), segment.end)
    assert len(spans) == len(result.tokens) > 0
    for token, span in zip(result.tokens, spans):
        assert token.start == pytest.approx(clip(span.start), abs=1e-3)
        assert token.end == pytest.approx(clip(span.end), abs=1e-3)
        assert token.confidence == pytest.approx(span.score, abs=1e-4)
        assert 0.0 <= token.confidence <= 1.0
    assert result.confidence == pytest.approx(
        np.mean([t.confidence for t in result.tokens]), abs=1e-4
    )


def test_a_recording_of_joined_utterances_is_cut_at_the_pauses(asr, utterances):
    samples, truth = joined(utterances, seed=1, n=12, noise=0.002)
    stereo = np.stack([samples, samples], axis=1)
    results = asr.transcribe([samples, (samples[::2].copy(), 8000), (stereo, RATE)])
    check_segments(results[0], truth)
    check_segments(results[1], truth)  # given at 8 kHz
    check_segments(results[2], truth)  # a stereo array is averaged, as a stereo file
    assert results[2].text == results[0].text
    # the segments searched together are ESPnet's hypotheses of the same pieces
    from local.decode.vad import speech_spans

    spans = speech_spans([samples], asr.max_seconds)[0]
    assert [(s.start, s.end) for s in results[0].segments] == [
        (round(a / RATE, 3), round(b / RATE, 3)) for a, b in spans
    ]
    for segment, (a, b) in zip(results[0].segments, spans):
        assert segment.text == espnets(asr, samples[a:b])[0]


def test_a_short_recording_is_decoded_whole_and_its_tokens_shared_out(asr, utterances):
    samples, truth = joined(utterances, seed=6, n=4, pauses=(0.3, 1.2))
    assert len(samples) / RATE <= asr.max_seconds
    (result,) = asr.transcribe([samples])
    text, tokens = espnets(asr, samples)  # stage 7 decodes the whole file
    assert result.text == text and [t.text for t in result.tokens] == tokens
    check_segments(result, truth)
    assert sum(bool(s.tokens) for s in result.segments) >= 2


@pytest.mark.slow  # 10 minutes of audio
def test_a_ten_minute_recording(asr, utterances):
    samples, truth = joined(utterances, seed=2, n=330, pauses=(0.5, 2.0))
    assert len(samples) / RATE >= 600
    (result,) = asr.transcribe([samples], batch_size=32)
    check_segments(result, truth)
    assert result.duration == pytest.approx(len(samples) / RATE, abs=1e-3)


def test_energy_split_is_the_fallback(asr, utterances, monkeypatch, caplog):
    from local.decode import vad
    from zh_ssl_asr import Transcriber

    def missing():
        raise vad.VADUnavailable("silero-vad: No module named 'silero_vad'")

    monkeypatch.setattr(vad, "silero_model", missing)
    transcriber = Transcriber(asr.speech2text, vad="silero", max_seconds=4.0)
    samples, _ = joined(utterances, seed=3, n=5, pauses=(0.3, 0.6))
    (result,) = transcriber.transcribe([samples])
    assert "using the energy-based split" in caplog.text and transcriber.vad == "energy"
    bounds = [(s.start, s.end) for s in result.segments]
    assert bounds[0][0] == 0.0 and bounds[-1][1] == pytest.approx(len(samples) / RATE, abs=1e-3)
    assert all(b - a <= 4.0 for a, b in bounds) and len(bounds) >= len(samples) / RATE / 4
    assert all(b1 == a2 for (_, b1), (a2, _) in itertools.pairwise(bounds))
    assert result.text == "".join(s.text for s in result.segments) != ""


def test_bad_inputs_get_an_error_each_and_the_others_are_transcribed(asr, utterances, tmp_path):
    speech = utterances[5]
    soundfile.write(tmp_path / "mono.wav", speech, RATE)
    soundfile.write(tmp_path / "stereo.flac", np.stack([speech, speech], axis=1), RATE)
    soundfile.write(tmp_path / "empty.wav", np.zeros(0, np.float32), RATE)
    soundfile.write(tmp_path / "silence.wav", np.zeros(2 * RATE, np.float32), RATE)
    (tmp_path / "garbage.wav").write_bytes(b"RIFF\x00\x00 this is not audio")
    (tmp_path / "folder.wav").mkdir()
    not_utf8 = os.fsdecode(os.fsencode(tmp_path) + b"/name\xff.wav")  # as a shell passes it
    soundfile.write(os.fsencode(not_utf8), speech, RATE)
    inputs = [
        tmp_path / "mono.wav",
        tmp_path / "missing.wav",
        tmp_path / "stereo.flac",
        tmp_path / "empty.wav",
        tmp_path / "garbage.wav",
        tmp_path / "silence.wav",
        tmp_path / "folder.wav",
        np.array([0.0, np.nan] * RATE, dtype=np.float32),
        (speech * 32768).astype(np.int16),
        not_utf8,
    ]
    results = asr.transcribe(inputs)
    errors = {Path(r.source).name: r.error for r in results if r.error}
    assert set(errors) == {"missing.wav", "empty.wav", "garbage.wav", "folder.wav", "<input 7>"}
    assert "no such file" in errors["missing.wav"] and "empty" in errors["empty.wav"]
    assert "cannot read audio" in errors["garbage.wav"] and "folder" in errors["folder.wav"]
    assert "not finite" in errors["<input 7>"]
    mono, stereo, silence, int16 = results[0], results[2], results[5], results[8]
    assert mono.text == espnets(asr, speech)[0]
    assert stereo.text == mono.text and "2 channels averaged to mono" in stereo.notes
    assert silence.ok and silence.text == "" and silence.segments == []
    assert "no speech found" in silence.notes[0]
    assert int16.text == mono.text and results[9].text == mono.text
    assert [r.source for r in results][:2] == [str(tmp_path / "mono.wav"), str(inputs[1])]


# --- model paths and the unpack cache --------------------------------------------


@pytest.fixture
def bad_models(pack, tmp_path):
    """{name: (path, words the error must contain)} of paths that are not packs."""
    good = pack.read_bytes()
    models = tmp_path / "models"
    models.mkdir()
    (models / "text.zip").write_text("not a zip\n")
    (models / "truncated.zip").write_bytes(good[: len(good) // 2])
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(models / "no_meta.zip", "w") as dst:
        for name in src.namelist():
            if name != "meta.yaml":
                dst.writestr(name, src.read(name))
    with zipfile.ZipFile(pack) as src, zipfile.ZipFile(models / "no_model.zip", "w") as dst:
        for name in src.namelist():
            if not name.endswith(".pth"):
                dst.writestr(name, src.read(name))
    with zipfile.ZipFile(pack) as src:
        info = src.getinfo("exp/asr_tiny/valid.acc.ave.pth")
    damaged = bytearray(good)
    middle = info.header_offset + 200 + info.compress_size // 2
    damaged[middle : middle + 64] = bytes(64)
    (models / "damaged.zip").write_bytes(bytes(damaged))
    (models / "not_a_pack").mkdir()
    (models / "not_a_pack/config.yaml").write_text("encoder: conformer\n")
    unzipped = models / "unzipped_without_model"
    with zipfile.ZipFile(pack) as src:
        src.extractall(unzipped)
    os.remove(unzipped / "exp/asr_tiny/valid.acc.ave.pth")
    return {
        "text": (models / "text.zip", ["not a packed model", "zip"]),
        "truncated": (models / "truncated.zip", ["not a packed model", "truncated"]),
        "no_meta": (models / "no_meta.zip", ["no meta.yaml"]),
        "no_model": (models / "no_model.zip", ["asr_model_file", "missing"]),
        "damaged": (models / "damaged.zip", ["damaged archive", "valid.acc.ave.pth"]),
        "folder": (models / "not_a_pack", ["not a packed model folder", "no meta.yaml"]),
        "unzipped": (unzipped, ["asr_model_file", "missing"]),
        "absent": (models / "absent.zip", ["no such file"]),
    }


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in Path(folder).rglob("*"))


def test_a_path_that_is_no_pack_is_one_line_and_leaves_nothing(bad_models, tmp_path, utterances):
    from zh_ssl_asr import PackError, Transcriber

    models = tmp_path / "models"
    before = listing(models)
    cache = tmp_path / "cache"
    soundfile.write(tmp_path / "a.wav", utterances[0], RATE)
    for name, (path, words) in bad_models.items():
        with pytest.raises(PackError) as raised:
            Transcriber.from_pretrained(path)
        message = str(raised.value)
        assert "\n" not in message and path.name in message, name
        assert all(w in message for w in words), (name, message)
        proc = run(
            ["python", "-m", "local.transcribe", str(path), str(tmp_path / "a.wav")],
            check=False,
            XDG_CACHE_HOME=cache,
        )
        assert proc.returncode != 0 and proc.stdout == "", name
        lines = [line for line in proc.stderr.splitlines() if "flash_attn" not in line]
        assert lines == [f"transcribe: error: {message}"], (name, proc.stderr)
    assert listing(models) == before  # no half-unpacked folder, nothing else
    assert not cache.exists() or listing(cache) == []


def test_a_bad_decode_config_is_one_line_naming_it(pack, tmp_path, utterances):
    from zh_ssl_asr import OptionError, PackError, Transcriber

    configs = {
        "not_yaml.yaml": (": [\n", "not_yaml.yaml:1: not valid YAML"),
        "list.yaml": ("- beam_size\n", "list.yaml: a decode config is a mapping"),
        "unknown.yaml": (
            "beam_size: 2\nwings: 3\n",
            "unknown.yaml: wings: 3: not a decoding option",
        ),
        "gbk.yaml": ("beam_size: 2 # 束\n".encode("gbk"), "gbk.yaml: not UTF-8"),
        "absent.yaml": (None, "absent.yaml: no such file"),
    }
    for name, (content, words) in configs.items():
        if isinstance(content, bytes):
            (tmp_path / name).write_bytes(content)
        elif content is not None:
            (tmp_path / name).write_text(content)
        with pytest.raises((PackError, OptionError)) as raised:
            Transcriber.from_pretrained(pack, config=tmp_path / name)
        assert "\n" not in str(raised.value) and words in str(raised.value), str(raised.value)
    soundfile.write(tmp_path / "a.wav", utterances[0], RATE)
    proc = run(
        ["python", "-m", "local.transcribe", str(pack), str(tmp_path / "a.wav")]
        + ["--config", str(tmp_path / "not_yaml.yaml")],
        check=False,
    )
    lines = [line for line in proc.stderr.splitlines() if "flash_attn" not in line]
    assert proc.returncode == 1 and len(lines) == 1 and "not_yaml.yaml:1: not valid" in lines[0]


def test_a_file_name_that_is_not_utf8_is_printed_and_written(pack, tmp_path, utterances):
    """Under a strict UTF-8 output, as on an ordinary UTF-8 locale: the bytes that are
    not UTF-8 are written as \\xNN in the text line and the JSON."""
    name = os.fsdecode(os.fsencode(tmp_path) + b"/name\xff.wav")
    soundfile.write(os.fsencode(name), utterances[0], RATE)
    command = ["python", "-m", "local.transcribe", str(pack), name]
    strict = {"PYTHONIOENCODING": "utf-8:strict"}
    proc = run(command, **strict)
    source, text = proc.stdout.rstrip("\n").rsplit("\t", 1)
    assert source == f"{tmp_path}/name\\xff.wav" and text
    run(command + ["--format", "json", "--output_dir", str(tmp_path / "out")], **strict)
    (written,) = (tmp_path / "out").iterdir()
    assert os.fsencode(written.name) == b"name\xff.json"
    assert json.loads(written.read_text(encoding="utf-8"))["source"] == source


def test_unpack_cache_beside_the_archive_else_the_users(pack, tmp_path, monkeypatch):
    from local.decode.packed_model import TOOL, model_folder
    from zh_ssl_asr import Transcriber

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    writable = tmp_path / "writable"
    writable.mkdir()
    shutil.copy(pack, writable / "m.zip")
    folder = model_folder(writable / "m.zip")
    assert folder == writable / "m.zip.unpacked"
    assert (folder / ".written_by").read_text().strip() == TOOL
    marker = (folder / "meta.yaml").stat().st_mtime_ns
    assert model_folder(writable / "m.zip") == folder  # reused
    assert (folder / "meta.yaml").stat().st_mtime_ns == marker
    os.utime(writable / "m.zip", ns=(1, 1))  # a changed archive is unpacked again
    assert model_folder(writable / "m.zip") == folder
    assert (folder / "meta.yaml").stat().st_mtime_ns != marker

    blocked = tmp_path / "blocked"  # the place beside it holds the user's own file
    blocked.mkdir()
    shutil.copy(pack, blocked / "m.zip")
    (blocked / "m.zip.unpacked").write_text("mine")
    folder = model_folder(blocked / "m.zip")
    assert folder.parent == tmp_path / "cache/zh-ssl-asr"
    assert (blocked / "m.zip.unpacked").read_text() == "mine"
    assert Transcriber.from_pretrained(blocked / "m.zip").speech2text is not None

    if os.geteuid() != 0:  # root writes anywhere
        readonly = tmp_path / "readonly"
        readonly.mkdir()
        shutil.copy(pack, readonly / "m.zip")
        readonly.chmod(0o555)
        try:
            assert model_folder(readonly / "m.zip").parent == tmp_path / "cache/zh-ssl-asr"
            assert listing(readonly) == ["m.zip"]
        finally:
            readonly.chmod(0o755)


def test_an_unzipped_pack_moved_anywhere_equals_the_archive(pack, asr, utterances, tmp_path):
    from zh_ssl_asr import Transcriber

    with zipfile.ZipFile(pack) as archive:
        archive.extractall(tmp_path / "first")
    files = listing(tmp_path / "first")
    items = utterances[:4]
    expected = [r.text for r in asr.transcribe(items)]
    assert [r.text for r in Transcriber.from_pretrained(tmp_path / "first").transcribe(items)] == (
        expected
    )
    (tmp_path / "first").rename(tmp_path / "second")  # nothing points back to the old place
    moved = Transcriber.from_pretrained(tmp_path / "second")
    assert [r.text for r in moved.transcribe(items)] == expected
    assert listing(tmp_path / "second") == files  # a packed folder is only read


# --- the command -------------------------------------------------------------------


def test_command_formats_read_back(pack, asr, utterances, tmp_path):
    import srt
    import webvtt

    long, truth = joined(utterances, seed=4, n=6, noise=0.002)
    audio = tmp_path / "audio"
    audio.mkdir()
    soundfile.write(audio / "long recording.wav", long, RATE)
    soundfile.write(audio / "tab\tname.flac", utterances[7], RATE)
    soundfile.write(audio / "silence.wav", np.zeros(RATE, np.float32), RATE)
    (audio / "broken.wav").write_bytes(b"RIFF broken")
    files = [str(audio / n) for n in ("long recording.wav", "tab\tname.flac", "silence.wav")]
    files.append(str(audio / "broken.wav"))
    expected = asr.transcribe(files)
    check_segments(expected[0], truth)

    proc = run(["python", "-m", "local.transcribe", str(pack), *files], check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert [line.rsplit("\t", 1) for line in proc.stdout.splitlines()] == [
        [r.source, r.text] for r in expected[:3]
    ]
    assert f"{files[3]}: ERROR cannot read audio" in proc.stderr
    assert f"{files[2]}: note: no speech found" in proc.stderr
    assert "1 of 4 files failed" in proc.stderr

    proc = run(
        ["python", "-m", "local.transcribe", str(pack), *files, "--format", "json"], check=False
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["source"] for line in lines] == files
    assert lines[3] == {"source": files[3], "error": expected[3].error}
    for line, result in zip(lines[:3], expected):
        assert line["text"] == result.text and line["duration"] == result.duration
        assert line["segments"] == result.to_dict()["segments"]
        assert line["confidence"] == result.confidence
    token = lines[0]["segments"][0]["tokens"][0]
    assert set(token) == {"text", "start", "end", "confidence"}

    for form in ("srt", "vtt"):
        out = tmp_path / form
        proc = run(
            [
                "python",
                "-m",
                "local.transcribe",
                str(pack),
                *files[:3],
                "--format",
                form,
                "--output_dir",
                str(out),
            ],
        )
        assert listing(out) == sorted(f"{Path(f).stem}.{form}" for f in files[:3])
        text = (out / f"long recording.{form}").read_text(encoding="utf-8")
        if form == "srt":
            cues = [
                (c.start.total_seconds(), c.end.total_seconds(), c.content) for c in srt.parse(text)
            ]
        else:
            cues = [
                (
                    c.start_in_seconds + c.start_time.milliseconds / 1000,
                    c.end_in_seconds + c.end_time.milliseconds / 1000,
                    html.unescape(c.text),
                )
                for c in webvtt.from_string(text)
            ]
        segments = [s for s in expected[0].segments if s.text]
        assert len(cues) == len(segments) >= 3
        for (start, end, content), segment in zip(cues, segments):
            assert start == pytest.approx(segment.start, abs=1e-3)
            assert end == pytest.approx(segment.end, abs=1e-3)
            assert content == segment.text
        assert (out / f"silence.{form}").read_text().strip() in ("", "WEBVTT")
    # an existing output is not replaced without --force; several files need --output_dir
    proc = run(
        [
            "python",
            "-m",
            "local.transcribe",
            str(pack),
            files[0],
            "--format",
            "srt",
            "--output_dir",
            str(tmp_path / "srt"),
        ],
        check=False,
    )
    assert proc.returncode == 2 and "exists; not replaced" in proc.stderr
    proc = run(
        ["python", "-m", "local.transcribe", str(pack), *files[:2], "--format", "vtt"], check=False
    )
    assert proc.returncode == 2 and "needs --output_dir" in proc.stderr


# --- end to end: stage 10's packs against stage 7 ----------------------------------


def stage7(folder, experiment, dset="test"):
    """{utterance: (dumped audio, stage 7's hypothesis)} of a decoded test set."""
    (decode,) = (folder / "exp" / experiment).glob("decode_tiny_lm_*valid.acc.ave_2best")
    texts = read_table(decode / dset / "text", allow_empty_value=True)
    audio = read_table(folder / "dump/raw" / dset / "wav.scp")
    assert set(texts) == set(audio) and len(texts) >= 6
    return {utt: (audio[utt], texts[utt]) for utt in sorted(texts)}


@contextmanager
def out_of_reach(*folders):
    """The folders renamed for the duration of the block (then restored)."""
    moved = []
    try:
        for folder in folders:
            hidden = folder.with_name(folder.name + ".hidden")
            folder.rename(hidden)
            moved.append((hidden, folder))
        yield
    finally:
        for hidden, folder in moved:
            hidden.rename(folder)


def test_transcribe_command(finished_recipe, tmp_path):
    """The FBank pack of stage 10: the test set's files as stage 7 decoded them, the
    same audio at 8 kHz, as FLAC and as opus, and the test utterances joined with
    pauses; a broken file among them."""
    from fileio.audio import read_audio, resample

    folder, _, _ = finished_recipe
    experiment = "asr_train_asr_tiny_sp"
    decoded = stage7(folder, experiment)
    model = tmp_path / "model.zip"
    shutil.copy(folder / "exp" / experiment / f"packed/{experiment}.zip", model)
    first, rate = read_audio(next(iter(decoded.values()))[0])
    soundfile.write(tmp_path / "a_8k.wav", resample(first, rate, 8000), 8000)
    soundfile.write(tmp_path / "b.flac", first, rate)
    soundfile.write(tmp_path / "c.opus", first, rate, format="OGG", subtype="OPUS")
    utts = [read_audio(path)[0] for path, _ in decoded.values()]
    long, truth = joined(utts, seed=5, n=len(utts), pauses=(0.6, 1.5))
    soundfile.write(tmp_path / "d long.wav", long, rate)
    (tmp_path / "e_broken.wav").write_bytes(b"RIFF not really audio")
    extra = [str(tmp_path / n) for n in ("a_8k.wav", "b.flac", "e_broken.wav", "c.opus")]
    files = [path for path, _ in decoded.values()] + extra + [str(tmp_path / "d long.wav")]
    proc = run(
        ["python", "-m", "local.transcribe", str(model), *files, "--format", "json"], check=False
    )
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "e_broken.wav: ERROR" in proc.stderr and f"1 of {len(files)} files failed" in proc.stderr
    results = {r["source"]: r for r in map(json.loads, proc.stdout.splitlines())}
    assert list(results) == files
    for path, text in decoded.values():
        assert results[path]["text"] == text, path  # stage 7's hypothesis
    assert results[extra[1]]["text"] == results[files[0]]["text"]  # the same samples as FLAC
    for name in (extra[0], extra[3]):
        assert len(results[name]["segments"]) == 1 and "error" not in results[name]
    segments = results[files[-1]]["segments"]
    assert len(segments) == len(truth)
    for segment, (start, end) in zip(segments, truth):
        assert abs(segment["start"] - start) <= 0.3 and abs(segment["end"] - end) <= 0.3
        times = [(t["start"], t["end"]) for t in segment["tokens"]]
        assert all(segment["start"] <= a <= b <= segment["end"] for a, b in times)
        assert all(b1 <= a2 for (_, b1), (a2, _) in itertools.pairwise(times))


@pytest.mark.parametrize(
    "kind",
    ["fbank", pytest.param("ssl", marks=pytest.mark.slow)],  # ssl: stages 6-10 again
)
def test_unzipped_pack_transcribes_as_stage_7(kind, request, tmp_path):
    """Stage 10's pack unzipped elsewhere, the experiment folder and the SSL models
    out of reach: the test set's hypotheses of stage 7, through the command and the
    API."""
    from zh_ssl_asr import Transcriber

    if kind == "fbank":
        folder, env, _ = request.getfixturevalue("finished_recipe")
        experiment, hidden = "asr_train_asr_tiny_sp", []
    else:
        folder, env, _ = request.getfixturevalue("ssl_experiment")
        experiment = "asr_train_asr_tiny_ssl_sp"
        hidden = [Path(env["TINY_HUBERT_LARGE"]).parent]
    decoded = stage7(folder, experiment)
    unzipped = tmp_path / "elsewhere" / "model"
    with zipfile.ZipFile(folder / "exp" / experiment / f"packed/{experiment}.zip") as archive:
        archive.extractall(unzipped)
    audio = tmp_path / "audio"
    audio.mkdir()
    files = []
    for utt, (path, _) in decoded.items():
        files.append(str(audio / f"{utt}.flac"))
        shutil.copy(path, files[-1])
    with out_of_reach(folder / "exp", *hidden):
        proc = run(["python", "-m", "local.transcribe", str(unzipped), *files], cwd=tmp_path)
        asr = Transcriber.from_pretrained(unzipped)
        results = asr.transcribe(files, batch_size=4)
    expected = [text for _, text in decoded.values()]
    assert [line.rsplit("\t", 1)[1] for line in proc.stdout.splitlines()] == expected
    assert [r.text for r in results] == expected
    assert all(r.ok and len(r.segments) == 1 for r in results)
    # character times: the encoder's frame shift (FBank hop 160 x conv2d8; SSL 320 x conv2d2)
    from local.decode.align import frame_shift

    assert frame_shift(asr.model) == {"fbank": 1280, "ssl": 640}[kind]
    assert all(t.start is not None and t.confidence is not None for r in results for t in r.tokens)
