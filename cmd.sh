# Where each kind of job runs (sourced by asr.sh):
#   train_cmd   CPU jobs: data preparation, dump, statistics, packing
#   cuda_cmd    training (GPU jobs when --ngpu > 0)
#   decode_cmd  decoding and scoring
# "python -m local.jobs" runs them on this machine, array jobs in parallel up to
# the number of cores (see its --help).
export train_cmd="python -m local.jobs"
export cuda_cmd="python -m local.jobs"
export decode_cmd="python -m local.jobs"
