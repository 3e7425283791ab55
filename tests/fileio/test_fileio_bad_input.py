"""Interrupted writers (fileio.atomic): what SIGTERM and SIGKILL leave behind.
Shared bad inputs and checks: tests/bad_input.py."""

from pathlib import Path

from fileio.atomic import atomic_dir


def start_writer(out, tool):
    """A process writing folder `out` through atomic_dir as `tool`, stopped half-way
    (SIGTERM ends it cleanly): (its Popen, its temporary folder)."""
    import subprocess

    from conftest import project_env

    script = (
        "import time\n"
        "from fileio.atomic import atomic_dir, terminate_cleanly\n"
        "terminate_cleanly()\n"
        f"with atomic_dir({str(out)!r}, {tool!r}) as tmp:\n"
        "    (tmp / 'part').write_text('half')\n"
        "    print(tmp, flush=True)\n"
        "    time.sleep(60)\n"
    )
    proc = subprocess.Popen(
        ["python", "-c", script], env=project_env(), stdout=subprocess.PIPE, text=True
    )
    return proc, Path(proc.stdout.readline().strip())


def test_sigterm_removes_the_temporary_folder(tmp_path):
    import signal
    import time

    proc, tmp = start_writer(tmp_path / "out", "tests")
    assert tmp.is_dir()
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)  # what the job runner sends on Ctrl-C
    assert proc.wait(timeout=30) == 128 + signal.SIGTERM
    assert list(tmp_path.iterdir()) == []


def test_a_killed_writers_temporary_folder_is_removed_by_the_next_write(tmp_path):
    """SIGKILL leaves the temporary folder (no handler runs); the next atomic_dir of the
    same output and tool removes it, but never a live writer's or another tool's."""
    import signal

    live, in_progress = start_writer(tmp_path / "out", "tests")
    killed, abandoned = start_writer(tmp_path / "out", "tests")
    other_tool, others = start_writer(tmp_path / "out", "another tool")
    for proc in (killed, other_tool):
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    try:
        assert abandoned.is_dir() and others.is_dir() and in_progress.is_dir()
        with atomic_dir(tmp_path / "out2", "tests") as tmp:  # another output: not its own
            (tmp / "x").write_text("x")
        assert abandoned.is_dir()
        with atomic_dir(tmp_path / "out", "tests") as tmp:
            (tmp / "done").write_text("done")
        assert not abandoned.exists()
        assert others.is_dir() and in_progress.is_dir()  # another tool's; a live writer's
        assert (tmp_path / "out/done").read_text() == "done"
        assert not (tmp_path / "out/.being_written_by").exists()
    finally:
        live.kill()
        live.wait()
