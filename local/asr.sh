#!/usr/bin/env bash
# The stage driver shared by every recipe: egs2/<corpus>/asr1/run.sh is this script
# (linked as asr.sh) plus arguments. Run from the recipe folder.
#
#   ./run.sh [--stage N] [--stop_stage M] [--option value ...]
#
# Stages (outputs go to data/, dump/ and exp/; a finished step leaves a .done
# marker and is skipped when rerun, unless --force true):
#    1  data preparation (local/data.sh)           -> data/<set>
#    2  speed perturbation                          -> data/<train_set>_sp
#    3  audio dump: 16 kHz mono, length filter      -> dump/raw/<set>
#    4  character token list                        -> data/<lang>_token_list/char
#    5  Transformer LM on the training text         -> exp/lm_<lm_tag>
#    6  ASR training (CTC/attention)                -> exp/asr_<asr_tag>
#    7  decoding (beam search with CTC and LM)      -> exp/asr_<asr_tag>/<decode>/<set>
#    8  scoring (CER, sclite columns), RESULTS.md
#    9  summary table of every experiment           -> exp/summary.md
#   10  pack the model (espnet2.bin.pack)           -> exp/asr_<asr_tag>/packed
#   11  N-best LM rescoring (only when asked: --stage 11 --stop_stage 11), scored
#   12  tuning: decoding weights searched on dev, test sets decoded with the best
#       (only when asked), grid table and plot
#
# Options (defaults in brackets):
#   --stage, --stop_stage [1, 10]   (stages 11 and 12 run when asked)   --force [false]    redo finished steps
#   --nj [4]  --inference_nj [4]    parallel jobs (cmd.sh decides where they run)
#   --ngpu [0]                      GPUs for training (per node); --gpu_inference [false]
#   --num_nodes [1]                 training across nodes through Slurm (cmd_backend=slurm)
#   --cpu_procs [1]                 CPU training processes (gloo) when --ngpu 0, through Slurm
#   --inference_impl [batched|espnet]  decoder program: local.batch_inference searches
#                                   --inference_batch_size [16] utterances at once (same
#                                   hypotheses as espnet2.bin.asr_inference, faster)
#   --train_set, --valid_set, --test_sets "a b"   a test set may also be another
#                                   recipe's data folder (../../aishell/asr1/data/test):
#                                   stage 1 imports it as data/aishell_test
#   --speed_perturb_factors ["", e.g. "0.9 1.0 1.1"]
#   --audio_format [flac|wav|ark|none]  none: no dump, utterances are read from the
#                                   original recordings (long ones through segments)
#   --min_wav_duration [0.1] --max_wav_duration [20] (s)
#   --asr_config, --lm_config, --inference_config   YAML files
#   --asr_tag, --lm_tag             experiment names [config file names]
#   --asr_args, --lm_args, --inference_args         extra espnet2 options
#   --use_lm [true]                 --lm_train_text [data/<train_set>/text]
#   --inference_asr_model [valid.acc.ave_10best.pth] --inference_lm [valid.loss.ave.pth]
#   --nbest [10] --rescore_lm_weight [lm_weight of the inference config]   stage 11
#   --tune_set [valid set] --tune_beams ["10"] --tune_ctc_weights ["0.3 0.5 0.7"]
#   --tune_lm_weights ["0.1 0.3 0.5"]                                      stage 12
#   --expdir [exp]  --dumpdir [dump]  --lang [zh]   --local_data_opts ["" for local/data.sh]
set -euo pipefail

stage=1
stop_stage=10
force=false
nj=4
inference_nj=4
ngpu=0
num_nodes=1
cpu_procs=1
gpu_inference=false
inference_impl=batched
inference_batch_size=16
nbest=10
rescore_lm_weight=
tune_set=
tune_beams=10
tune_ctc_weights="0.3 0.5 0.7"
tune_lm_weights="0.1 0.3 0.5"
train_set=
valid_set=
test_sets=
speed_perturb_factors=
audio_format=flac
min_wav_duration=0.1
max_wav_duration=20
asr_config=
lm_config=
inference_config=
asr_tag=
lm_tag=
asr_args=
lm_args=
inference_args=
use_lm=true
lm_train_text=
inference_asr_model=valid.acc.ave_10best.pth
inference_lm=valid.loss.ave.pth
expdir=exp
dumpdir=dump
lang=zh
local_data_opts=

driver_args=("$@")
tools=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")  # the shared local/ folder
. "$tools/parse_options.sh"
. ./path.sh
. ./db.sh    # corpus and model locations, e.g. the SSL models the configs name
. ./cmd.sh

log() {
  echo "$(date '+%Y-%m-%dT%H:%M:%S') (asr.sh:${BASH_LINENO[0]}) $*" >&2
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

[ -n "$train_set" ] || die "--train_set is required"
[ -n "$valid_set" ] || die "--valid_set is required"
[ -n "$test_sets" ] || die "--test_sets is required"
for c in "$asr_config" "$inference_config"; do
  [ -f "$c" ] || die "config '$c' not found (--asr_config / --inference_config)"
done
if [ "$use_lm" = true ] && [ ! -f "$lm_config" ]; then
  die "LM config '$lm_config' not found (--lm_config, or --use_lm false)"
fi

# Test sets given as another recipe's data folder: imported in stage 1 as data/<corpus>_<set>
imported_sets=()
set_names=
for dset in $test_sets; do
  if [[ "$dset" == */* ]]; then
    [ -f "$dset/text" ] || die "test set $dset: not a data folder (no $dset/text)"
    name=$(python -m local.import_test_set --name "$dset")
    imported_sets+=("$dset" "$name")
    dset=$name
  fi
  set_names+=" $dset"
done
test_sets=${set_names# }

if [ -n "$speed_perturb_factors" ]; then train_sp=${train_set}_sp; else train_sp=$train_set; fi
asr_tag=${asr_tag:-$(basename "$asr_config" .yaml)${speed_perturb_factors:+_sp}}
lm_tag=${lm_tag:-$(basename "${lm_config:-none}" .yaml)}
asr_exp=$expdir/asr_$asr_tag
lm_exp=$expdir/lm_$lm_tag
asr_stats=$asr_exp/stats
lm_stats=$lm_exp/stats
token_list=data/${lang}_token_list/char/tokens.txt
lm_train_text=${lm_train_text:-data/$train_set/text}
inference_tag=decode_$(basename "$inference_config" .yaml)
[ "$use_lm" = true ] && inference_tag+=_lm_$lm_tag
inference_tag+=_$(basename "$inference_asr_model" .pth)
# Sets to dump, each once: training and validation sets are length-filtered.
dump_sets=$(printf '%s\n' "$train_sp" "$valid_set" $test_sets | awk '!seen[$0]++')

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
# The value of a (dotted) key in a YAML config, empty when absent.
config_value() {
  python -c 'import sys, yaml
value = yaml.safe_load(open(sys.argv[1])) or {}
for key in sys.argv[2].split("."):
    value = value.get(key) if isinstance(value, dict) else None
print("" if value is None else value)' "$1" "$2"
}
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

# Training processes. --ngpu N on one node: ESPnet spawns one DDP process per GPU
# (not DataParallel). --num_nodes M (or --cpu_procs P without GPUs): one Slurm task
# per GPU (or CPU process) on each of M nodes, started by srun inside the job; rank,
# world size and local GPU come from Slurm's environment (local.slurm_rank), the
# rendezvous is a file in the experiment folder, on the filesystem the nodes share.
procs_per_node=$(( ngpu > 0 ? ngpu : cpu_procs ))
train_job_opts=(--gpu "$ngpu")
train_launcher=()
distributed_opts=
if [ "$num_nodes" -gt 1 ] || { [ "$ngpu" -eq 0 ] && [ "$cpu_procs" -gt 1 ]; }; then
  [ "${cmd_backend:-local}" = slurm ] || \
    die "--num_nodes/--cpu_procs start their processes with srun: cmd_backend=slurm (cmd.sh)"
  train_job_opts+=(--num_nodes "$num_nodes" --tasks_per_node "$procs_per_node")
  train_launcher=(srun --export=ALL python -m local.slurm_rank)
  distributed_opts="--ngpu $(( ngpu > 0 ? 1 : 0 )) --multiprocessing_distributed false"
  [ "$ngpu" -gt 0 ] || distributed_opts+=" --dist_backend gloo"
elif [ "$ngpu" -gt 1 ]; then
  distributed_opts="--multiprocessing_distributed true"
fi
# The rendezvous option for a training in folder $1 (a fresh file for every start).
dist_init_opts() {
  if [ ${#train_launcher[@]} -gt 0 ]; then
    echo "--dist_init_method file://$(readlink -f "$1")/log/dist_init.$(date +%s%N)"
  fi
}

log "$0 ${driver_args[*]}"

if stage_on 1; then
  log "Stage 1: data preparation (local/data.sh ${local_data_opts})"
  if todo data/.done; then
    # shellcheck disable=SC2086
    run ${train_cmd} "$expdir/log/data_prep.log" local/data.sh ${local_data_opts}
    cat "$expdir/log/data_prep.log" | grep -v '^#' >&2
    mark_done data/.done
  fi
  for ((i = 0; i < ${#imported_sets[@]}; i += 2)); do
    source_dir=${imported_sets[i]} name=${imported_sets[i + 1]}
    if todo "data/$name/.done"; then
      run python -m local.import_test_set "$source_dir" "data/$name"
      mark_done "data/$name/.done"
    fi
  done
fi

if stage_on 2 && [ -n "$speed_perturb_factors" ]; then
  log "Stage 2: speed perturbation ($speed_perturb_factors) of data/$train_set"
  if todo "data/$train_sp/.done"; then
    run ${train_cmd} "$expdir/log/speed_perturb.log" \
      python -m local.speed_perturb --factors "$speed_perturb_factors" "data/$train_set" "data/$train_sp"
    mark_done "data/$train_sp/.done"
  fi
fi

if stage_on 3; then
  log "Stage 3: audio dump ($audio_format, 16 kHz) to $dumpdir/raw"
  for dset in $dump_sets; do
    out=$dumpdir/raw/$dset
    todo "$out/.done" || continue
    filter=
    if [ "$dset" = "$train_sp" ] || { [ "$dset" = "$valid_set" ] && ! [[ " $test_sets " == *" $dset "* ]]; }; then
      filter="--filter --min-duration $min_wav_duration --max-duration $max_wav_duration"
    fi
    if [ "$audio_format" = none ]; then
      # shellcheck disable=SC2086
      run ${train_cmd} "$expdir/log/dump_$dset/link.log" \
        python -m local.dump_audio link $filter "data/$dset" "$out"
      grep -v '^#' "$expdir/log/dump_$dset/link.log" >&2
    else
      run python -m local.dump_audio plan --nj "$nj" --audio-format "$audio_format" "data/$dset" "$out"
      run ${train_cmd} JOB=1:"$nj" "$expdir/log/dump_$dset/dump.JOB.log" \
        python -m local.dump_audio run --job JOB "$out"
      # shellcheck disable=SC2086
      run python -m local.dump_audio finish $filter "$out"
    fi
    mark_done "$out/.done"
  done
fi

if stage_on 4; then
  log "Stage 4: character token list $token_list"
  if todo "$(dirname "$token_list")/.done"; then
    run ${train_cmd} "$expdir/log/token_list.log" \
      python -m local.espnet_bin tokenize_text --token_type char --input "$dumpdir/raw/$train_sp/text" \
      --output "$token_list" --field 2- --cleaner none --write_vocabulary true \
      --add_symbol '<blank>:0' --add_symbol '<unk>:1' --add_symbol '<sos/eos>:-1'
    log "  $(wc -l < "$token_list") tokens"
    mark_done "$(dirname "$token_list")/.done"
  fi
fi
[ "$stop_stage" -lt 5 ] || [ -f "$token_list" ] || die "$token_list missing: run stage 4"
vocab_size=$( [ -f "$token_list" ] && wc -l < "$token_list" || echo 0)

# Collect shape (and feature) statistics in $nj jobs, then aggregate them.
# usage: collect_stats TASK CONFIG STATS_DIR TRAIN_ARGS VALID_ARGS TRAIN_KEYS VALID_KEYS [extra]
collect_stats() {
  local task=$1 config=$2 dir=$3 train_data=$4 valid_data=$5 train_keys=$6 valid_keys=$7
  shift 7
  local parts n
  n=$(( $(wc -l < "$valid_keys") < nj ? $(wc -l < "$valid_keys") : nj ))
  mkdir -p "$dir/log"
  run python -m local.split_keys --nj "$n" "$train_keys" "$dir/log/train.JOB.scp"
  run python -m local.split_keys --nj "$n" "$valid_keys" "$dir/log/valid.JOB.scp"
  # shellcheck disable=SC2086
  run ${train_cmd} JOB=1:"$n" "$dir/log/stats.JOB.log" \
    python -m local.espnet_bin "${task}_train" --collect_stats true --use_preprocessor true \
      --token_type char --token_list "$token_list" --non_linguistic_symbols none \
      --cleaner none --g2p none $train_data $valid_data \
      --train_shape_file "$dir/log/train.JOB.scp" --valid_shape_file "$dir/log/valid.JOB.scp" \
      --output_dir "$dir/log/stats.JOB" --config "$config" "$@"
  parts=()
  for i in $(seq "$n"); do parts+=(--input_dir "$dir/log/stats.$i"); done
  run python -m espnet2.bin.aggregate_stats_dirs "${parts[@]}" --output_dir "$dir"
  # espnet2 wants the vocabulary size after each text length (as asr.sh writes it)
  for split in train valid; do
    awk -v N="$vocab_size" '{print $0 "," N}' "$dir/$split/text_shape" > "$dir/$split/text_shape.char"
  done
}

if stage_on 5 && [ "$use_lm" = true ]; then
  log "Stage 5: LM $lm_exp on $lm_train_text"
  if todo "$lm_exp/.done"; then
    mkdir -p "$lm_exp/log"
    run python -m local.check_lm_text "$lm_train_text" \
      $(for d in "$valid_set" $test_sets; do echo "$dumpdir/raw/$d/text"; done)
    lm_data="--train_data_path_and_name_and_type $lm_train_text,text,text"
    lm_valid="--valid_data_path_and_name_and_type $dumpdir/raw/$valid_set/text,text,text"
    if todo "$lm_stats/.done"; then
      collect_stats lm "$lm_config" "$lm_stats" "$lm_data" "$lm_valid" \
        "$lm_train_text" "$dumpdir/raw/$valid_set/text"
      mark_done "$lm_stats/.done"
    fi
    # shellcheck disable=SC2086
    run ${cuda_cmd} "${train_job_opts[@]}" "$lm_exp/log/train.log" "${train_launcher[@]}" \
      python -m local.espnet_bin lm_train --ngpu "$ngpu" $distributed_opts $(dist_init_opts "$lm_exp") \
        --use_preprocessor true \
        --token_type char --token_list "$token_list" --non_linguistic_symbols none \
        --cleaner none --g2p none $lm_data $lm_valid \
        --train_shape_file "$lm_stats/train/text_shape.char" \
        --valid_shape_file "$lm_stats/valid/text_shape.char" \
        --fold_length 150 --resume true --output_dir "$lm_exp" --config "$lm_config" $lm_args
    run ${train_cmd} "$lm_exp/log/perplexity.log" \
      python -m local.espnet_bin lm_calc_perplexity --ngpu 0 --batch_size 32 \
        --data_path_and_name_and_type "$dumpdir/raw/$valid_set/text,text,text" \
        --train_config "$lm_exp/config.yaml" --model_file "$lm_exp/$inference_lm" \
        --output_dir "$lm_exp/perplexity_$valid_set"
    log "  perplexity on $valid_set: $(cat "$lm_exp/perplexity_$valid_set/ppl")"
    mark_done "$lm_exp/.done"
  fi
fi

if stage_on 6; then
  log "Stage 6: ASR training $asr_exp (log: $asr_exp/log/train.log)"
  if todo "$asr_exp/.done"; then
    mkdir -p "$asr_exp/log"
    train_data="--train_data_path_and_name_and_type $(speech_data "$train_sp")"
    train_data+=" --train_data_path_and_name_and_type $dumpdir/raw/$train_sp/text,text,text"
    valid_data="--valid_data_path_and_name_and_type $(speech_data "$valid_set")"
    valid_data+=" --valid_data_path_and_name_and_type $dumpdir/raw/$valid_set/text,text,text"
    ssl_folder=$(ssl_model_folder "$asr_config")
    frontend_opts=${ssl_folder:+--frontend_conf model_path=$ssl_folder}
    if todo "$asr_stats/.done"; then
      # shellcheck disable=SC2086
      collect_stats asr "$asr_config" "$asr_stats" "$train_data" "$valid_data" \
        "$(speech_keys "$train_sp")" "$(speech_keys "$valid_set")" --normalize none \
        $frontend_opts
      mark_done "$asr_stats/.done"
    fi
    normalize_opts=
    if [ "$(config_value "$asr_config" normalize)" = global_mvn ]; then
      normalize_opts="--normalize_conf stats_file=$asr_stats/train/feats_stats.npz"
    fi
    # shellcheck disable=SC2086
    run ${cuda_cmd} "${train_job_opts[@]}" "$asr_exp/log/train.log" "${train_launcher[@]}" \
      python -m local.espnet_bin asr_train --ngpu "$ngpu" $distributed_opts $(dist_init_opts "$asr_exp") \
        --use_preprocessor true \
        --token_type char --token_list "$token_list" --non_linguistic_symbols none \
        --cleaner none --g2p none $train_data $valid_data \
        --train_shape_file "$asr_stats/train/speech_shape" \
        --train_shape_file "$asr_stats/train/text_shape.char" \
        --valid_shape_file "$asr_stats/valid/speech_shape" \
        --valid_shape_file "$asr_stats/valid/text_shape.char" \
        --fold_length 80000 --fold_length 150 --resume true \
        --output_dir "$asr_exp" --config "$asr_config" $normalize_opts $frontend_opts $asr_args
    mark_done "$asr_exp/.done"
  fi
fi

decode_cmd_gpu=(${decode_cmd})
inference_ngpu=0
if [ "$gpu_inference" = true ]; then decode_cmd_gpu=(${cuda_cmd} --gpu 1); inference_ngpu=1; fi

case $inference_impl in
  batched) inference_program=(python -m local.batch_inference --batch_size "$inference_batch_size") ;;
  espnet) inference_program=(python -m local.espnet_bin asr_inference --batch_size 1) ;;
  *) die "--inference_impl $inference_impl: batched or espnet" ;;
esac
# Decode test set $1 into folder $2 with the extra espnet2 options that follow:
# split by audio length into jobs, merge, real-time factor, the command.
decode_set() {
  local dset=$1 dir=$2 keys n started
  shift 2
  keys=$(speech_keys "$dset")
  n=$(( $(wc -l < "$keys") < inference_nj ? $(wc -l < "$keys") : inference_nj ))
  mkdir -p "$dir/log"
  run python -m local.split_keys --nj "$n" --lengths "$dumpdir/raw/$dset/utt2num_samples" \
    "$keys" "$dir/log/keys.JOB.scp"
  started=$(date +%s.%N)
  run "${decode_cmd_gpu[@]}" JOB=1:"$n" "$dir/log/inference.JOB.log" \
    "${inference_program[@]}" --ngpu "$inference_ngpu" \
      --data_path_and_name_and_type "$(speech_data "$dset")" \
      --key_file "$dir/log/keys.JOB.scp" --asr_train_config "$asr_exp/config.yaml" \
      --asr_model_file "$asr_exp/$inference_asr_model" \
      --output_dir "$dir/log/output.JOB" --config "$inference_config" "$@"
  run python -m local.merge_decode --nj "$n" "$dir/log" "$dir"
  python -m local.rtf "$dir" "$dumpdir/raw/$dset/utt2num_samples" --jobs "$n" \
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
  run python -m local.results --exp "$asr_exp" --asr_config "$asr_config" \
    --lm_config "${lm_config:-none}" --inference_config "$inference_config" \
    --use_lm "$use_lm" --lm_exp "$lm_exp" --out "$asr_exp/RESULTS.md" >/dev/null
}
lm_opts=
if [ "$use_lm" = true ]; then
  lm_opts="--lm_train_config $lm_exp/config.yaml --lm_file $lm_exp/$inference_lm"
fi
check_model() {
  [ -f "$asr_exp/$inference_asr_model" ] || die "$asr_exp/$inference_asr_model not found " \
    "(fewer epochs than averaged models? see --inference_asr_model)"
}

if stage_on 7; then
  log "Stage 7: decoding with $inference_config ($inference_tag)"
  check_model
  for dset in $test_sets; do
    dir=$asr_exp/$inference_tag/$dset
    todo "$dir/.done" || continue
    # shellcheck disable=SC2086
    decode_set "$dset" "$dir" $lm_opts $inference_args
    mark_done "$dir/.done"
  done
fi

if stage_on 8; then
  log "Stage 8: scoring (CER)"
  score_sets "$asr_exp/$inference_tag"
  # SSL frontends: the learned layer weights (exit status 2: no weighted-sum frontend)
  rc=0
  python -m frontend.layer_weights "$asr_exp" --model "$inference_asr_model" \
    > "$asr_exp/log/layer_weights.log" 2>&1 || rc=$?
  case $rc in
    0) log "  layer weights: $asr_exp/layer_weights.png" ;;
    2) ;;
    *) die "layer weights failed: see $asr_exp/log/layer_weights.log" ;;
  esac
  write_results
fi

if stage_on 9; then
  log "Stage 9: summary of $expdir"
  run python -m local.summary "$expdir" --test_sets "$test_sets" --out "$expdir/summary.md"
fi

if stage_on 10; then
  log "Stage 10: pack $asr_exp"
  pack_opts=
  if [ "$use_lm" = true ]; then
    pack_opts="--lm_train_config $lm_exp/config.yaml --lm_file $lm_exp/$inference_lm"
  fi
  if [ -f "$asr_stats/train/feats_stats.npz" ]; then
    pack_opts+=" --option $asr_stats/train/feats_stats.npz"  # global_mvn statistics
  fi
  # shellcheck disable=SC2086
  run ${train_cmd} "$asr_exp/log/pack.log" python -m local.espnet_bin pack asr \
    --asr_train_config "$asr_exp/config.yaml" --asr_model_file "$asr_exp/$inference_asr_model" \
    $pack_opts --option "$asr_exp/RESULTS.md" --option "$token_list" --option "$inference_config" \
    --outpath "$asr_exp/packed/asr_$asr_tag.zip"
  log "  packed: $asr_exp/packed/asr_$asr_tag.zip"
fi
if stage_on 11; then
  # N-best of the beam search without LM, rescored by the LM afterwards (the other
  # way to use it, besides shallow fusion in stage 7); scored into RESULTS.md.
  [ "$use_lm" = true ] || die "stage 11 rescores with the LM: --use_lm true"
  weight=${rescore_lm_weight:-$(config_value "$inference_config" lm_weight)}
  tag=decode_$(basename "$inference_config" .yaml)_nbest${nbest}_rescore_lm_${lm_tag}_$(basename "$inference_asr_model" .pth)
  log "Stage 11: N-best ($nbest) rescoring with the LM, weight ${weight:=0.3} ($tag)"
  check_model
  for dset in $test_sets; do
    dir=$asr_exp/$tag/$dset
    todo "$dir/.done" || continue
    # shellcheck disable=SC2086
    decode_set "$dset" "$dir/beam_search" --nbest "$nbest" --lm_weight 0 $inference_args
    run python -m local.lm_rescore --lm_train_config "$lm_exp/config.yaml" \
      --lm_file "$lm_exp/$inference_lm" --lm_weight "$weight" "$dir/beam_search/log" "$dir"
    cp "$dir/beam_search/rtf" "$dir/beam_search/command" "$dir/"
    mark_done "$dir/.done"
  done
  score_sets "$asr_exp/$tag"
  write_results
fi
if stage_on 12; then
  # Grid search of beam, CTC weight and LM weight on the tuning set, then the test
  # sets decoded with the best setting; grid table and plot in RESULTS.md.
  tune_set=${tune_set:-$valid_set}
  [ "$use_lm" = true ] || tune_lm_weights=0
  tune_dir=$asr_exp/tune_$(basename "$inference_config" .yaml)
  if [ "$use_lm" = true ]; then tune_dir+=_lm_$lm_tag; fi
  tune_dir+=_$(basename "$inference_asr_model" .pth)
  log "Stage 12: tuning on $tune_set: beam {$tune_beams} x ctc weight {$tune_ctc_weights} x lm weight {$tune_lm_weights} ($tune_dir)"
  check_model
  [ -f "$dumpdir/raw/$tune_set/text" ] || die "tuning set $tune_set was not dumped (stage 3)"
  for beam in $tune_beams; do
    for ctc in $tune_ctc_weights; do
      for lm in $tune_lm_weights; do
        dir=$tune_dir/beam${beam}_ctc${ctc}_lm${lm}
        if todo "$dir/$tune_set/.done"; then
          # shellcheck disable=SC2086
          decode_set "$tune_set" "$dir/$tune_set" $lm_opts $inference_args \
            --beam_size "$beam" --ctc_weight "$ctc" --lm_weight "$lm"
          mark_done "$dir/$tune_set/.done"
        fi
        score_sets "$dir" "$tune_set"
      done
    done
  done
  run python -m local.tune_table "$tune_dir" "$tune_set"
  read -r beam ctc lm _ < "$tune_dir/best"
  dir=$asr_exp/decode_tuned_on_${tune_set}_beam${beam}_ctc${ctc}_lm${lm}
  if [ "$use_lm" = true ]; then dir+=_lm_$lm_tag; fi
  dir+=_$(basename "$inference_asr_model" .pth)
  log "  best on $tune_set: beam $beam, ctc weight $ctc, lm weight $lm; decoding the test sets ($dir)"
  for dset in $test_sets; do
    if todo "$dir/$dset/.done"; then
      # shellcheck disable=SC2086
      decode_set "$dset" "$dir/$dset" $lm_opts $inference_args \
        --beam_size "$beam" --ctc_weight "$ctc" --lm_weight "$lm"
      mark_done "$dir/$dset/.done"
    fi
  done
  cp "$tune_dir/grid.md" "$tune_dir/grid.png" "$dir/"
  score_sets "$dir"
  write_results
fi
log "Finished stages $stage to $stop_stage"
