"""The local job backend: array jobs in parallel, one log each, failures reported."""

import sys

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
    assert "jobs: 1 of 4 jobs failed, 2 not started; first: job 2" in proc.stderr


def test_jobs_never_started_are_counted_apart_from_failed_ones(tmp_path):
    # job 1 fails at once while job 2 runs (and succeeds): job 3 never starts
    script = f"touch {tmp_path}/ran.JOB; [ JOB = 1 ] && exit 5; sleep 1"
    args = ["--max-jobs-run", "2", "JOB=1:3", str(tmp_path / "x.JOB.log"), script]
    proc = run(["python", "-m", "local.runtime.jobs", *args], check=False)
    assert proc.returncode == 1
    assert "jobs: 1 of 3 jobs failed, 1 not started; first: job 1, log " in proc.stderr
    assert (tmp_path / "ran.2").exists() and not (tmp_path / "ran.3").exists()
    proc = run(
        ["python", "-m", "local.runtime.jobs", "--max-jobs-run", "3", *args[2:4], "exit JOB"],
        check=False,
    )
    assert "jobs: 3 of 3 jobs failed; first: job 1," in proc.stderr  # all ran, all failed


def test_slurm_tasks_that_never_ran_are_not_started(tmp_path):
    """A Slurm array job of which only task 1 ran (and failed): task 2 (cancelled while
    waiting, no log) is not started. A stand-in sbatch runs task 1 only."""
    sbatch = tmp_path / "sbatch"
    sbatch.write_text(
        "#!/bin/bash\ncat > script; echo 4242\n"
        "SLURM_ARRAY_TASK_ID=1 bash script > x.1.log 2>&1; exit 0\n"
    )
    sbatch.chmod(0o755)
    (tmp_path / "slurm.conf").write_text(f"command {sbatch}\noption gpu=0\noption num_threads=*\n")
    args = ["--backend", "slurm", "--config", "slurm.conf", "JOB=1:2", "x.JOB.log", "exit 3"]
    proc = run([sys.executable, "-m", "local.runtime.jobs", *args], cwd=tmp_path, check=False)
    assert proc.returncode == 1, proc.stderr
    assert "jobs: job 1 failed (exit 3; Slurm job 4242); log: x.1.log" in proc.stderr
    assert "jobs: 1 of 2 jobs failed, 1 not started; first: job 1, log x.1.log" in proc.stderr
    sbatch.write_text("#!/bin/bash\ncat > /dev/null; echo refused >&2; exit 1\n")
    proc = run([sys.executable, "-m", "local.runtime.jobs", *args], cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "jobs: job 1 did not start (Slurm job (not submitted))" in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "jobs: 2 of 2 jobs not started"
