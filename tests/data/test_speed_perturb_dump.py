"""Speed perturbation (ids, segments, lengths, pitch) and the audio dump."""

import json

import numpy as np
import soundfile

from aishell_corpus import tone
from conftest import tool
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
    tool("local.data.speed_perturb", "--factors", "0.9 1.0 1.1", src, tmp_path / "sp")
    out = tmp_path / "dump"
    tool("local.data.dump_audio", "plan", "--nj", 2, tmp_path / "sp", out)
    for job in (1, 2):
        tool("local.data.dump_audio", "run", "--job", job, out)
    tool("local.data.dump_audio", "finish", "--filter", out)
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
    tool("local.data.dump_audio", "plan", tmp_path / "data", out)
    tool("local.data.dump_audio", "run", "--job", "1", out)
    proc = tool("local.data.dump_audio", "finish", "--filter", "--max-duration", "20", out)
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
    tool("local.data.dump_audio", "plan", src, out)
    tool("local.data.dump_audio", "run", "--job", "1", out)
    proc = tool("local.data.dump_audio", "run", "--job", "1", out)
    assert "already done" in proc.stdout


# --- where each dumped sample comes from -----------------------------------------
# A linear chirp says where it is: its pitch rises with time, so a segment cut from
# the wrong place, or heard at the wrong speed, no longer matches the analytic
# signal of the right place.

CHIRP_START_HZ, CHIRP_RISE_HZ_PER_S, RATE = 200.0, 150.0, 16000


def chirp_at(times):
    """The chirp's value at the given times (seconds from the recording's start)."""
    phase = CHIRP_START_HZ * times + CHIRP_RISE_HZ_PER_S * times**2 / 2
    return 0.5 * np.sin(2 * np.pi * phase)


def chirp_recording(path, seconds=8.0, rate=RATE):
    samples = chirp_at(np.arange(int(seconds * rate)) / rate)
    soundfile.write(path, samples, rate, subtype="PCM_16")
    return soundfile.read(path, dtype="float32")[0]  # as stored (16-bit)


def similarity(a, b):
    """Normalized correlation of two equally long signals (1: the same shape)."""
    return float(np.dot(a, b) / np.sqrt(np.dot(a, a) * np.dot(b, b)))


# u1's times in samples are just below whole numbers as floats (1.001 * 16000 =
# 16015.999...): cutting by truncation instead of rounding loses a sample there
SEGMENTS = {"u1": (1.001, 2.006), "u2": (3.5, 5.25), "u3": (6.0, 7.9)}


def chirp_data_dir(tmp_path, rate=RATE):
    original = chirp_recording(tmp_path / "rec.wav", rate=rate)
    DataDir(
        wav_scp={"rec": str(tmp_path / "rec.wav")},
        text={u: "文字" for u in SEGMENTS},
        utt2spk={u: "spk" for u in SEGMENTS},
        segments={u: f"rec {a:.3f} {b:.3f}" for u, (a, b) in SEGMENTS.items()},
    ).write(tmp_path / "data", "tests")
    return tmp_path / "data", original


def dump(src, out, nj=1):
    tool("local.data.dump_audio", "plan", "--nj", nj, src, out)
    for job in range(1, nj + 1):
        tool("local.data.dump_audio", "run", "--job", job, out)
    tool("local.data.dump_audio", "finish", out)
    return {
        u: soundfile.read(p, dtype="float32")[0] for u, p in read_table(out / "wav.scp").items()
    }


def test_dumped_and_read_segments_are_the_original_slices(tmp_path):
    from local.data.segments_reader import SegmentsReader

    src, original = chirp_data_dir(tmp_path)
    dumped = dump(src, tmp_path / "dump")
    tool("local.data.dump_audio", "link", src, tmp_path / "nodump")
    reader = SegmentsReader(tmp_path / "nodump/segments")
    lengths = read_table(tmp_path / "nodump/utt2num_samples")
    for utt, (start, end) in SEGMENTS.items():
        expected = original[round(start * RATE) : round(end * RATE)]
        np.testing.assert_array_equal(dumped[utt], expected)  # 16-bit in, 16-bit out
        rate, read = reader[utt]
        assert rate == RATE
        np.testing.assert_array_equal(read, expected)
        assert int(lengths[utt]) == len(expected), utt


def assert_heard_at_speed(dumped, factors):
    """Every segment of SEGMENTS, dumped at each speed factor, is the chirp's stretch
    of the right place heard at the right speed (16 kHz)."""
    for factor in factors:
        for utt, (start, end) in SEGMENTS.items():
            samples = dumped[utt if factor == 1.0 else f"sp{factor:g}-{utt}"]
            # at speed f, sample t of the segment is the original's at start + f t, where
            # the segment starts at start / f in the perturbed recording, written to the ms
            assert abs(len(samples) - (end - start) / factor * RATE) <= RATE // 1000 + 1, utt
            begin = factor * round(start / factor, 3)
            expected = chirp_at(begin + factor * np.arange(len(samples)) / RATE)
            assert similarity(samples, expected) > 0.99, (factor, utt)


def test_speed_perturbed_segments_are_the_original_heard_faster_or_slower(tmp_path):
    src, _ = chirp_data_dir(tmp_path)
    tool("local.data.speed_perturb", "--factors", "0.9 1.0 1.1", src, tmp_path / "sp")
    dumped = dump(tmp_path / "sp", tmp_path / "dump", nj=2)
    assert len(dumped) == 3 * len(SEGMENTS)
    assert_heard_at_speed(dumped, (0.9, 1.0, 1.1))
    # the check can tell: the same segment 0.25 s late, or at the wrong speed, is unlike it
    samples = dumped["sp1.1-u2"]
    late = chirp_at(3.5 + 0.25 + 1.1 * np.arange(len(samples)) / RATE)
    unchanged = chirp_at(3.5 + np.arange(len(samples)) / RATE)
    assert similarity(samples, late) < 0.5 and similarity(samples, unchanged) < 0.5


def test_whole_recordings_are_heard_faster_or_slower(tmp_path):
    """Speed perturbation of a set without segments: every file is an utterance."""
    chirp_recording(tmp_path / "rec.wav", seconds=3.0)
    DataDir(
        wav_scp={"u1": str(tmp_path / "rec.wav")}, text={"u1": "文字"}, utt2spk={"u1": "spk"}
    ).write(tmp_path / "data", "tests")
    tool("local.data.speed_perturb", "--factors", "0.9 1.0 1.1", tmp_path / "data", tmp_path / "sp")
    dumped = dump(tmp_path / "sp", tmp_path / "dump")
    for factor, utt in ((0.9, "sp0.9-u1"), (1.0, "u1"), (1.1, "sp1.1-u1")):
        samples = dumped[utt]
        assert abs(len(samples) - 3.0 / factor * RATE) <= 1, utt
        expected = chirp_at(factor * np.arange(len(samples)) / RATE)
        assert similarity(samples, expected) > 0.99, utt


def test_a_recording_at_another_rate_is_cut_and_sped_in_16k_time(tmp_path):
    """An 8 kHz recording with segments: the segments are cut at their times (not at
    times counted in 8 kHz samples) and heard faster or slower, at 16 kHz."""
    src, _ = chirp_data_dir(tmp_path, rate=8000)
    tool("local.data.speed_perturb", "--factors", "1.0 1.1", src, tmp_path / "sp")
    assert_heard_at_speed(dump(tmp_path / "sp", tmp_path / "dump"), (1.0, 1.1))


def test_perturbing_a_perturbed_set_multiplies_the_speeds(tmp_path):
    src, _ = chirp_data_dir(tmp_path)
    tool("local.data.speed_perturb", "--factors", "0.9", src, tmp_path / "sp")
    tool("local.data.speed_perturb", "--factors", "1.1", tmp_path / "sp", tmp_path / "sp2")
    speeds = read_table(tmp_path / "sp2/reco2speed")
    assert speeds == {"sp1.1-sp0.9-rec": "0.99"}
    # a sped set cannot be read in place (only the dump applies the speed)
    proc = tool("local.data.dump_audio", "link", tmp_path / "sp2", tmp_path / "link", check=False)
    assert proc.returncode != 0 and "speed perturbation needs the audio dump" in proc.stderr


def test_lm_text_check_finds_every_leaked_sentence(tmp_path):
    lm_text = tmp_path / "lm_text"
    lm_text.write_text("a1 床前明月光\na2 疑是 地上霜\na3 举头望明月\n", encoding="utf-8")
    dev, test = tmp_path / "dev_text", tmp_path / "test_text"
    dev.write_text("d0\nd1 低头思故乡\nd2 疑是地上霜\n", encoding="utf-8")  # a2 without spaces
    test.write_text("t1\t举头 望 明月\nt2 春眠不觉晓\n", encoding="utf-8")
    proc = tool("local.data.check_lm_text", lm_text, dev, test, check=False)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"{dev}: d2 '疑是地上霜' is line 2 of {lm_text}",
        f"{test}: t1 '举头望明月' is line 3 of {lm_text}",
        "check_lm_text: error: 2 evaluation sentences are in the LM training text " + str(lm_text),
    ]
    # many leaks: the first 20 listed, all counted
    many = tmp_path / "many_text"
    many.write_text("".join(f"m{i} 举头望明月\n" for i in range(25)), encoding="utf-8")
    proc = tool("local.data.check_lm_text", lm_text, many, check=False)
    listed = proc.stderr.splitlines()
    assert len(listed) == 21 and listed[19].startswith(f"{many}: m19 ")
    assert listed[20].endswith(f"25 evaluation sentences are in the LM training text {lm_text}")
    test.write_text("t2 春眠不觉晓\n", encoding="utf-8")
    dev.write_text("d1 低头思故乡\n", encoding="utf-8")
    proc = tool("local.data.check_lm_text", lm_text, dev, test)
    assert proc.stdout == f"{lm_text}: no sentence of {dev} {test}\n"
    # one leak is enough; short sentences and any white space inside count too
    lm_text.write_text("a1 好的\na2 举头望明月\n", encoding="utf-8")
    for sentence in ("好的", "举头\u3000望\t明月"):
        dev.write_text(f"d1 {sentence}\n", encoding="utf-8")
        proc = tool("local.data.check_lm_text", lm_text, dev, check=False)
        assert proc.returncode == 1, sentence
        assert "1 evaluation sentences are in the LM training text" in proc.stderr, sentence


def test_ark_dump_holds_the_original_slices(tmp_path):
    """--audio_format ark: one Kaldi wav ark per job, read back through wav.scp."""
    import kaldiio

    src, original = chirp_data_dir(tmp_path)
    out = tmp_path / "dump"
    tool("local.data.dump_audio", "plan", "--nj", "2", "--audio-format", "ark", src, out)
    for job in ("1", "2"):
        tool("local.data.dump_audio", "run", "--job", job, out)
    tool("local.data.dump_audio", "finish", out)
    assert (out / "audio_format").read_text().strip() == "ark"
    table = read_table(out / "wav.scp")
    assert all(value.startswith(str(out.resolve() / "data/format.")) for value in table.values())
    for utt, (start, end) in SEGMENTS.items():
        rate, samples = kaldiio.load_mat(table[utt])
        assert rate == RATE
        np.testing.assert_array_equal(samples, original[round(start * RATE) : round(end * RATE)])


def test_an_interrupted_dump_job_goes_on_where_it_stopped(tmp_path):
    """A job killed between two recordings (its progress file ending in a half-written
    line) is rerun: finished recordings are kept, the others done, nothing twice."""
    src, original = chirp_data_dir(tmp_path)
    recordings = {}
    for name in ("r2", "r3"):  # two more recordings: three in one job
        soundfile.write(tmp_path / f"{name}.wav", original[: 3 * RATE], RATE, subtype="PCM_16")
        recordings[name] = str(tmp_path / f"{name}.wav")
    data = DataDir.read(src)
    data.wav_scp.update(recordings)
    for name in recordings:
        data.segments[f"{name}-u"] = f"{name} 0.50 2.50"
        data.text[f"{name}-u"], data.utt2spk[f"{name}-u"] = "文字", "spk"
    data.write(tmp_path / "data3", "tests")
    out = tmp_path / "dump"
    tool("local.data.dump_audio", "plan", tmp_path / "data3", out)
    tool("local.data.dump_audio", "run", "--job", "1", out)
    job = tmp_path / "dump.tmp/data/format.1"
    lines = (job / "progress.jsonl").read_text().splitlines(keepends=True)
    assert len(lines) == 3
    first = json.loads(lines[0])["recording"]
    written = {
        u: (job / f"{u}.flac").stat().st_mtime_ns for u, *_ in json.loads(lines[0])["written"]
    }
    # the state after a kill during the second recording: one done, one half-written line
    (job / "progress.jsonl").write_text(lines[0] + lines[1][: len(lines[1]) // 2])
    (job / ".done").unlink()
    proc = tool("local.data.dump_audio", "run", "--job", "1", out)
    assert "resuming after 1 finished recordings" in proc.stdout
    resumed = [
        json.loads(line)["recording"] for line in (job / "progress.jsonl").read_text().splitlines()
    ]
    assert resumed[0] == first and sorted(resumed) == sorted(set(resumed)) and len(resumed) == 3
    for utt, mtime in written.items():  # the finished recording was not written again
        assert (job / f"{utt}.flac").stat().st_mtime_ns == mtime
    tool("local.data.dump_audio", "finish", out)
    assert len(read_table(out / "wav.scp")) == len(SEGMENTS) + 2


def test_planning_again_keeps_the_finished_jobs_of_the_same_plan(tmp_path):
    src, _ = chirp_data_dir(tmp_path)
    out = tmp_path / "dump"
    tool("local.data.dump_audio", "plan", src, out)
    tool("local.data.dump_audio", "run", "--job", "1", out)
    tool("local.data.dump_audio", "plan", src, out)  # the same
    assert "already done" in tool("local.data.dump_audio", "run", "--job", "1", out).stdout
    tool("local.data.dump_audio", "plan", "--nj", "2", src, out)
    assert sorted(p.name for p in (tmp_path / "dump.tmp").iterdir()) == [
        "keys.1",
        "keys.2",
        "plan.json",
    ]  # another plan: the old jobs are gone
    assert "already done" not in tool("local.data.dump_audio", "run", "--job", "1", out).stdout
