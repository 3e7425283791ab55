"""The local job backend: array jobs in parallel, one log each, failures reported."""

from conftest import run


def test_array_jobs_run_in_parallel_with_one_log_each(tmp_path):
    # job 1 waits for job 2's file: this only finishes if both run at the same time
    script = (
        f"if [ JOB = 1 ]; then for i in $(seq 100); do [ -f {tmp_path}/2 ] && break; "
        "sleep 0.1; done; "
        f"[ -f {tmp_path}/2 ] || exit 3; fi; touch {tmp_path}/JOB; echo job JOB done"
    )
    proc = run(
        [
            "python",
            "-m",
            "local.runtime.jobs",
            "--max-jobs-run",
            "2",
            "JOB=1:2",
            str(tmp_path / "log/x.JOB.log"),
            script,
        ]
    )
    assert proc.returncode == 0
    for job in (1, 2):
        log = (tmp_path / f"log/x.{job}.log").read_text()
        assert f"job {job} done" in log
        assert "# Ended (code 0)" in log


def test_arguments_are_passed_unchanged(tmp_path):
    run(
        [
            "python",
            "-m",
            "local.runtime.jobs",
            str(tmp_path / "one.log"),
            "printf",
            "%s|",
            "a b",
            "$HOME",
        ]
    )
    assert "a b|$HOME|" in (tmp_path / "one.log").read_text()


def test_failure_names_the_log_and_stops_launching(tmp_path):
    script = f"touch {tmp_path}/ran.JOB; [ JOB != 2 ] || {{ echo boom; exit 7; }}"
    proc = run(
        [
            "python",
            "-m",
            "local.runtime.jobs",
            "--max-jobs-run",
            "1",
            "JOB=1:4",
            str(tmp_path / "x.JOB.log"),
            script,
        ],
        check=False,
    )
    assert proc.returncode == 1
    assert f"log: {tmp_path / 'x.2.log'}" in proc.stderr
    assert "boom" in proc.stderr  # the end of the failed log
    assert "# Ended (code 7)" in (tmp_path / "x.2.log").read_text()
    assert (tmp_path / "ran.1").exists() and not (tmp_path / "ran.3").exists()
