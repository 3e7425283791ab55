"""A real two-node Slurm cluster on this machine for the tests (loopback only).

Use it from a test module with

    pytest_plugins = ["slurm_cluster"]

    def test_x(slurm_cluster):
        run([...], **slurm_cluster.env)                # SLURM_CONF for sbatch & co
        ... f"{slurm_cluster.cmd} JOB=1:3 LOG COMMAND" # what cmd.sh's *_cmd would be

The session fixture writes a slurm.conf and a munge key under a temporary folder,
starts munged, slurmctld and two slurmd there (in the foreground, as children of
pytest, on free ports; nothing under /etc or /run is used), waits until the nodes
are idle and stops them at the end. The two nodes, node1 and node2, are two slurmd
daemons of this machine (slurmd -N), each offering all of its CPUs and memory: to
Slurm they are two nodes, so jobs over several nodes (sbatch --nodes=2, srun
tasks on each) run as on a cluster. Needs Debian's slurmctld, slurmd,
slurm-client and munge: without them the tests are skipped, except in CI
(CI set), where they fail. If the cluster does not come up the fixture fails
with the daemons' logs.
"""

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "sinfo", "squeue", "scancel")


@dataclass
class SlurmCluster:
    conf: Path  # its slurm.conf
    env: dict  # the environment variables a client needs: SLURM_CONF
    cmd: str  # job runner command line for cmd.sh's train_cmd/cuda_cmd/decode_cmd
    logs: Path  # the daemons' logs
    partition: str = "debug"


def _exe(name):
    return shutil.which(name) or next(
        (f"{d}/{name}" for d in ("/usr/sbin", "/usr/bin") if os.access(f"{d}/{name}", os.X_OK)),
        None,
    )


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


NODES = ("node1", "node2")


def _node_lines(slurmd, ports):
    """One line per node of NODES: this machine's resources as slurmd detects them
    (CPUs, sockets, cores, memory), each node's slurmd on its own port."""
    out = subprocess.run([slurmd, "-C"], capture_output=True, text=True, check=True).stdout
    resources = [w for w in out.splitlines()[0].split() if not w.startswith("NodeName=")]
    return "\n".join(
        " ".join(
            [
                f"NodeName={name}",
                "NodeAddr=127.0.0.1",
                "NodeHostname=localhost",
                f"Port={port}",
                *resources,
                "State=UNKNOWN",
            ]
        )
        for name, port in zip(NODES, ports)
    )


def _write_conf(root, user, slurmd):
    ctld_port, *slurmd_ports = _free_ports(1 + len(NODES))
    conf = root / "slurm.conf"
    conf.write_text(f"""\
ClusterName=pytest
SlurmctldHost=localhost
SlurmctldPort={ctld_port}
SlurmUser={user}
SlurmdUser={user}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge/socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool/%n
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.%n.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.%n.log
# no cgroups, no accounting, no MPI: works in a container without systemd
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/builtin
# start pending tasks as soon as others end (default: up to 3 s later)
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
# sbatch --wait polls every 2 s only if finished jobs are kept < 6 s (else 2, 8, 32 s...)
MinJobAge=4
KillWait=5
{_node_lines(slurmd, slurmd_ports)}
PartitionName=debug Nodes={",".join(NODES)} Default=YES MaxTime=INFINITE State=UP
""")
    return conf


def _logs(root):
    parts = []
    for path in sorted((root / "log").glob("*")) + sorted((root / "munge").glob("*.log")):
        text = path.read_text(errors="replace").splitlines()[-30:]
        parts.append(f"--- {path}\n" + "\n".join(text))
    return "\n".join(parts)


def start_cluster(root):
    """Start the cluster under root; return (SlurmCluster, its daemons, their environment)."""
    missing = [n for n in DAEMONS + CLIENTS if _exe(n) is None]
    if missing:
        message = (
            f"Slurm is not installed (missing {', '.join(missing)}): "
            "apt-get install slurmctld slurmd slurm-client munge"
        )
        if not os.environ.get("CI"):
            pytest.skip(message)  # a developer machine without Slurm; CI must have it
        pytest.fail(message)
    for sub in ("munge", "state", "log", *(f"spool/{n}" for n in NODES)):
        (root / sub).mkdir(parents=True, exist_ok=True)
    key = root / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    conf = _write_conf(root, getpass.getuser(), _exe("slurmd"))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    procs = []

    def daemon(argv, name):
        out = open(root / "log" / f"{name}.out", "w")
        procs.append(
            subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        )

    try:
        daemon(
            [
                _exe("munged"),
                "--foreground",
                "--force",
                f"--key-file={key}",
                f"--socket={root}/munge/socket",
                f"--pid-file={root}/munge/munged.pid",
                f"--log-file={root}/munge/munged.log",
                f"--seed-file={root}/munge/seed",
            ],
            "munged",
        )
        _wait(lambda: (root / "munge" / "socket").exists(), procs, root, "munged's socket")
        daemon([_exe("slurmctld"), "-D", "-i"], "slurmctld")  # -i: ignore old state
        for name in NODES:
            daemon([_exe("slurmd"), "-D", "-N", name], f"slurmd.{name}")
        sinfo = [_exe("sinfo"), "-h", "-N", "-o", "%T"]
        _wait(
            lambda: (
                subprocess.run(sinfo, env=env, capture_output=True, text=True).stdout.split()
                == ["idle"] * len(NODES)
            ),
            procs,
            root,
            "the nodes to be idle in sinfo",
        )
    except BaseException:
        stop_cluster(procs, env, cancel_jobs=False)
        raise
    cluster = SlurmCluster(
        conf=conf,
        env={"SLURM_CONF": str(conf)},
        cmd="python -m local.runtime.jobs --backend slurm",
        logs=root / "log",
    )
    return cluster, procs, env


def _wait(ready, procs, root, what, timeout=30):
    deadline = time.time() + timeout
    while not ready():
        dead = [p for p in procs if p.poll() is not None]
        if dead or time.time() > deadline:
            why = (
                f"{Path(dead[0].args[0]).name} exited with {dead[0].returncode}"
                if dead
                else f"no {what} after {timeout} s"
            )
            pytest.fail(f"the test Slurm cluster did not start: {why}\n{_logs(root)}")
        time.sleep(0.2)


def stop_cluster(procs, env, cancel_jobs=True):
    """Cancel the jobs left (by a test that timed out), then stop the daemons."""
    if cancel_jobs:
        subprocess.run([_exe("scancel"), "--user", getpass.getuser()], env=env, timeout=30)
        for _ in range(50):
            squeue = subprocess.run([_exe("squeue"), "-h"], env=env, capture_output=True)
            if squeue.returncode or not squeue.stdout.strip():
                break
            time.sleep(0.2)
    for proc in reversed(procs):
        if proc.poll() is None:
            proc.terminate()
    for proc in reversed(procs):
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """A started two-node Slurm cluster (see the module's docstring)."""
    cluster, procs, env = start_cluster(tmp_path_factory.mktemp("slurm"))
    yield cluster
    stop_cluster(procs, env)
