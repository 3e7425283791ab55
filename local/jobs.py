"""Run a command as one job or an array of jobs, Kaldi run.pl style.

    python -m local.jobs [options] [JOB=1:N] LOG COMMAND [ARG ...]

Every occurrence of JOB (or whatever name precedes '=') in LOG and in the command
is replaced by the job number; each job writes its own log. Several arguments
are run as they are; a single argument is run as a bash command line (so it may
hold pipes). The recipes' cmd.sh sets train_cmd, cuda_cmd and decode_cmd to this
command with the backend options they need.

Backend `local`: runs the jobs on this machine, at most --max-jobs-run at once
(default: the number of CPU cores divided by --num-threads). After the first
failure no new job starts, the running ones finish, and the failure is reported
with its log path and the end of its log.
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

ARRAY_SPEC = re.compile(r"^([A-Za-z_][A-Za-z_0-9]*)=(\d+):(\d+)$")


class Job:
    def __init__(self, number, argv, log):
        self.number, self.argv, self.log = number, argv, Path(log)
        self.process = None
        self.started = None
        self.log_file = None

    def start(self, env):
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.log_file = open(self.log, "w", encoding="utf-8")
        self.log_file.write(f"# {shlex.join(self.argv)}\n# Started at {time.ctime()}\n#\n")
        self.log_file.flush()
        self.started = time.time()
        self.process = subprocess.Popen(self.argv, stdout=self.log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env,
                                        start_new_session=True)

    def finish(self):
        code = self.process.returncode
        elapsed = time.time() - self.started
        self.log_file.write(f"# Accounting: time={elapsed:.0f}\n"
                            f"# Ended (code {code}) at {time.ctime()}, "
                            f"elapsed time {elapsed:.0f} seconds\n")
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
        sub = (lambda s: s.replace(array_var, str(n))) if array_var else (lambda s: s)
        jobs.append(Job(n, [sub(a) for a in command], sub(log)))
    return jobs


def tail(path, lines=15):
    try:
        return "".join(Path(path).read_text(errors="replace").splitlines(True)[-lines:])
    except OSError:
        return ""


def run_local(jobs, max_parallel, env):
    """Run jobs with at most max_parallel at once; return the failed jobs."""
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
            job.start(env)
            running.append(job)
        time.sleep(0.05)
        for job in [j for j in running if j.process.poll() is not None]:
            running.remove(job)
            if job.finish() != 0:
                if not failed:
                    print(f"jobs: job {job.number} failed (exit {job.process.returncode}); "
                          f"log: {job.log}", file=sys.stderr)
                failed.append(job)
        if failed:
            pending.clear()
    return failed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["local"], default="local")
    parser.add_argument("--max-jobs-run", "--max_jobs_run", type=int, default=0,
                        help="parallel jobs at most (local; default: cores / threads)")
    parser.add_argument("--num-threads", "--num_threads", type=int, default=1,
                        help="threads per job (sets OMP_NUM_THREADS; parallel jobs otherwise "
                             "share the cores)")
    parser.add_argument("--gpu", type=int, default=0, help="GPUs per job")
    parser.add_argument("--mem", default=None, help="memory per job, e.g. 4G (scheduler backends)")
    parser.add_argument("--time", default=None, help="time limit per job (scheduler backends)")
    parser.add_argument("rest", nargs=argparse.REMAINDER,
                        help="[JOB=1:N] LOG COMMAND [ARG ...]")
    args = parser.parse_args(argv)

    rest = args.rest
    array_var, numbers = None, [1]
    if rest and ARRAY_SPEC.match(rest[0]):
        name, first, last = ARRAY_SPEC.match(rest.pop(0)).groups()
        array_var, numbers = name, list(range(int(first), int(last) + 1))
    if len(rest) < 2:
        parser.error("need LOG and COMMAND")
    log, command = rest[0], rest[1:]
    jobs = expand(array_var, numbers, log, command)

    cores = os.cpu_count() or 1
    max_parallel = args.max_jobs_run or max(1, cores // args.num_threads)
    parallel = min(max_parallel, len(jobs))
    env = dict(os.environ)
    if args.num_threads > 1 or parallel > 1:
        # parallel jobs share the cores instead of each starting a thread per core
        env["OMP_NUM_THREADS"] = str(args.num_threads if args.num_threads > 1
                                     else max(1, cores // parallel))
    failed = run_local(jobs, max_parallel, env)
    if failed:
        first = failed[0]
        print(f"jobs: {len(failed)} of {len(jobs)} jobs failed; first: job {first.number}, "
              f"log {first.log}; its last lines:\n{tail(first.log)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
