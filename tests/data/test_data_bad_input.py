"""Bad tables, data folders, arguments and audio for the data tools (local.data).
Shared bad inputs and checks: tests/bad_input.py."""

import os
import shutil

import pytest

from bad_input import GARBAGE, GBK_TEXT, bad_arguments, bad_files, check_refused, data_dir, snapshot
from conftest import run, tool
from fileio.kaldi_table import DataError, read_table

TABLE_COMMANDS = {
    "split_keys": lambda bad, tmp: [
        "python",
        "-m",
        "local.data.split_keys",
        "--nj",
        "1",
        str(bad),
        str(tmp / "out.JOB"),
    ],
    "split_keys_lengths": lambda bad, tmp: [
        "python",
        "-m",
        "local.data.split_keys",
        "--nj",
        "1",
        "--lengths",
        str(bad),
        str(data_dir(tmp / "d") / "wav.scp"),
        str(tmp / "out.JOB"),
    ],
    "check_lm_text": lambda bad, tmp: [
        "python",
        "-m",
        "local.data.check_lm_text",
        str(bad),
        str(data_dir(tmp / "d") / "text"),
    ],
    "check_lm_text_eval": lambda bad, tmp: [
        "python",
        "-m",
        "local.data.check_lm_text",
        str(data_dir(tmp / "d") / "text"),
        str(bad),
    ],
}


@pytest.mark.parametrize(
    "kind", ["missing", "folder", "garbage", "gbk", "no_value", "under_a_file"]
)
@pytest.mark.parametrize("command", sorted(TABLE_COMMANDS))
def test_table_files(tmp_path, command, kind):
    bad = bad_files(tmp_path)[kind]
    if kind == "no_value" and command in ("check_lm_text", "check_lm_text_eval", "split_keys"):
        pytest.skip("a line without a value is fine here: an empty sentence, a key")
    proc = run(TABLE_COMMANDS[command](bad, tmp_path), check=False)
    check_refused(proc, bad)


@pytest.mark.parametrize("table", ["wav.scp", "text", "utt2spk"])
@pytest.mark.parametrize("kind", ["missing", "gbk", "garbage"])
def test_data_directory_tables(tmp_path, table, kind):
    src = data_dir(tmp_path / "data")
    path = src / table
    if kind == "missing":
        path.unlink()
    else:
        path.write_bytes(GBK_TEXT if kind == "gbk" else GARBAGE)
    for command in (
        ["python", "-m", "local.data.speed_perturb", str(src), str(tmp_path / "sp")],
        ["python", "-m", "local.data.dump_audio", "plan", str(src), str(tmp_path / "dump")],
        ["python", "-m", "local.data.dump_audio", "link", str(src), str(tmp_path / "nodump")],
        ["python", "-m", "local.data.import_test_set", str(src), str(tmp_path / "imported")],
    ):
        check_refused(run(command, check=False), path)
    assert not (tmp_path / "sp").exists() and not (tmp_path / "imported").exists()


def test_data_directories_that_disagree(tmp_path):
    cases = [
        ({"text": "u2 再见\n"}, "text and utt2spk have different utterances, e.g. ['u1', 'u2']"),
        (
            {"wav.scp": "u1 /x.wav\nu3 /y.wav\n"},
            "wav.scp and utt2spk have different utterances, e.g. ['u3']",
        ),
        (
            {"wav.scp": "rec1 /x.wav\n", "segments": "u1 rec1 0 1\nu4 rec1 1 2\n"},
            "segments and utt2spk have different utterances, e.g. ['u4']",
        ),
        (
            {"wav.scp": "rec1 /x.wav\n", "segments": "u1 rec2 0 1\n"},
            "segments name recordings not in wav.scp, e.g. ['rec2']",
        ),
    ]
    for number, (tables, message) in enumerate(cases):
        src = data_dir(tmp_path / f"data{number}", **tables)
        proc = tool("local.data.speed_perturb", src, tmp_path / "sp", check=False)
        check_refused(proc, src)
        assert message in proc.stderr


SEGMENT_RULE = "'<recording> <start> <end>' (seconds, start >= 0)"


@pytest.mark.parametrize(
    "tables, message",
    [
        ({"segments": "u1 u1 -0.5 1\n"}, f"segments:1: 'u1 -0.5 1' is not {SEGMENT_RULE}"),
        ({"segments": "u1 u1 0 inf\n"}, f"segments:1: 'u1 0 inf' is not {SEGMENT_RULE}"),
        ({"segments": "u1 u1 nan 1\n"}, f"segments:1: 'u1 nan 1' is not {SEGMENT_RULE}"),
        ({"reco2speed": "u1 0\n"}, "reco2speed:1: '0' is not a speed factor from 0.25 to 4"),
        ({"reco2speed": "u1 inf\n"}, "reco2speed:1: 'inf' is not a speed factor from 0.25 to 4"),
        (
            {"reco2speed": "u1 1e300\n"},
            "reco2speed:1: '1e300' is not a speed factor from 0.25 to 4",
        ),
        ({"reco2speed": "u1 nan\n"}, "reco2speed:1: 'nan' is not a speed factor from 0.25 to 4"),
        ({"utt2num_samples": "u1 -1\n"}, "utt2num_samples:1: '-1' is not a number of samples"),
        ({"segments": "u1 u1 0 1\n", "reco2speed": "u1 1.1\n", "utt2num_samples": "u1 0\n"}, None),
    ],
)
def test_values_of_the_optional_tables(tmp_path, tables, message):
    from local.data.datadir import DataDir

    src = data_dir(tmp_path / "data", **tables)
    if message is None:  # the edge values that are valid: start 0, an empty recording
        assert DataDir.read(src).utt2num_samples == {"u1": "0"}
        return
    with pytest.raises(DataError) as refused:
        DataDir.read(src)
    assert str(refused.value) == f"{src}/{message}"


def test_a_data_directory_reads_back_as_written(tmp_path):
    from local.data.datadir import DataDir

    written = DataDir(
        wav_scp={"rec": "/x/rec.flac"},
        text={"u1": "你好", "u2": ""},
        utt2spk={"u1": "s1", "u2": "s2"},
        segments={"u1": "rec 0.00 1.00", "u2": "rec 1.5 2"},
        reco2speed={"rec": "0.9"},
        utt2num_samples={"u1": "16000", "u2": "8000"},
    )
    written.write(tmp_path / "deep/data", "tests")
    read = DataDir.read(tmp_path / "deep/data")
    for table in ("wav_scp", "text", "utt2spk", "segments", "reco2speed", "utt2num_samples"):
        assert getattr(read, table) == getattr(written, table), table
    assert (tmp_path / "deep/data/spk2utt").read_text() == "s1 u1\ns2 u2\n"
    assert (tmp_path / "deep/data/utt2num_samples").read_text() == "u1 16000\nu2 8000\n"


@pytest.mark.parametrize(
    "command, message",
    [
        (["local.data.speed_perturb", "--factors", "0.9 x", "D", "O"], "--factors"),
        (["local.data.speed_perturb", "--factors", "0 1", "D", "O"], "--factors"),
        (["local.data.split_keys", "--nj", "0", "T", "out.JOB"], "--nj"),
        (["local.data.split_keys", "--nj", "1", "T", "out"], "no JOB"),
        (["local.data.dump_audio", "plan", "--nj", "0", "D", "O"], "--nj"),
        (["local.data.dump_audio", "run", "--job", "1", "O"], "plan"),
        (["local.data.dump_audio", "finish", "O"], "plan"),
        (["local.data.speed_perturb", "--factors", "nan 1.0", "D", "O"], "--factors"),
        (["local.data.speed_perturb", "--factors", "inf", "D", "O"], "--factors"),
        (["local.data.speed_perturb", "--factors", "0.9 1e300", "D", "O"], "from 0.25 to 4"),
        (["local.data.speed_perturb", "--factors", "1e-300", "D", "O"], "from 0.25 to 4"),
        (["local.data.speed_perturb", "--factors", "100000000", "D", "O"], "from 0.25 to 4"),
        (["local.data.speed_perturb", "--factors", "0.9 0.9000001", "D", "O"], "--factors"),
        (["local.data.speed_perturb", "D", "D"], "holds the input"),
        (["local.data.import_test_set", "D", "D"], "holds the input"),
        (["local.data.dump_audio", "plan", "D", "D"], "holds the input"),
        (["local.data.dump_audio", "plan", "D", "."], "its own folder"),
        (["local.data.split_keys", "--nj", "1", "T", "T"], "no JOB"),
        (["local.data.split_keys", "--nj", "2", "K.1", "K.JOB"], "overwrite an input"),
        (["local.data.split_keys", "--nj", "1", "--lengths", "BAD", "T", "o.JOB"], "BAD:2"),
        (["local.data.split_keys", "--nj", "1", "DUP", "o.JOB"], "DUP:3: duplicate key 'u1'"),
        (
            ["local.data.split_keys", "--nj", "1", "T", "T/o.JOB"],
            "T/o.1: cannot make its folder: T is not a folder",
        ),
        (["local.data.split_keys", "--nj", "1", "T", "O.JOB"], "O.1: is a folder"),
        (
            ["local.data.split_keys", "--nj", "1", "T", "T/x/o.JOB"],
            "T/x/o.1: cannot make its folder: T is not a folder",
        ),
    ],
)
def test_bad_arguments(tmp_path, command, message):
    bad_arguments(tmp_path, command, message)


def test_unreadable_audio_is_counted_not_fatal(tmp_path):
    bad = bad_files(tmp_path)
    wavs = {
        "u_missing": bad["missing"],
        "u_folder": bad["folder"],
        "u_empty": bad["empty"],
        "u_garbage": bad["garbage"],
    }
    src = data_dir(
        tmp_path / "data",
        **{
            "wav.scp": "".join(f"{u} {p}\n" for u, p in sorted(wavs.items())),
            "text": "".join(f"{u} 文字\n" for u in sorted(wavs)),
            "utt2spk": "".join(f"{u} s\n" for u in sorted(wavs)),
        },
    )
    out = tmp_path / "dump"
    tool("local.data.dump_audio", "plan", src, out)
    proc = tool("local.data.dump_audio", "run", "--job", "1", out)
    assert "4 skipped" in proc.stdout
    proc = tool("local.data.dump_audio", "finish", out, check=False)
    check_refused(proc, out)  # nothing left: the set is refused, naming what was skipped
    assert f"{out}.tmp/data/format.*/skipped.txt" in proc.stderr
    listing = (tmp_path / "dump.tmp/data/format.1/skipped.txt").read_text()
    for utt in wavs:
        assert f"{utt}\tunreadable audio" in listing


def test_float_audio_that_is_no_audio_is_dropped_and_counted(tmp_path):
    """Float WAVs: NaN or infinite samples, or int16 values stored as floats, are
    dropped and counted (were written as silence or a square wave); a little over full
    scale is clipped and kept."""
    import numpy as np
    import soundfile

    tone = np.sin(np.arange(8000) / 5.0).astype(np.float32) * 0.5
    cases = {
        "u_nan": np.where(np.arange(8000) == 100, np.nan, tone),
        "u_inf": np.where(np.arange(8000) == 100, np.inf, tone),
        "u_int16_scale": tone * 32767,
        "u_a_little_over": tone * 2.4,  # peak 1.2
    }
    for utt, samples in cases.items():
        soundfile.write(tmp_path / f"{utt}.wav", samples.astype(np.float32), 16000, "FLOAT")
    src = data_dir(
        tmp_path / "data",
        **{
            "wav.scp": "".join(f"{u} {tmp_path / u}.wav\n" for u in sorted(cases)),
            "text": "".join(f"{u} 文字\n" for u in sorted(cases)),
            "utt2spk": "".join(f"{u} s\n" for u in sorted(cases)),
        },
    )
    out = tmp_path / "dump"
    tool("local.data.dump_audio", "plan", src, out)
    assert "3 skipped" in tool("local.data.dump_audio", "run", "--job", "1", out).stdout
    tool("local.data.dump_audio", "finish", out)
    report = (out / "report.txt").read_text()
    assert "dropped (unreadable audio): 2" in report and "dropped (audio out of range): 1" in report
    dropped = (out / "dropped.txt").read_text()
    assert "u_nan\tunreadable audio" in dropped and "not finite" in dropped
    assert "u_int16_scale\taudio out of range" in dropped and "reach 16383.5" in dropped
    assert read_table(out / "wav.scp").keys() == {"u_a_little_over"}
    kept, _ = soundfile.read(read_table(out / "wav.scp")["u_a_little_over"])
    assert kept.max() == pytest.approx(32767 / 32768) and kept.min() == -1.0


def test_outputs_never_replace_foreign_folders(tmp_path):
    src = data_dir(tmp_path / "data")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("my notes")
    before = snapshot(tmp_path)
    for command in (
        ["python", "-m", "local.data.speed_perturb", str(src), str(foreign)],
        ["python", "-m", "local.data.import_test_set", str(src), str(foreign)],
        ["python", "-m", "local.data.dump_audio", "plan", str(src), str(foreign)],
        ["python", "-m", "local.data.dump_audio", "link", str(src), str(foreign)],
    ):
        proc = run(command, check=False)
        check_refused(proc, foreign)
        assert "did not write" in proc.stderr
    assert snapshot(tmp_path) == before
    assert sorted(os.listdir(tmp_path)) == ["data", "mine"]


def test_an_earlier_output_of_the_same_tool_is_replaced(tmp_path):
    src = data_dir(tmp_path / "data")
    out = tmp_path / "sp"
    for factors in ("1.0", "0.9 1.0"):
        tool("local.data.speed_perturb", "--factors", factors, src, out)
    assert (out / "wav.scp").read_text().count("\n") == 2
    shutil.rmtree(out)


def tone_files(folder, names):
    import numpy as np
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        soundfile.write(folder / f"{name}.wav", 0.1 * np.sin(np.arange(8000) / 5), 16000)
    return {name: str(folder / f"{name}.wav") for name in names}


def audio_data_dir(folder, names):
    wavs = tone_files(folder.parent / "wav", names)
    return data_dir(
        folder,
        **{
            "wav.scp": "".join(f"{u} {w}\n" for u, w in sorted(wavs.items())),
            "text": "".join(f"{u} 文字\n" for u in sorted(wavs)),
            "utt2spk": "".join(f"{u} s\n" for u in sorted(wavs)),
        },
    )


def dump_step(*args, check=True):
    return run(["python", "-m", "local.data.dump_audio", *map(str, args)], check=check)


def test_a_dump_planned_again_on_changed_data_starts_over(tmp_path):
    src, out = audio_data_dir(tmp_path / "d", ["u0", "u1", "u2", "u3"]), tmp_path / "o"
    dump_step("plan", "--nj", 2, src, out)
    dump_step("run", "--job", 1, out)
    audio_data_dir(tmp_path / "d", ["u0", "u1", "u2", "u3", "u4"])  # one more utterance
    proc = dump_step("run", "--job", 2, out, check=False)
    check_refused(proc, src)
    assert "changed since the dump was planned" in proc.stderr
    dump_step("plan", "--nj", 2, src, out)
    for job in (1, 2):
        assert "already done" not in dump_step("run", "--job", job, out).stdout
    dump_step("finish", out)
    assert len(read_table(out / "wav.scp")) == 5


def test_a_refused_finish_can_be_run_again(tmp_path):
    src, out = audio_data_dir(tmp_path / "d", ["u0", "u1"]), tmp_path / "o"
    dump_step("plan", src, out)
    dump_step("run", "--job", 1, out)
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    check_refused(dump_step("finish", out, check=False), out)
    (out / "notes.txt").unlink()
    dump_step("finish", out)
    assert len(read_table(out / "wav.scp")) == 2


@pytest.mark.parametrize(
    "table, content, line, message",
    [
        ("segments", "u1 r1 0.0 1.0\nu2 r1 1.0 abc\n", 2, "'r1 1.0 abc' is not '<recording>"),
        ("segments", "u1 r1 0.0 1.0\nu2 r1\n", 2, "'r1' is not '<recording>"),
        ("reco2speed", "r1 fast\n", 1, "'fast' is not a speed factor from 0.25 to 4"),
        ("utt2num_samples", "u1 -5\nu2 8000\n", 1, "'-5' is not a number of samples"),
    ],
)
def test_malformed_optional_tables_name_file_and_line(tmp_path, table, content, line, message):
    tables = {
        "wav.scp": "r1 /x/r1.wav\n",
        "text": "u1 a\nu2 b\n",
        "utt2spk": "u1 s\nu2 s\n",
        table: content,
    }
    if table != "segments":
        tables["wav.scp"] = "u1 /x/1.wav\nu2 /x/2.wav\n"
    if table == "reco2speed":
        tables["segments"] = "u1 r1 0 1\nu2 r1 1 2\n"
        tables["wav.scp"] = "r1 /x/r1.wav\n"
    src = data_dir(tmp_path / "d", **tables)
    for command in (
        ["python", "-m", "local.data.speed_perturb", src, tmp_path / "sp"],
        ["python", "-m", "local.data.dump_audio", "link", src, tmp_path / "n"],
    ):
        proc = run([str(c) for c in command], check=False)
        check_refused(proc, src / table)
        assert f"{src / table}:{line}: {message}" in proc.stderr


def test_an_imported_set_that_is_a_pipe_is_refused(tmp_path):
    src = data_dir(tmp_path / "d", **{"wav.scp": "u1 sox x.wav -t wav - |\n"})
    proc = tool("local.data.import_test_set", src, tmp_path / "i", check=False)
    check_refused(proc, src / "wav.scp")
    assert "pipe command" in proc.stderr
