"""Runtime: where and how jobs run.

The job runner with its local and Slurm backends (jobs), the ranks of a
distributed training from Slurm's environment (slurm_rank), and the entry point
for every espnet2 command (espnet_bin), which registers our SSL frontend and data
type in ESPnet and puts off unused imports (deferred_import).

May import: fileio, frontend, local.data.
"""
