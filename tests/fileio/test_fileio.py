"""fileio: atomic outputs that never replace what their tool did not write, with
the user's permissions; Kaldi tables read with Kaldi's conventions."""

import os
import re
import stat

import pytest

from conftest import ROOT, tool
from fileio.atomic import (
    OWNER_FILE,
    OutputError,
    atomic_dir,
    atomic_file,
    check_output_dir,
    make_folder,
    write_text,
)
from fileio.kaldi_table import DataError, read_table


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x\n")
        with atomic_dir(tmp_path / "out", "tool") as tmp:
            (tmp / "b.txt").write_text("y")
        assert mode(tmp_path / "a.txt") == 0o644
        assert mode(tmp_path / "out") == 0o755
        os.umask(0o077)
        write_text(tmp_path / "c.txt", "z\n")
        assert mode(tmp_path / "c.txt") == 0o600
    finally:
        os.umask(old)


def test_a_folder_is_replaced_only_when_its_tool_wrote_it(tmp_path):
    out = tmp_path / "out"
    with atomic_dir(out, "tool-a") as tmp:
        (tmp / "first").write_text("1")
    assert (out / OWNER_FILE).read_text().strip() == "tool-a"
    with atomic_dir(out, "tool-a") as tmp:  # its own earlier output: replaced
        (tmp / "second").write_text("2")
    assert sorted(p.name for p in out.iterdir()) == [OWNER_FILE, "second"]
    with pytest.raises(OutputError, match="was written by tool-a"), atomic_dir(out, "tool-b"):
        pass
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    refused = pytest.raises(OutputError, match="holds files this tool did not write")
    with refused, atomic_dir(foreign, "tool-a"):
        pass
    assert (foreign / "notes.txt").read_text() == "mine"
    with atomic_dir(foreign, "tool-a", force=True) as tmp:  # --force: the user said so
        (tmp / "x").write_text("x")
    assert not (foreign / "notes.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_the_input_is_never_inside_a_replaced_output(tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    checkpoint = models / "x.pt"
    checkpoint.write_bytes(b"weights")
    for out in (models, tmp_path):
        refused = pytest.raises(OutputError, match="holds the input")
        with refused, atomic_dir(out, "convert", force=True, inputs=[checkpoint]):
            pass
    assert checkpoint.read_bytes() == b"weights"


def test_a_failed_write_keeps_the_old_output(tmp_path):
    write_text(tmp_path / "a.txt", "old\n")
    with pytest.raises(RuntimeError), atomic_file(tmp_path / "a.txt") as f:
        f.write("half")
        raise RuntimeError("disk full")
    assert (tmp_path / "a.txt").read_text() == "old\n"
    with atomic_dir(tmp_path / "out", "tool") as tmp:
        (tmp / "ok").write_text("1")
    with pytest.raises(RuntimeError), atomic_dir(tmp_path / "out", "tool") as tmp:
        (tmp / "partial").write_text("2")
        raise RuntimeError("killed")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [OWNER_FILE, "ok"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "out"]


def test_a_file_not_written_by_the_tool_is_not_overwritten(tmp_path):
    def is_mine(path):
        return path.read_text().startswith("# mine")

    (tmp_path / "RESULTS.md").write_text("notes of a user\n")
    with pytest.raises(OutputError, match="not written by this tool"):
        write_text(tmp_path / "RESULTS.md", "# mine\n", owned=is_mine)
    assert (tmp_path / "RESULTS.md").read_text() == "notes of a user\n"
    write_text(tmp_path / "new.md", "# mine\n", owned=is_mine)
    write_text(tmp_path / "new.md", "# mine again\n", owned=is_mine)
    assert (tmp_path / "new.md").read_text() == "# mine again\n"


def test_kaldi_text_conventions(tmp_path):
    clean = tmp_path / "clean"
    clean.write_text("u1 你好 世界\nu2 再见\nu3\n", encoding="utf-8")
    variants = {
        "tab": "u1\t你好 世界\nu2\t再见\nu3\n",
        "full_width_space": "u1\u3000你好 世界\nu2 再见\nu3\n",
        "bom_and_blank_lines": "\ufeffu1 你好 世界\n\n  \nu2 再见  \r\nu3\n\n",
    }
    expected = read_table(clean, allow_empty_value=True)
    assert expected == {"u1": "你好 世界", "u2": "再见", "u3": ""}
    for name, text in variants.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert read_table(tmp_path / name, allow_empty_value=True) == expected, name


def test_other_encodings_are_refused_with_file_and_line(tmp_path):
    path = tmp_path / "text"
    path.write_bytes("u1 你好\n".encode() + "u2 再见\n".encode("gbk"))
    with pytest.raises(DataError, match=rf"{path}:2: not UTF-8 text"):
        read_table(path)
    with pytest.raises(DataError, match="no such file"):
        read_table(tmp_path / "missing")
    with pytest.raises(DataError, match="is a folder"):
        read_table(tmp_path)


def test_line_ends_and_marks_that_would_merge_or_hide_lines_are_refused(tmp_path):
    path = tmp_path / "text"
    path.write_bytes("u1 你好\ru2 再见\r".encode())  # old Mac line ends: one line for Python
    with pytest.raises(DataError, match=rf"{path}:1: a carriage return inside the line"):
        read_table(path)
    path.write_bytes("\ufeffu1 你好\n\ufeffu2 再见\n".encode())  # two files joined with cat
    with pytest.raises(DataError, match=rf"{path}:2: a byte order mark inside the file"):
        read_table(path)
    path.write_bytes("u1 你好\r\nu2 再见\r\n".encode())  # Windows line ends are fine
    assert read_table(path) == {"u1": "你好", "u2": "再见"}


def test_the_current_folder_is_never_an_output(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "mine.txt").write_text("x")
    monkeypatch.chdir(work)
    for out in (".", "..", str(work)):
        refused = pytest.raises(OutputError, match="the current folder")
        with refused, atomic_dir(out, "tool", force=True):
            pass
    assert (work / "mine.txt").read_text() == "x"


def test_a_file_in_the_way_of_a_folder_is_named(tmp_path):
    """pathlib says "File exists" when the file is the parent, "Not a directory" when it
    is further up: both are one clear sentence naming the file."""
    (tmp_path / "f").write_text("x")
    f = tmp_path / "f"
    for call, message in (
        (lambda: make_folder(f / "a"), f"{f}/a: cannot make the folder: {f} is not a folder"),
        (lambda: make_folder(f / "a/b"), f"{f}/a/b: cannot make the folder: {f} is not"),
        (lambda: write_text(f / "x.md", ""), f"{f}/x.md: cannot make its folder: {f} is not"),
        (lambda: write_text(f / "a/x.md", ""), f"{f}/a/x.md: cannot make its folder: {f} is"),
        (lambda: check_output_dir(f / "o", "t"), f"{f}/o: cannot make the folder: {f} is not"),
    ):
        with pytest.raises(OutputError, match="^" + re.escape(message)):
            call()
    assert f.read_text() == "x" and sorted(os.listdir(tmp_path)) == ["f"]
    make_folder(tmp_path / "g/h")  # no file in the way: made
    assert (tmp_path / "g/h").is_dir()


FIXTURE = ROOT / "tests/fixtures/fairseq/hubert_base_tiny.pt"


@pytest.mark.parametrize(
    "command, output",
    [
        (["local.summary", "exp", "--out"], "f/x.md: cannot make its folder"),
        (
            ["local.seed_tables", "--aishell", ".", "--wenetspeech", ".", "--out"],
            "f/x.md: cannot make its folder",
        ),
        (["frontend.convert_fairseq", FIXTURE], "f/out: cannot make the folder"),
        (["frontend.make_tiny_models"], "f/out/tiny-hubert-base: cannot make the folder"),
        (["local.jobs", "JOB=1:2"], "LOG 'f/x.1.log': cannot make its folder"),
    ],
)
def test_every_tool_says_which_file_is_in_the_way(tmp_path, command, output):
    """An output under a regular file: one line naming the file, not "File exists"."""
    (tmp_path / "exp/asr_x").mkdir(parents=True)  # an experiment folder (for local.summary)
    (tmp_path / "run.sh").write_text("")  # a recipe folder (for local.seed_tables)
    (tmp_path / "f").write_text("x")
    target = {"local.jobs": ["f/x.JOB.log", "true"], "frontend.make_tiny_models": ["f/out"]}
    args = target.get(command[0], ["f/x.md" if "--out" in command else "f/out"])
    proc = tool(*command, *args, cwd=tmp_path, check=False)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1].endswith(f"{output}: f is not a folder")
    assert (tmp_path / "f").read_text() == "x"
