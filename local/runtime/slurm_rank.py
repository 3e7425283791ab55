"""Run a command as one rank of a distributed job started by srun.

    srun --export=ALL python -m local.runtime.slurm_rank COMMAND [ARG ...]

Sets what torch.distributed (and ESPnet's --multiprocessing_distributed false
mode) reads, from the task's Slurm environment: RANK=SLURM_PROCID,
WORLD_SIZE=SLURM_NTASKS, LOCAL_RANK=SLURM_LOCALID (the GPU of the task on its
node), then replaces itself with COMMAND. ESPnet's own --dist_launcher slurm
assumes one task per node; this allows one task per GPU on any number of nodes.
"""

import os
import sys

SLURM_TO_TORCH = {
    "SLURM_PROCID": "RANK",
    "SLURM_NTASKS": "WORLD_SIZE",
    "SLURM_LOCALID": "LOCAL_RANK",
}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    if not argv:
        sys.exit("usage: srun python -m local.runtime.slurm_rank COMMAND [ARG ...]")
    missing = [name for name in SLURM_TO_TORCH if name not in os.environ]
    if missing:
        sys.exit(f"slurm_rank: {', '.join(missing)} not set: run this under srun")
    for slurm, torch_name in SLURM_TO_TORCH.items():
        os.environ[torch_name] = os.environ[slurm]
    node = os.environ.get("SLURMD_NODENAME", "?")
    print(
        f"slurm_rank: rank {os.environ['RANK']} of {os.environ['WORLD_SIZE']} on node {node} "
        f"(local rank {os.environ['LOCAL_RANK']})",
        file=sys.stderr,
        flush=True,
    )
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
