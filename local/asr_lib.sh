# The helpers of the stage driver (local/asr.sh sources this file after parsing its
# options). The functions read the driver's options and the names it derives from
# them (asr_exp, token_list, ...), as the stages do.

# A line on stderr with the time and the script line that asked for it.
log() {
  local i=1
  while [[ ${FUNCNAME[i]:-} =~ ^(die|run)$ ]]; do i=$((i + 1)); done
  echo "$(date '+%Y-%m-%dT%H:%M:%S') ($(basename "${BASH_SOURCE[i]}"):${BASH_LINENO[i - 1]}) $*" >&2
}
die() { log "ERROR: $*"; exit 1; }
# Print and run a command.
run() { log "+ $*"; "$@"; }
# True when the step behind marker $1 has to be (re)done.
todo() {
  if [ -f "$1" ] && [ "$force" != true ]; then
    log "  already done ($1); --force true redoes it"
    return 1
  fi
  rm -f "$1"
}
mark_done() { mkdir -p "$(dirname "$1")"; date > "$1"; }
stage_on() { [ "$stage" -le "$1" ] && [ "$stop_stage" -ge "$1" ]; }
# The words of the arguments, each once, in order of first appearance.
unique_words() { printf '%s\n' "$@" | awk 'NF && !seen[$0]++'; }
is_test_set() { [[ " $test_sets " == *" $1 "* ]]; }

# --- options ---------------------------------------------------------------------

# Refuse bad option values before anything runs.
check_options() {
  local name
  # whole numbers without leading zeros (bash reads 08 as a bad octal number) and
  # of a sane size (no overflow in bash's arithmetic)
  for name in stage stop_stage; do
    [[ ${!name} =~ ^[1-9][0-9]?$ ]] && [ "${!name}" -le 12 ] \
      || die "--$name '${!name}': a stage number from 1 to 12"
  done
  [ "$stage" -le "$stop_stage" ] || die "--stage $stage comes after --stop_stage $stop_stage"
  for name in nj inference_nj num_nodes cpu_procs inference_batch_size nbest; do
    [[ ${!name} =~ ^[1-9][0-9]{0,5}$ ]] || die "--$name '${!name}': a whole number from 1 to 999999"
  done
  [[ $ngpu =~ ^(0|[1-9][0-9]{0,2})$ ]] || die "--ngpu '$ngpu': a whole number from 0 to 999"
  for name in force use_lm gpu_inference; do
    [[ ${!name} =~ ^(true|false)$ ]] || die "--$name '${!name}': true or false"
  done
  [[ $inference_impl =~ ^(batched|espnet)$ ]] || die "--inference_impl '$inference_impl': batched or espnet"
  [[ $audio_format =~ ^(flac|wav|ark|none)$ ]] || die "--audio_format '$audio_format': flac, wav, ark or none"
  for name in train_set valid_set lang expdir dumpdir; do
    [[ ${!name} =~ ^[^[:space:]]+$ ]] || die "--$name '${!name}': a name without spaces is required"
  done
  [ -n "$test_sets" ] || die "--test_sets is required"
  for name in min_wav_duration max_wav_duration tune_ctc_weights tune_lm_weights \
              speed_perturb_factors rescore_lm_weight; do
    numbers "$name" "${!name}"
  done
  awk -v a="$min_wav_duration" -v b="$max_wav_duration" 'BEGIN {exit !(a < b)}' \
    || die "--min_wav_duration $min_wav_duration is not below --max_wav_duration $max_wav_duration"
  for name in $tune_beams; do
    [[ $name =~ ^[1-9][0-9]{0,3}$ ]] || die "--tune_beams '$tune_beams': whole numbers from 1 to 9999"
  done
  [[ ${ssl_stats_utts:-0} =~ ^(0|[1-9][0-9]{0,8})$ ]] \
    || die "--ssl_stats_utts '$ssl_stats_utts': a whole number (0: all utterances)"
  if [ -n "$speed_perturb_factors" ]; then  # stage 2's rule (its range), checked now
    local why
    why=$(python -c 'import sys
from local.data.speed_perturb import parse_factors
try:
    parse_factors(sys.argv[1])
except Exception as e:
    print(e)' "$speed_perturb_factors")
    [ -z "$why" ] || die "${why/--factors/--speed_perturb_factors}"
  fi
  if [ "$audio_format" = none ] && [ -n "$speed_perturb_factors" ]; then
    die "--audio_format none reads the recordings as they are: speed perturbation" \
      "(--speed_perturb_factors) needs the audio dump (flac, wav or ark)"
  fi
  [ -f "$asr_config" ] || die "--asr_config '$asr_config': no such file"
  [ -f "$inference_config" ] || die "--inference_config '$inference_config': no such file"
  if [ "$use_lm" = true ] && [ ! -f "$lm_config" ]; then
    die "--lm_config '$lm_config': no such file (or --use_lm false)"
  fi
}

# Refuse option $1's value $2 unless it is a list of distinct non-negative numbers.
numbers() {
  local word seen=" "
  for word in $2; do
    [[ $word =~ ^[0-9]*\.?[0-9]+$ ]] || die "--$1 '$2': numbers are needed (e.g. 0.3)"
    word=$(awk -v x="$word" 'BEGIN {printf "%g", x}')
    [[ $seen != *" $word "* ]] || die "--$1 '$2': $word is given twice"
    seen+="$word "
  done
}

# Test sets given as another recipe's data folder: imported in stage 1 as
# data/<corpus>_<set>. Sets imported_sets (pairs: folder, name) and renames them in
# test_sets.
import_test_sets() {
  local dset name file names=
  imported_sets=()
  for dset in $test_sets; do
    if [[ "$dset" == */* ]]; then
      for file in wav.scp text utt2spk; do
        [ -f "$dset/$file" ] || die "test set $dset: not a data folder (no $dset/$file;" \
          "--test_sets are separated by spaces, so a path cannot hold one)"
      done
      name=$(python -m local.data.import_test_set --name "$dset")
      imported_sets+=("$(readlink -f "$dset")" "$name")
      dset=$name
    fi
    [[ " $names " != *" $dset "* ]] || die "--test_sets: two test sets named $dset" \
      "(an imported set is named <corpus>_<set> after its recipe folder)"
    names+=" $dset"
  done
  test_sets=${names# }
}

# The value of a (dotted) key in a YAML config, empty when absent.
config_value() {
  python -c 'import sys, yaml
value = yaml.safe_load(open(sys.argv[1])) or {}
for key in sys.argv[2].split("."):
    value = value.get(key) if isinstance(value, dict) else None
print("" if value is None else value)' "$1" "$2"
}

# --- data --------------------------------------------------------------------------

# Stop unless stage 3 dumped these sets.
require_dumped() {
  local dset
  for dset in "$@"; do
    [ -f "$dumpdir/raw/$dset/.done" ] || die "$dumpdir/raw/$dset: not dumped yet (run stage 3)"
  done
}

# The audio of a dumped set for espnet2: "<file>,speech,<type>"
speech_data() {
  local dir=$dumpdir/raw/$1
  case "$(cat "$dir/audio_format")" in
    ark) echo "$dir/wav.scp,speech,kaldi_ark" ;;
    none) if [ -f "$dir/segments" ]; then echo "$dir/segments,speech,segments_sound"
          else echo "$dir/wav.scp,speech,sound"; fi ;;
    *) echo "$dir/wav.scp,speech,sound" ;;
  esac
}
# The table listing the utterances of a dumped set (for splitting into jobs)
speech_keys() { speech_data "$1" | cut -d, -f1; }

# SSL frontends name their model in frontend_conf.model_path: a folder or fairseq
# checkpoint, or a db.sh variable (e.g. CHINESE_HUBERT_LARGE). Prints the Hugging
# Face folder to use, converting a checkpoint once into $expdir/ssl_models.
ssl_model_folder() {
  local location
  location=$(config_value "$1" frontend_conf.model_path)
  [ -n "$location" ] || return 0
  if [[ "$location" =~ ^[A-Z][A-Z0-9_]*$ ]]; then
    [ -n "${!location:-}" ] || die "$1 names model $location, which db.sh does not set"
    location=${!location}
  fi
  python -m frontend.models "$location" "$expdir/ssl_models" || die "SSL model of $1 not usable"
}

# --- training ----------------------------------------------------------------------

# Collect shape (and feature) statistics in $nj jobs, then aggregate them. SSL
# frontends (--ssl_stats_utts > 0): shapes without the model, feature statistics
# from a random sample of the training set.
# usage: collect_stats lm|asr CONFIG STATS_DIR TRAIN_KEYS VALID_KEYS [espnet2 options]
collect_stats() {
  local task=$1 config=$2 dir=$3 train_keys=$4 valid_keys=$5 n split
  shift 5
  mkdir -p "$dir/log"
  if [ "$task" = asr ] && [ -n "${ssl_folder:-}" ] && [ "$ssl_stats_utts" -gt 0 ]; then
    ssl_sample_stats "$config" "$dir" "$train_keys" "$valid_keys" "$@"
  else
    stats_job=(${train_cmd})
    n=$(( $(wc -l < "$valid_keys") < nj ? $(wc -l < "$valid_keys") : nj ))
    stats_jobs "$task" "$config" "$n" "$train_keys" "$valid_keys" "$dir/log" "$dir" "$@"
  fi
  # espnet2 wants the vocabulary size after each text length (as asr.sh writes it)
  for split in train valid; do
    awk -v N="$vocab_size" '{print $0 "," N}' "$dir/$split/text_shape" > "$dir/$split/text_shape.char"
  done
}

# The statistics of an SSL frontend: shapes from utt2num_samples and the text (no
# model), feature statistics from --ssl_stats_utts random training utterances (one
# GPU job when --ngpu > 0).
ssl_sample_stats() {
  local config=$1 dir=$2 train_keys=$3 valid_keys=$4 split keys n sampled ngpu_opts=(--ngpu 0)
  shift 4
  for split in train valid; do
    keys=$train_keys; [ "$split" = train ] || keys=$valid_keys
    run python -m local.data.shape_stats --keys "$keys" \
      --utt2num_samples "$(dirname "$keys")/utt2num_samples" --text "$(dirname "$keys")/text" \
      --out "$dir/$split" "${text_opts[@]}"
  done
  run python -m local.data.sample_keys --n "$ssl_stats_utts" "$train_keys" "$dir/log/sample_train.scp"
  sampled=$(wc -l < "$dir/log/sample_train.scp")
  stats_job=(${train_cmd})
  n=$(( sampled < nj ? sampled : nj ))
  if [ "$ngpu" -gt 0 ]; then stats_job=(${cuda_cmd} --gpu 1); ngpu_opts=(--ngpu 1); n=1; fi
  run python -m local.data.sample_keys --n "$n" "$valid_keys" "$dir/log/sample_valid.scp"
  stats_jobs asr "$config" "$n" "$dir/log/sample_train.scp" "$dir/log/sample_valid.scp" \
    "$dir/log" "$dir/log/sample" "$@" "${ngpu_opts[@]}"
  cp "$dir/log/sample/train/feats_stats.npz" "$dir/train/feats_stats.npz"
  log "  feature statistics from $sampled of" \
    "$(wc -l < "$train_keys") training utterances (--ssl_stats_utts $ssl_stats_utts)"
}

# espnet2's statistics of the utterances in TRAIN_KEYS and VALID_KEYS, in N jobs run
# by ${stats_job[@]}, aggregated into OUT.
# usage: stats_jobs lm|asr CONFIG N TRAIN_KEYS VALID_KEYS LOGDIR OUT [espnet2 options]
stats_jobs() {
  local task=$1 config=$2 n=$3 train_keys=$4 valid_keys=$5 logdir=$6 out=$7 parts=() i
  shift 7
  run python -m local.data.split_keys --nj "$n" "$train_keys" "$logdir/train.JOB.scp"
  run python -m local.data.split_keys --nj "$n" "$valid_keys" "$logdir/valid.JOB.scp"
  run "${stats_job[@]}" JOB=1:"$n" "$logdir/stats.JOB.log" \
    python -m local.runtime.espnet_bin "${task}_train" --collect_stats true \
      --use_preprocessor true "${text_opts[@]}" \
      --train_shape_file "$logdir/train.JOB.scp" --valid_shape_file "$logdir/valid.JOB.scp" \
      --output_dir "$logdir/stats.JOB" --config "$config" "$@"
  for i in $(seq "$n"); do parts+=(--input_dir "$logdir/stats.$i"); done
  run python -m espnet2.bin.aggregate_stats_dirs "${parts[@]}" --output_dir "$out"
}

# Training processes (sets train_job_opts, train_launcher, distributed_opts).
# --ngpu N on one node: ESPnet spawns one DDP process per GPU (not DataParallel).
# --num_nodes M (or --cpu_procs P without GPUs): one Slurm task per GPU (or CPU
# process) on each of M nodes, started by srun inside the job; rank, world size and
# local GPU come from Slurm's environment (local.runtime.slurm_rank), the rendezvous
# is a file in the experiment folder, on the filesystem the nodes share.
training_launch() {
  local procs_per_node=$(( ngpu > 0 ? ngpu : cpu_procs ))
  train_job_opts=(--gpu "$ngpu")
  train_launcher=()
  distributed_opts=
  if [ "$num_nodes" -gt 1 ] || { [ "$ngpu" -eq 0 ] && [ "$cpu_procs" -gt 1 ]; }; then
    [ "${cmd_backend:-local}" = slurm ] || \
      die "--num_nodes/--cpu_procs start their processes with srun: cmd_backend=slurm (cmd.sh)"
    train_job_opts+=(--num_nodes "$num_nodes" --tasks_per_node "$procs_per_node")
    train_launcher=(srun --export=ALL python -m local.runtime.slurm_rank)
    distributed_opts="--ngpu $(( ngpu > 0 ? 1 : 0 )) --multiprocessing_distributed false"
    [ "$ngpu" -gt 0 ] || distributed_opts+=" --dist_backend gloo"
  elif [ "$ngpu" -gt 1 ]; then
    distributed_opts="--multiprocessing_distributed true"
  fi
}
# The rendezvous option for a training in folder $1 (a fresh file for every start).
dist_init_opts() {
  if [ ${#train_launcher[@]} -gt 0 ]; then
    echo "--dist_init_method file://$(readlink -f "$1")/log/dist_init.$(date +%s%N)"
  fi
}

# --- decoding and scoring ----------------------------------------------------------

# The folder name of a decoding as ESPnet's asr.sh names it (its inference tag, the
# decode config's name, then the LM and the model): `decode_name decode_asr` ->
# decode_asr_lm_<lm_tag>_valid.acc.ave_10best (no _lm_ part without an LM).
# Earlier revisions put `decode_` before it (decode_decode_asr_...): a decoding
# begun under that name is resumed there, not decoded again.
decode_name() {
  local name="$1"
  [ "$use_lm" = false ] || name+=_lm_$lm_tag
  name+=_$(basename "$inference_asr_model" .pth)
  if [ ! -e "$asr_exp/$name" ] && [ -d "$asr_exp/decode_$name" ]; then
    name=decode_$name
  fi
  echo "$name"
}

# The decoding program and where its jobs run (sets decode_job, inference_program,
# inference_ngpu).
decoding_program() {
  read -r -a decode_job <<< "$decode_cmd"
  inference_ngpu=0
  if [ "$gpu_inference" = true ]; then
    read -r -a decode_job <<< "$cuda_cmd --gpu 1"
    inference_ngpu=1
  fi
  case $inference_impl in
    batched) inference_program=(python -m local.decode.batch_inference
                                --batch_size "$inference_batch_size") ;;
    espnet) inference_program=(python -m local.runtime.espnet_bin asr_inference --batch_size 1) ;;
  esac
}

# Stage 5: stop when a sentence of the validation set or of a test set is in the LM
# training text (the LM would have seen what it is scored on).
check_lm_leak() {
  # shellcheck disable=SC2046
  run python -m local.data.check_lm_text "$lm_train_text" \
    $(for d in $(unique_words "$valid_set" $test_sets); do echo "$dumpdir/raw/$d/text"; done)
}

check_model() {
  require_dumped ${1:-$test_sets}
  [ -f "$asr_exp/$inference_asr_model" ] || die "$asr_exp/$inference_asr_model not found " \
    "(fewer epochs than averaged models? see --inference_asr_model)"
}

# Decode test set $1 into folder $2 with the extra espnet2 options that follow:
# split by audio length into jobs, merge, real-time factor, the command.
decode_set() {
  local dset=$1 dir=$2 keys n started
  shift 2
  keys=$(speech_keys "$dset")
  n=$(( $(wc -l < "$keys") < inference_nj ? $(wc -l < "$keys") : inference_nj ))
  mkdir -p "$dir/log"
  run python -m local.data.split_keys --nj "$n" --lengths "$dumpdir/raw/$dset/utt2num_samples" \
    "$keys" "$dir/log/keys.JOB.scp"
  started=$(date +%s.%N)
  run "${decode_job[@]}" JOB=1:"$n" "$dir/log/inference.JOB.log" \
    "${inference_program[@]}" --ngpu "$inference_ngpu" \
      --data_path_and_name_and_type "$(speech_data "$dset")" \
      --key_file "$dir/log/keys.JOB.scp" --asr_train_config "$asr_exp/config.yaml" \
      --asr_model_file "$asr_exp/$inference_asr_model" \
      --output_dir "$dir/log/output.JOB" --config "$inference_config" "$@"
  run python -m local.decode.merge_decode --nj "$n" "$dir/log" "$dir"
  python -m local.decode.rtf "$dir" "$dumpdir/raw/$dset/utt2num_samples" --jobs "$n" \
    --seconds "$(python -c "import sys, time; print(time.time() - float(sys.argv[1]))" "$started")" >&2
  echo "$0 ${driver_args[*]}" > "$dir/command"
}

# Score the sets ($2, default: the test sets) decoded into $1/<set>.
score_sets() {
  local dset dir
  for dset in ${2:-$test_sets}; do
    dir=$1/$dset
    run "$tools/score.sh" "$dumpdir/raw/$dset/text" "$dir/text" "$dir/score_cer" \
      --utt2spk "$dumpdir/raw/$dset/utt2spk" >/dev/null
    log "  $dset: $(grep -m1 'Sum/Avg' "$dir/score_cer/result.txt" | tr -s ' ')"
  done
}

write_results() {
  run python -m local.report.results --exp "$asr_exp" --asr_config "$asr_config" \
    --lm_config "${lm_config:-none}" --inference_config "$inference_config" \
    --use_lm "$use_lm" --lm_exp "$lm_exp" --out "$asr_exp/RESULTS.md" >/dev/null
}
