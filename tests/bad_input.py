"""Bad inputs as a new user makes them, shared by the tests of every package:
a missing file, a folder where a file belongs, an empty file, binary garbage, text
in another encoding, a table line without a value, a path under a regular file.
Each command must end with one line naming the file (and line, where it has one)
and what is wrong, a non-zero exit status and no Python traceback, and must leave
the user's files as they were (check_refused). The cases live beside the tests of
their package: tests/<package>/test_<package>_bad_input.py."""

import hashlib

from conftest import run

GBK_TEXT = "u1 你好\n".encode("gbk")
GARBAGE = bytes(range(256)) * 4


def snapshot(folder):
    """{relative path: sha256} of every file under folder."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def bad_files(tmp_path):
    """Named bad inputs: path -> the part of the message that must name it."""
    files = {}
    files["missing"] = tmp_path / "no_such_file"
    files["folder"] = tmp_path / "a_folder"
    files["folder"].mkdir()
    files["empty"] = tmp_path / "empty"
    files["empty"].write_bytes(b"")
    files["garbage"] = tmp_path / "garbage.bin"
    files["garbage"].write_bytes(GARBAGE)
    files["gbk"] = tmp_path / "gbk.txt"
    files["gbk"].write_bytes(GBK_TEXT)
    files["no_value"] = tmp_path / "no_value.txt"
    files["no_value"].write_text("u1 a\nu2\n")
    files["under_a_file"] = files["empty"] / "table"  # NotADirectoryError
    return files


def check_refused(proc, path, *, allow_empty=False):
    """One clear line about `path`, a failure status, no traceback."""
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode != 0, (proc.stdout[-2000:], proc.stderr[-2000:])
    assert str(path) in proc.stderr or path.name in proc.stderr, proc.stderr[-2000:]


def data_dir(folder, **tables):
    folder.mkdir(parents=True, exist_ok=True)
    defaults = {"wav.scp": "u1 /x/u1.wav\n", "text": "u1 你好\n", "utt2spk": "u1 s1\n"}
    for name, content in {**defaults, **tables}.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return folder


def bad_arguments(tmp_path, command, message):
    """`python -m COMMAND...` run in a folder holding the files the argument cases
    name (D: a data folder; T, K.1: two-line tables; BAD: a table with a bad length;
    DUP: a duplicate key; O, O.1, O.txt, L: folders) must fail with `message`."""
    data_dir(tmp_path / "D")
    (tmp_path / "T").write_text("u1 1\nu2 2\n")
    (tmp_path / "K.1").write_text("u1 1\nu2 2\n")
    (tmp_path / "BAD").write_text("u1 1\nu2 abc\n")
    (tmp_path / "DUP").write_text("u1 a\nu2 b\nu1 c\n")
    (tmp_path / "O").mkdir()
    (tmp_path / "O.1").mkdir()
    (tmp_path / "O.txt").mkdir()
    (tmp_path / "L").mkdir()
    proc = run(["python", "-m", *command], cwd=tmp_path, check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert message in proc.stderr, proc.stderr[-2000:]
