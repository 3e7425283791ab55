"""Run a command as one job or an array of jobs, Kaldi run.pl style.

    python -m local.runtime.jobs [options] [JOB=1:N] LOG COMMAND [ARG ...]

Every occurrence of JOB (or whatever name precedes '=') in LOG and in the command
is replaced by the job number; each job writes its own log. Several arguments
are run as they are; a single argument is run as a bash command line (so it may
hold pipes). The recipes' cmd.sh sets train_cmd, cuda_cmd and decode_cmd to this
command with the backend options they need.

Backend `local`: runs the jobs on this machine, at most --max-jobs-run at once
(default: the number of CPU cores divided by --num-threads). After the first
failure no new job starts, the running ones finish, and the failure is reported
with its log path and the end of its log, and how many jobs failed and how many
were never started (e.g. "1 of 3 jobs failed, 1 not started").

Backend `slurm`: submits the jobs as one Slurm array job (sbatch --array, then
waits with sbatch --wait). Each task runs in the current directory with the
current environment (--chdir, --export=ALL; OMP_NUM_THREADS=--num-threads) and
writes its log at LOG in the same format; Slurm's own messages about the task (a
time limit, a cancellation) end up in that log too. --gpu, --mem, --num-threads,
--time, --partition, and for jobs of several tasks --num-nodes and
--tasks-per-node (the command then starts its tasks with srun), become sbatch
options by the rules of --config (default:
conf/slurm.conf of the current directory if it has one, else the project's
conf/slurm.conf, which documents the format); --max-jobs-run limits the tasks
running at once (--array=1-N%M). All tasks run even if one fails; the first
failed one (by number) is reported as above; tasks without a log never ran (not
submitted, or cancelled while waiting) and are counted as not started. Needs
sbatch (and SLURM_CONF if the cluster's configuration is not in /etc/slurm).
"""

import argparse
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

from fileio.atomic import blocking_file

ARRAY_SPEC = re.compile(r"^([A-Za-z_][A-Za-z_0-9]*)=(\d+):(\d+)$")
ROOT = Path(__file__).resolve().parents[2]


class Job:
    def __init__(self, number, argv, log):
        self.number, self.argv, self.log = number, argv, Path(log)
        self.process = None
        self.started = None
        self.log_file = None

    def start(self, env, log_to_stdout=False):
        if log_to_stdout:  # a Slurm task: Slurm has opened the log as our stdout
            self.log_file = open(os.dup(sys.stdout.fileno()), "w", encoding="utf-8")
        else:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            self.log_file = open(self.log, "w", encoding="utf-8")
        self.log_file.write(f"# {shlex.join(self.argv)}\n# Started at {time.ctime()}\n#\n")
        self.log_file.flush()
        self.started = time.time()
        try:
            self.process = subprocess.Popen(
                self.argv,
                stdout=self.log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        except OSError as e:  # not found, not executable: the job fails as bash's would
            self.log_file.write(f"jobs: cannot run {self.argv[0]}: {e.strerror}\n")
            self.log_file.flush()
            self.process = subprocess.Popen(["sh", "-c", "exit 127"])

    def finish(self):
        code = self.process.returncode
        elapsed = time.time() - self.started
        self.log_file.write(
            f"# Accounting: time={elapsed:.0f}\n"
            f"# Ended (code {code}) at {time.ctime()}, "
            f"elapsed time {elapsed:.0f} seconds\n"
        )
        self.log_file.close()
        return code

    def kill(self):
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)


def expand(array_var, numbers, log, command):
    """One Job per number, with the array variable substituted."""
    if len(command) == 1:
        command = ["bash", "-c", command[0]]
    jobs = []
    for n in numbers:

        def sub(text, n=n):
            return text.replace(array_var, str(n)) if array_var else text

        jobs.append(Job(n, [sub(a) for a in command], sub(log)))
    return jobs


def tail(path, lines=15):
    try:
        return "".join(Path(path).read_text(errors="replace").splitlines(True)[-lines:])
    except OSError:
        return ""


def run_local(jobs, max_parallel, env, log_to_stdout=False):
    """Run jobs with at most max_parallel at once; return the failed jobs (those left
    waiting at the first failure are never started: job.started stays None)."""
    pending, running, failed = list(jobs), [], []

    def stop(signum, _frame):
        for job in running:
            job.kill()
        sys.exit(128 + signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while pending or running:
        while pending and len(running) < max_parallel and not failed:
            job = pending.pop(0)
            job.start(env, log_to_stdout)
            running.append(job)
        time.sleep(0.05)
        for job in [j for j in running if j.process.poll() is not None]:
            running.remove(job)
            if job.finish() != 0:
                if not failed and not log_to_stdout:
                    print(
                        f"jobs: job {job.number} failed (exit {job.process.returncode}); "
                        f"log: {job.log}",
                        file=sys.stderr,
                    )
                failed.append(job)
        if failed:
            pending.clear()
    return failed


def log_status(log):
    """The exit code in a log's "# Ended (code N)" line; None if it has none."""
    try:
        ends = re.findall(
            r"^# Ended \(code (-?\d+)\)", Path(log).read_text(errors="replace"), re.MULTILINE
        )
    except OSError:
        return None
    return int(ends[-1]) if ends else None


def read_slurm_config(path):
    """The rules of a slurm.conf for this runner (its format: see conf/slurm.conf)."""
    config = {"command": ["sbatch"], "default": {}, "option": {}}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        words = shlex.split(line, comments=True)
        if not words:
            continue
        if words[0] == "command" and len(words) > 1:
            config["command"] = words[1:]
        elif words[0] in ("default", "option") and len(words) > 1 and "=" in words[1]:
            name, value = words[1].split("=", 1)
            if words[0] == "option":
                config["option"][name, value] = words[2:]
            elif len(words) == 2:
                config["default"][name] = value
            else:
                raise ValueError(f"{path}:{number}: a default takes no sbatch options: {line}")
        else:
            raise ValueError(f"{path}:{number}: not a command, default or option line: {line}")
    return config


def slurm_options(config, options):
    """Our options ({name: value, None if not given}) as sbatch options: by the rule
    `option NAME=VALUE`, else `option NAME=*` with $0 replaced by the value."""
    sbatch = []
    for name, value in options.items():
        value = config["default"].get(name) if value is None else str(value)
        if value is None:
            continue
        if (name, value) in config["option"]:
            sbatch += config["option"][name, value]
        elif (name, "*") in config["option"]:
            sbatch += [w.replace("$0", value) for w in config["option"][name, "*"]]
        else:
            raise ValueError(f"the Slurm config has no rule for {name}={value}")
    return sbatch


def slurm_submission(config, options, array_var, numbers, log, command, max_jobs_run=0):
    """The sbatch command line and the batch script that run the jobs as one array job."""
    array = f"{numbers[0]}-{numbers[-1]}" + (f"%{max_jobs_run}" if max_jobs_run else "")
    output = log.replace("%", "%%")  # Slurm's file name pattern: %a is the task number
    name = Path(log).name
    if array_var:
        output, name = output.replace(array_var, "%a"), name.replace("." + array_var, "")
    sbatch = [
        *config["command"],
        *slurm_options(config, options),
        f"--array={array}",
        f"--job-name={name}",
        f"--output={output}",
        f"--chdir={os.getcwd()}",
        "--export=ALL",
        "--parsable",
        "--wait",
    ]
    # each task is this runner's local backend for one job, logging to the output Slurm opened
    task = [sys.executable, "-P", str(Path(__file__).resolve()), "--slurm-task"]
    spec = [f'"{array_var}=$SLURM_ARRAY_TASK_ID:$SLURM_ARRAY_TASK_ID"'] if array_var else []
    script = (
        "#!/bin/bash\nexec "
        + " ".join([*map(shlex.quote, task), *spec, *map(shlex.quote, [log, *command])])
        + "\n"
    )
    return sbatch, script


def run_slurm(jobs, sbatch, script, env):
    """Submit the array job, wait for it; return the failed jobs (by their logs: a job
    without one never started, and gets job.started None)."""
    for job in jobs:  # Slurm does not create folders; an old log would hide a task that never ran
        job.log.parent.mkdir(parents=True, exist_ok=True)
        job.log.unlink(missing_ok=True)
    try:
        proc = subprocess.Popen(
            sbatch, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
        )
    except OSError as e:
        sys.exit(f"jobs: cannot run {sbatch[0]} ({e.strerror}): is Slurm installed here?")
    try:
        proc.stdin.write(script)
        proc.stdin.close()
    except BrokenPipeError:  # sbatch ended before reading the script: it says why
        pass
    job_id = proc.stdout.readline().strip().split(";")[0]  # printed at submission

    def stop(signum, _frame):
        if job_id:
            subprocess.run(["scancel", job_id])
        proc.terminate()
        sys.exit(128 + signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    if proc.wait() != 0 and not job_id:
        print(
            f"jobs: sbatch failed (exit {proc.returncode}): {shlex.join(sbatch)}", file=sys.stderr
        )
    failed = [job for job in jobs if log_status(job.log) != 0]
    for job in jobs:
        job.started = True if job.log.exists() else None  # a task that ran wrote its log
    slurm_job = f"Slurm job {job_id or '(not submitted)'}"
    ran = [job for job in failed if job.started is not None]
    if ran:
        code = log_status(ran[0].log)
        print(
            f"jobs: job {ran[0].number} failed "
            f"({'exit ' + str(code) if code is not None else 'it did not finish'}; "
            f"{slurm_job}); log: {ran[0].log}",
            file=sys.stderr,
        )
    elif failed:
        print(f"jobs: job {failed[0].number} did not start ({slurm_job})", file=sys.stderr)
    return failed


def outcome(jobs, failed):
    """The last line of a run with failures: how many jobs failed and how many never
    started (after the first failure; Slurm: not submitted or cancelled while waiting),
    then the first failed job's log and its end."""
    ran = [job for job in failed if job.started is not None]
    not_started = [job for job in jobs if job.started is None]
    counts = f"{len(ran)} of {len(jobs)} jobs failed" if ran else ""
    if not_started:
        counts += (
            f", {len(not_started)} not started"
            if ran
            else f"{len(not_started)} of {len(jobs)} jobs not started"
        )
    if not ran:
        return f"jobs: {counts}"
    first = ran[0]
    return (
        f"jobs: {counts}; first: job {first.number}, log {first.log}; "
        f"its last lines:\n{tail(first.log)}"
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["local", "slurm"], default="local")
    parser.add_argument(
        "--config",
        default=None,
        help="rules for the sbatch options (slurm; default: conf/slurm.conf of "
        "the current directory, else the project's)",
    )
    parser.add_argument(
        "--max-jobs-run",
        "--max_jobs_run",
        type=int,
        default=0,
        help="parallel jobs at most (local default: cores / threads; slurm default: no limit)",
    )
    parser.add_argument(
        "--num-threads",
        "--num_threads",
        type=int,
        default=1,
        help="threads per job (sets OMP_NUM_THREADS; parallel jobs otherwise share the cores)",
    )
    parser.add_argument("--gpu", type=int, default=0, help="GPUs per job")
    parser.add_argument("--mem", default=None, help="memory per job, e.g. 4G (slurm)")
    parser.add_argument("--time", default=None, help="time limit per job, e.g. 4:00:00 (slurm)")
    parser.add_argument("--partition", default=None, help="partition (slurm)")
    parser.add_argument(
        "--num-nodes",
        "--num_nodes",
        type=int,
        default=1,
        help="nodes per job (slurm): the command starts its tasks with srun",
    )
    parser.add_argument(
        "--tasks-per-node",
        "--tasks_per_node",
        type=int,
        default=1,
        help="Slurm tasks per node for the command's srun (slurm)",
    )
    parser.add_argument("--slurm-task", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="[JOB=1:N] LOG COMMAND [ARG ...]")
    args = parser.parse_args(argv)

    rest = args.rest
    array_var, numbers = None, [1]
    if rest and ARRAY_SPEC.match(rest[0]):
        name, first, last = ARRAY_SPEC.match(rest.pop(0)).groups()
        array_var, numbers = name, list(range(int(first), int(last) + 1))
        if not numbers:
            parser.error(f"{name}={first}:{last}: the first job number is after the last")
    elif rest and re.match(r"^[A-Za-z_][A-Za-z_0-9]*=", rest[0]):
        parser.error(f"'{rest[0]}': an array of jobs is written NAME=FIRST:LAST, e.g. JOB=1:4")
    if len(rest) < 2:
        parser.error("need LOG and COMMAND")
    log, command = rest[0], rest[1:]
    if not log or log.endswith("/") or Path(log).is_dir():
        parser.error(f"LOG '{log}': a file name is needed (it is a folder)")
    if array_var and len(numbers) > 1 and array_var not in log:
        parser.error(f"LOG '{log}' has no {array_var}: every job would write the same log")
    if args.max_jobs_run < 0 or args.num_threads < 1 or args.gpu < 0:
        parser.error("--max-jobs-run must be >= 0, --num-threads >= 1, --gpu >= 0")
    jobs = expand(array_var, numbers, log, command)
    for job in jobs:  # a log that cannot be written fails now, not after a job ran
        blocker = blocking_file(job.log.parent)
        if blocker is not None:
            parser.error(f"LOG '{job.log}': cannot make its folder: {blocker} is not a folder")
        try:
            job.log.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            parser.error(f"LOG '{job.log}': cannot make its folder ({e.strerror})")
        if job.log.is_dir():
            parser.error(f"LOG '{job.log}': a file name is needed (it is a folder)")

    env = dict(os.environ)
    if args.slurm_task:  # one task of a Slurm array job, run by the batch script
        failed = run_local(jobs, 1, env, log_to_stdout=True)
    elif args.backend == "slurm" and jobs:
        config = args.config or (
            "conf/slurm.conf" if os.path.exists("conf/slurm.conf") else ROOT / "conf/slurm.conf"
        )
        options = {
            "partition": args.partition,
            "gpu": args.gpu,
            "mem": args.mem,
            "num_threads": args.num_threads,
            "time": args.time,
        }
        tasks = args.num_nodes * args.tasks_per_node
        if tasks > 1:  # a job of several tasks (distributed training); 1 needs no rule
            options.update(
                num_nodes=args.num_nodes, tasks_per_node=args.tasks_per_node, ntasks=tasks
            )
        try:
            sbatch, script = slurm_submission(
                read_slurm_config(config),
                options,
                array_var,
                numbers,
                log,
                command,
                args.max_jobs_run,
            )
        except (OSError, ValueError) as error:
            parser.error(str(error))
        env["OMP_NUM_THREADS"] = str(args.num_threads)
        failed = run_slurm(jobs, sbatch, script, env)
    elif args.num_nodes * args.tasks_per_node > 1:
        parser.error("--num-nodes/--tasks-per-node: jobs of several tasks need --backend slurm")
    else:
        cores = os.cpu_count() or 1
        max_parallel = args.max_jobs_run or max(1, cores // args.num_threads)
        parallel = min(max_parallel, len(jobs))
        if args.num_threads > 1 or parallel > 1:
            # parallel jobs share the cores instead of each starting a thread per core
            env["OMP_NUM_THREADS"] = str(
                args.num_threads if args.num_threads > 1 else max(1, cores // parallel)
            )
        failed = run_local(jobs, max_parallel, env)
    if failed and not args.slurm_task:  # (a Slurm task's stderr is its log)
        print(outcome(jobs, failed), file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
