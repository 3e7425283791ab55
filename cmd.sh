# Where each kind of job runs (sourced by asr.sh):
#   train_cmd   CPU jobs: data preparation, dump, statistics, packing
#   cuda_cmd    training (GPU jobs when --ngpu > 0)
#   decode_cmd  decoding and scoring
# cmd_backend picks the backend of python -m local.runtime.jobs (see its --help):
#   local   this machine, array jobs in parallel up to the number of cores
#   slurm   sbatch array jobs, options mapped by conf/slurm.conf; e.g.
#           cmd_backend=slurm ./run.sh
cmd_backend=${cmd_backend:-local}
case $cmd_backend in
  local|slurm) ;;
  *) echo "cmd.sh: unknown cmd_backend '$cmd_backend' (local or slurm)" >&2; exit 1 ;;
esac
export train_cmd="python -m local.runtime.jobs --backend $cmd_backend"
export cuda_cmd="python -m local.runtime.jobs --backend $cmd_backend"
export decode_cmd="python -m local.runtime.jobs --backend $cmd_backend"
