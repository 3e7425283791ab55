"""Speed perturbation (ids, segments, lengths, pitch) and the audio dump."""

import numpy as np
import soundfile

from aishell_corpus import tone
from conftest import run
from fileio.audio import change_speed
from fileio.kaldi_table import read_table
from local.data.datadir import DataDir
from local.data.speed_perturb import combine, perturbed_copy


def peak_frequency(samples, rate):
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return np.argmax(spectrum) * rate / len(samples)


def test_speed_changes_length_and_pitch_together():
    x = tone(seconds=2.0, freq=500.0)
    for factor in (0.9, 1.1):
        y = change_speed(x, 16000, factor)
        assert abs(len(y) - len(x) / factor) <= 1
        assert abs(peak_frequency(y, 16000) - 500.0 * factor) < 2.0
    assert change_speed(x, 16000, 1.0) is x


def small_data_dir(path, with_segments=False):
    wav = path / "a.wav"
    soundfile.write(wav, tone(seconds=3.0), 16000, subtype="PCM_16")
    if with_segments:
        data = DataDir(
            wav_scp={"rec1": str(wav)},
            text={"u1": "你好", "u2": "再见"},
            utt2spk={"u1": "spk1", "u2": "spk1"},
            segments={"u1": "rec1 0.00 1.00", "u2": "rec1 1.50 2.70"},
        )
    else:
        data = DataDir(wav_scp={"u1": str(wav)}, text={"u1": "你好"}, utt2spk={"u1": "spk1"})
    data.write(path / "data", "tests")
    return path / "data"


def test_kaldi_compatible_ids_and_segment_times(tmp_path):
    data = DataDir.read(small_data_dir(tmp_path, with_segments=True))
    sp = combine([perturbed_copy(data, f) for f in (0.9, 1.0, 1.1)])
    assert sorted(sp.utt2spk) == ["sp0.9-u1", "sp0.9-u2", "sp1.1-u1", "sp1.1-u2", "u1", "u2"]
    assert sp.utt2spk["sp0.9-u2"] == "sp0.9-spk1" and sp.utt2spk["u2"] == "spk1"
    assert sp.segments["sp1.1-u2"] == "sp1.1-rec1 1.364 2.455"
    assert sp.reco2speed == {"rec1": "1", "sp0.9-rec1": "0.9", "sp1.1-rec1": "1.1"}
    assert sp.text["sp0.9-u1"] == "你好"


def test_dump_applies_speed_and_segments(tmp_path):
    src = small_data_dir(tmp_path, with_segments=True)
    run(
        [
            "python",
            "-m",
            "local.data.speed_perturb",
            "--factors",
            "0.9 1.0 1.1",
            str(src),
            str(tmp_path / "sp"),
        ]
    )
    out = tmp_path / "dump"
    run(
        [
            "python",
            "-m",
            "local.data.dump_audio",
            "plan",
            "--nj",
            "2",
            str(tmp_path / "sp"),
            str(out),
        ]
    )
    for job in ("1", "2"):
        run(["python", "-m", "local.data.dump_audio", "run", "--job", job, str(out)])
    run(["python", "-m", "local.data.dump_audio", "finish", "--filter", str(out)])
    lengths = {k: int(v) for k, v in read_table(out / "utt2num_samples").items()}
    assert abs(lengths["u2"] - 1.2 * 16000) <= 1
    assert abs(lengths["sp0.9-u2"] - 1.2 / 0.9 * 16000) <= 20
    assert abs(lengths["sp1.1-u1"] - 1.0 / 1.1 * 16000) <= 20
    for utt, path in read_table(out / "wav.scp").items():
        info = soundfile.info(path)
        assert (info.samplerate, info.channels, info.frames) == (16000, 1, lengths[utt])
        assert path.endswith(".flac")
    assert (out / "audio_format").read_text().strip() == "flac"
    assert "6 of 6 utterances" in (out / "report.txt").read_text()


def test_dump_resamples_filters_and_counts(tmp_path):
    paths = {}
    for name, seconds, rate in [
        ("ok", 1.0, 16000),
        ("rate8k", 1.0, 8000),
        ("short", 0.05, 16000),
        ("long", 21.0, 16000),
    ]:
        paths[name] = tmp_path / f"{name}.wav"
        soundfile.write(paths[name], tone(seconds=seconds, rate=rate), rate, subtype="PCM_16")
    paths["broken"] = tmp_path / "broken.wav"
    paths["broken"].write_bytes(b"not audio at all")
    text = {k: "文字" for k in paths}
    text["notext"] = "  "
    paths["notext"] = paths["ok"]
    DataDir(
        wav_scp={k: str(v) for k, v in paths.items()}, text=text, utt2spk={k: "s" for k in paths}
    ).write(tmp_path / "data", "tests")
    out = tmp_path / "dump"
    run(["python", "-m", "local.data.dump_audio", "plan", str(tmp_path / "data"), str(out)])
    run(["python", "-m", "local.data.dump_audio", "run", "--job", "1", str(out)])
    proc = run(
        [
            "python",
            "-m",
            "local.data.dump_audio",
            "finish",
            "--filter",
            "--max-duration",
            "20",
            str(out),
        ]
    )
    kept = read_table(out / "utt2num_samples")
    assert set(kept) == {"ok", "rate8k"}
    assert int(kept["rate8k"]) == 16000
    report = (out / "report.txt").read_text()
    for line in [
        "2 of 6 utterances",
        "dropped (unreadable audio): 1",
        "dropped (empty text): 1",
        "dropped (shorter than 0.1 s): 1",
        "dropped (longer than 20.0 s): 1",
        "resampled from 8000 Hz: 1",
    ]:
        assert line in report, report
    assert "unreadable audio" in proc.stdout
    assert "broken.wav" in (out / "dropped.txt").read_text()
    assert not (tmp_path / "dump.tmp").exists()


def test_finished_dump_jobs_are_kept_on_rerun(tmp_path):
    src = small_data_dir(tmp_path)
    out = tmp_path / "dump"
    run(["python", "-m", "local.data.dump_audio", "plan", str(src), str(out)])
    run(["python", "-m", "local.data.dump_audio", "run", "--job", "1", str(out)])
    proc = run(["python", "-m", "local.data.dump_audio", "run", "--job", "1", str(out)])
    assert "already done" in proc.stdout
