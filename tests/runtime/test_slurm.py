"""The slurm backend of local.runtime.jobs: array jobs on a real two-node Slurm
cluster (one machine), and the mapping of our options to sbatch options by conf/slurm.conf."""

import shlex
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, project_env
from local.runtime.jobs import read_slurm_config, slurm_options, slurm_submission

pytest_plugins = ["slurm_cluster"]


def run_jobs(args, cluster, cwd, timeout=120):
    return subprocess.run(
        ["python", "-m", "local.runtime.jobs", "--backend", "slurm", *args],
        cwd=cwd,
        env=project_env(**cluster.env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow  # the Slurm test cluster
def test_array_job_writes_one_log_per_task(slurm_cluster, tmp_path):
    # relative paths: the tasks run in the submitting directory
    proc = run_jobs(
        ["JOB=1:3", "log/x.JOB.log", "echo out JOB > out.JOB; echo job JOB done"],
        slurm_cluster,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    for job in (1, 2, 3):
        assert (tmp_path / f"out.{job}").read_text() == f"out {job}\n"
        log = (tmp_path / f"log/x.{job}.log").read_text()
        assert log.startswith(
            f"# bash -c 'echo out {job} > out.{job}; echo job {job} done'\n# Started at "
        ), log
        assert f"job {job} done" in log and "# Ended (code 0)" in log


@pytest.mark.slow  # the Slurm test cluster
def test_failed_task_names_its_log(slurm_cluster, tmp_path):
    log = tmp_path / "x.JOB.log"
    # several arguments: run as they are (after JOB is replaced), not by a shell
    proc = run_jobs(
        [
            "JOB=1:3",
            str(log),
            "bash",
            "-c",
            'printf "%s|" "$@"; [ "$1" != "a 2" ]',
            "-",
            "a JOB",
            "$HOME",
        ],
        slurm_cluster,
        tmp_path,
    )
    assert proc.returncode == 1
    assert f"log: {tmp_path / 'x.2.log'}" in proc.stderr
    assert "a 2|$HOME|" in proc.stderr  # the end of the failed log
    assert "# Ended (code 1)" in (tmp_path / "x.2.log").read_text()
    for job in (1, 3):  # the others ran
        assert "# Ended (code 0)" in (tmp_path / f"x.{job}.log").read_text()


def test_options_map_to_sbatch_options(tmp_path, monkeypatch):
    config = read_slurm_config(ROOT / "conf/slurm.conf")
    options = {"partition": None, "gpu": 0, "mem": None, "num_threads": 1, "time": None}
    assert slurm_options(config, options) == ["--cpus-per-task=1"]
    options = {"partition": "p", "gpu": 2, "mem": "4G", "num_threads": 4, "time": "1:00:00"}
    assert slurm_options(config, options) == [
        "--partition=p",
        "--gres=gpu:2",
        "--mem=4G",
        "--cpus-per-task=4",
        "--time=1:00:00",
    ]

    conf = tmp_path / "slurm.conf"
    conf.write_text(
        "command sbatch --account=asr  # comment\n"
        "default partition=cpu\n"
        "option partition=* -p $0\n"
        "option gpu=0\n"
        "option gpu=* -p gpu --gres=gpu:$0\n"
    )
    config = read_slurm_config(conf)
    assert slurm_options(config, {"partition": None, "gpu": 0}) == ["-p", "cpu"]
    assert slurm_options(config, {"partition": None, "gpu": 1}) == [
        "-p",
        "cpu",
        "-p",
        "gpu",
        "--gres=gpu:1",
    ]

    monkeypatch.chdir(tmp_path)
    sbatch, script = slurm_submission(
        config,
        {"gpu": 1},
        "JOB",
        [1, 2, 3],
        "log/a%.JOB.log",
        ["python", "x.py", "--n", "JOB"],
        max_jobs_run=2,
    )
    assert sbatch == [
        "sbatch",
        "--account=asr",
        "-p",
        "gpu",
        "--gres=gpu:1",
        "--array=1-3%2",
        "--job-name=a%.log",
        "--output=log/a%%.%a.log",
        f"--chdir={tmp_path}",
        "--export=ALL",
        "--parsable",
        "--wait",
    ]
    runner = shlex.join([sys.executable, "-P", str(ROOT / "local/runtime/jobs.py")])
    assert script == (
        f"#!/bin/bash\nexec {runner} --slurm-task "
        '"JOB=$SLURM_ARRAY_TASK_ID:$SLURM_ARRAY_TASK_ID" '
        "log/a%.JOB.log python x.py --n JOB\n"
    )


def test_option_without_rule_is_an_error(tmp_path):
    conf = tmp_path / "slurm.conf"
    conf.write_text("option gpu=0\n")
    proc = subprocess.run(
        [
            "python",
            "-m",
            "local.runtime.jobs",
            "--backend",
            "slurm",
            "--config",
            str(conf),
            "--gpu",
            "1",
            str(tmp_path / "x.log"),
            "true",
        ],
        env=project_env(),
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "no rule for gpu=1" in proc.stderr


# --- failure paths on the real cluster ------------------------------------------


def queued(cluster, cwd):
    """Slurm's ids ("<array job>_<task>", "<array job>_[...]" while pending) of the tasks
    still pending, running or completing that run in cwd: this test's tasks only. An
    element's own job id (squeue's %A) is no array id: `scancel <it>_2` silently does
    nothing."""
    proc = subprocess.run(
        ["squeue", "-h", "-o", "%i|%Z"],
        env=project_env(**cluster.env),
        capture_output=True,
        text=True,
        check=True,
    )
    lines = [line.split("|", 1) for line in proc.stdout.splitlines() if "|" in line]
    return [task for task, folder in lines if folder == str(cwd)]


@pytest.fixture
def start_jobs(slurm_cluster, tmp_path):
    """start(*args): the job runner on the cluster in tmp_path, in the background (a
    Popen). Whatever the test's outcome, a runner left is killed and its tasks cancelled,
    so that no later test finds them in the queue."""
    runners = []

    def start(*args):
        runners.append(
            subprocess.Popen(
                ["python", "-m", "local.runtime.jobs", "--backend", "slurm", *args],
                cwd=tmp_path,
                env=project_env(**slurm_cluster.env),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
        return runners[-1]

    yield start
    for runner in runners:
        if runner.poll() is None:
            runner.kill()
            runner.communicate()
    left = queued(slurm_cluster, tmp_path)
    if left:  # not checked: a task may have ended meanwhile
        subprocess.run(["scancel", *left], env=project_env(**slurm_cluster.env), check=False)


def wait_for(condition, timeout=60, what="a condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow  # the Slurm test cluster
def test_sbatch_refusing_the_job_is_a_failure(slurm_cluster, tmp_path):
    proc = run_jobs(
        ["--partition", "no_such_partition", "JOB=1:2", "x.JOB.log", "echo hi"],
        slurm_cluster,
        tmp_path,
    )
    assert proc.returncode == 1
    assert "jobs: sbatch failed (exit 1)" in proc.stderr
    assert "not submitted" in proc.stderr and "invalid partition" in proc.stderr.lower()


@pytest.mark.slow  # the Slurm test cluster
def test_cancelled_task_is_a_failure_naming_its_log(slurm_cluster, start_jobs, tmp_path):
    runner = start_jobs("JOB=1:2", "x.JOB.log", "[ JOB = 1 ] || sleep 300; echo job JOB done")
    wait_for(
        lambda: (
            "job 1 done" in _read(tmp_path / "x.1.log") and "Started" in _read(tmp_path / "x.2.log")
        ),
        what="task 2 to run",
    )
    (task,) = [t for t in queued(slurm_cluster, tmp_path) if t.endswith("_2")]
    subprocess.run(["scancel", task], env=project_env(**slurm_cluster.env), check=True)
    _, stderr = runner.communicate(timeout=60)
    job = task.split("_")[0]
    assert runner.returncode == 1
    assert f"jobs: job 2 failed (it did not finish; Slurm job {job}); log: x.2.log" in stderr
    assert "CANCELLED" in _read(tmp_path / "x.2.log")  # Slurm's own note, in the task's log
    assert "# Ended (code 0)" in _read(tmp_path / "x.1.log")


@pytest.mark.slow  # the Slurm test cluster
def test_task_over_its_time_limit_is_a_failure(slurm_cluster, tmp_path):
    proc = run_jobs(
        ["--time", "1", "x.log", "echo started; sleep 300"],
        slurm_cluster,
        tmp_path,
        timeout=240,
    )
    assert proc.returncode == 1
    assert "jobs: job 1 failed (it did not finish" in proc.stderr
    assert "TIME LIMIT" in _read(tmp_path / "x.log")


@pytest.mark.slow  # the Slurm test cluster
def test_ctrl_c_cancels_the_submitted_jobs(slurm_cluster, start_jobs, tmp_path):
    runner = start_jobs("JOB=1:2", "x.JOB.log", "sleep 300")
    wait_for(
        lambda: all("Started" in _read(tmp_path / f"x.{j}.log") for j in (1, 2)),
        what="both tasks to run",
    )
    assert len(queued(slurm_cluster, tmp_path)) == 2
    runner.send_signal(signal.SIGINT)
    runner.communicate(timeout=60)
    assert runner.returncode == 128 + signal.SIGINT
    wait_for(lambda: not queued(slurm_cluster, tmp_path), timeout=30, what="Slurm to end the jobs")


def _read(path):
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""
