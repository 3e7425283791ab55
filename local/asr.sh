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
#    6  ASR statistics and training (CTC/attention) -> exp/asr_<asr_tag>
#    7  decoding (beam search with CTC and LM)      -> exp/asr_<asr_tag>/decode_*/<set>
#    8  scoring (CER, sclite columns, error analysis), RESULTS.md
#    9  summary table of every experiment (CER with 95 % intervals, p vs FBank)
#       and the layer weights of every SSL experiment -> exp/summary.md, exp/layer_weights.png
#   10  pack the model (espnet2.bin.pack)           -> exp/asr_<asr_tag>/packed
#   11  N-best LM rescoring, scored (only when named: --stage 11 --stop_stage 11)
#   12  tuning: decoding weights searched on dev, test sets decoded with the best
#       (only when named), grid table and plot
#
# A test set may be another recipe's data folder (../../aishell/asr1/data/test):
# stage 1 imports it as data/aishell_test. cmd.sh decides where jobs run.
set -euo pipefail

stage=1  # first stage to run
stop_stage=10  # last stage to run (11 and 12 run only when named)
force=false  # true: redo finished steps
nj=4  # parallel jobs: data preparation, dump, statistics
inference_nj=4  # parallel decoding jobs per test set, balanced by audio length
ngpu=0  # GPUs for training, per node
num_nodes=1  # training across nodes, one Slurm task per GPU (cmd_backend=slurm)
cpu_procs=1  # CPU training processes (gloo) when --ngpu 0, through Slurm
gpu_inference=false  # true: decode on a GPU
inference_impl=batched  # batched: many utterances searched at once; espnet: asr_inference
inference_batch_size=16  # utterances searched at once (--inference_impl batched)
train_set=  # training set (data/<name>), required
valid_set=  # validation set, required
test_sets=  # test sets, "a b"; a path is another recipe's data folder
speed_perturb_factors=  # e.g. "0.9 1.0 1.1"; empty: no speed perturbation
audio_format=flac  # flac, wav or ark; none: no dump, read from the recordings
min_wav_duration=0.1  # seconds; shorter training utterances are dropped
max_wav_duration=20  # seconds; longer training utterances are dropped
asr_config=  # ASR training config (YAML), required
lm_config=  # LM training config (YAML)
inference_config=  # decoding config (YAML), required
asr_tag=  # experiment name (empty: the ASR config's name, + _sp with speed perturbation)
lm_tag=  # LM experiment name (empty: the LM config's name)
asr_args=  # extra options of espnet2.bin.asr_train
lm_args=  # extra options of espnet2.bin.lm_train
ssl_stats_utts=500  # SSL frontends: feature statistics from this many random training utterances (0: all)
asr_stats_dir=  # ASR statistics (empty: exp/asr_<tag>/stats); experiments with the same data and frontend may share one
lm_stats_dir=  # LM statistics (empty: exp/lm_<tag>/stats)
inference_args=  # extra decoding options
use_lm=true  # false: no LM (stage 5 skipped, decoding without LM)
lm_train_text=  # LM training text (empty: data/<train_set>/text)
inference_asr_model=valid.acc.ave_10best.pth  # the ASR model file decoded
inference_lm=valid.loss.ave.pth  # the LM model file used
nbest=10  # stage 11: hypotheses kept per utterance
rescore_lm_weight=  # stage 11: LM weight (empty: lm_weight of the inference config)
tune_set=  # stage 12: tuning set (empty: the validation set)
tune_beams=10  # stage 12: beam sizes tried
tune_ctc_weights="0.3 0.5 0.7"  # stage 12: CTC weights tried
tune_lm_weights="0.1 0.3 0.5"  # stage 12: LM weights tried
expdir=exp  # experiments
dumpdir=dump  # dumped audio
lang=zh  # language tag of the token list folder
local_data_opts=  # options of local/data.sh

driver_args=("$@")
# the shared local/ folder
tools=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
. "$tools/parse_options.sh"
. "$tools/asr_lib.sh"  # log, die, run, todo, mark_done, stage_on and the stages' helpers
. "$tools/tune_grid.sh"  # stage 12's search
. ./path.sh  # first: check_options asks the project's Python about the speed factors
check_options
. ./db.sh    # corpus and model locations, e.g. the SSL models the configs name
. ./cmd.sh

import_test_sets  # paths in --test_sets become data/<corpus>_<set> (copied in stage 1)
if [ -n "$speed_perturb_factors" ]; then train_sp=${train_set}_sp; else train_sp=$train_set; fi
asr_tag=${asr_tag:-$(basename "$asr_config" .yaml)${speed_perturb_factors:+_sp}}
lm_tag=${lm_tag:-$(basename "${lm_config:-none}" .yaml)}
asr_exp=$expdir/asr_$asr_tag
lm_exp=$expdir/lm_$lm_tag
asr_stats=${asr_stats_dir:-$asr_exp/stats}
lm_stats=${lm_stats_dir:-$lm_exp/stats}
token_list=data/${lang}_token_list/char/tokens.txt
lm_train_text=${lm_train_text:-data/$train_set/text}
inference_name=$(basename "$inference_config" .yaml)
# Sets to dump, each once: training and validation sets are length-filtered.
dump_sets=$(unique_words "$train_sp" "$valid_set" $test_sets)
# The text options of every espnet2 command (training, statistics, LM)
text_opts=(--token_type char --token_list "$token_list" --non_linguistic_symbols none
           --cleaner none --g2p none)
lm_opts=()
[ "$use_lm" = false ] || lm_opts=(--lm_train_config "$lm_exp/config.yaml" --lm_file "$lm_exp/$inference_lm")
training_launch  # train_job_opts, train_launcher, distributed_opts from --ngpu/--num_nodes
decoding_program  # decode_job, inference_program, inference_ngpu

log "$0 ${driver_args[*]}"

if stage_on 1; then
  log "Stage 1: data preparation (local/data.sh ${local_data_opts})"
  if todo data/.done; then
    # shellcheck disable=SC2086
    run ${train_cmd} "$expdir/log/data_prep.log" local/data.sh ${local_data_opts}
    grep -v '^#' "$expdir/log/data_prep.log" >&2
    mark_done data/.done
  fi
  for ((i = 0; i < ${#imported_sets[@]}; i += 2)); do
    source_dir=${imported_sets[i]} name=${imported_sets[i + 1]}
    if [[ $(cat "data/$name/.done" 2>/dev/null) == /* ]] \
        && [ "$(cat "data/$name/.done")" != "$source_dir" ]; then
      die "data/$name was imported from $(cat "data/$name/.done"), not $source_dir:" \
        "move data/$name, $dumpdir/raw/$name and their decodings away first"
    fi
    if todo "data/$name/.done"; then
      run python -m local.data.import_test_set "$source_dir" "data/$name"
      echo "$source_dir" > "data/$name/.done"
    fi
  done
fi

if stage_on 2 && [ -n "$speed_perturb_factors" ]; then
  log "Stage 2: speed perturbation ($speed_perturb_factors) of data/$train_set"
  if todo "data/$train_sp/.done"; then
    run ${train_cmd} "$expdir/log/speed_perturb.log" python -m local.data.speed_perturb \
      --factors "$speed_perturb_factors" "data/$train_set" "data/$train_sp"
    mark_done "data/$train_sp/.done"
  fi
fi

if stage_on 3; then
  log "Stage 3: audio dump ($audio_format, 16 kHz) to $dumpdir/raw"
  for dset in $dump_sets; do
    out=$dumpdir/raw/$dset
    todo "$out/.done" || continue
    filter=()
    if [ "$dset" = "$train_sp" ] || { [ "$dset" = "$valid_set" ] && ! is_test_set "$dset"; }; then
      filter=(--filter --min-duration "$min_wav_duration" --max-duration "$max_wav_duration")
    fi
    if [ "$audio_format" = none ]; then
      run ${train_cmd} "$expdir/log/dump_$dset/link.log" \
        python -m local.data.dump_audio link "${filter[@]}" "data/$dset" "$out"
      grep -v '^#' "$expdir/log/dump_$dset/link.log" >&2
    else
      run python -m local.data.dump_audio plan --nj "$nj" --audio-format "$audio_format" \
        "data/$dset" "$out"
      run ${train_cmd} JOB=1:"$nj" "$expdir/log/dump_$dset/dump.JOB.log" \
        python -m local.data.dump_audio run --job JOB "$out"
      run python -m local.data.dump_audio finish "${filter[@]}" "$out"
    fi
    mark_done "$out/.done"
  done
fi

if stage_on 4; then
  log "Stage 4: character token list $token_list"
  require_dumped "$train_sp"
  if todo "$(dirname "$token_list")/.done"; then
    run ${train_cmd} "$expdir/log/token_list.log" \
      python -m local.runtime.espnet_bin tokenize_text --token_type char \
      --input "$dumpdir/raw/$train_sp/text" --output "$token_list" --field 2- --cleaner none \
      --write_vocabulary true --add_symbol '<blank>:0' --add_symbol '<unk>:1' \
      --add_symbol '<sos/eos>:-1'
    log "  $(wc -l < "$token_list") tokens"
    mark_done "$(dirname "$token_list")/.done"
  fi
fi
[ "$stop_stage" -lt 5 ] || [ -f "$token_list" ] || die "$token_list missing: run stage 4"
vocab_size=$( [ -f "$token_list" ] && wc -l < "$token_list" || echo 0)

if stage_on 5 && [ "$use_lm" = true ]; then
  log "Stage 5: LM $lm_exp on $lm_train_text"
  require_dumped "$valid_set" $test_sets
  [ -f "$lm_train_text" ] || die "--lm_train_text $lm_train_text: no such file"
  if todo "$lm_exp/.done"; then
    mkdir -p "$lm_exp/log"
    check_lm_leak
    lm_data=(--train_data_path_and_name_and_type "$lm_train_text,text,text"
             --valid_data_path_and_name_and_type "$dumpdir/raw/$valid_set/text,text,text")
    if todo "$lm_stats/.done"; then
      collect_stats lm "$lm_config" "$lm_stats" "$lm_train_text" \
        "$dumpdir/raw/$valid_set/text" "${lm_data[@]}"
      mark_done "$lm_stats/.done"
    fi
    # shellcheck disable=SC2046,SC2086
    run ${cuda_cmd} "${train_job_opts[@]}" "$lm_exp/log/train.log" "${train_launcher[@]}" \
      python -m local.runtime.espnet_bin lm_train --ngpu "$ngpu" $distributed_opts \
        $(dist_init_opts "$lm_exp") --use_preprocessor true "${text_opts[@]}" "${lm_data[@]}" \
        --train_shape_file "$lm_stats/train/text_shape.char" \
        --valid_shape_file "$lm_stats/valid/text_shape.char" \
        --fold_length 150 --resume true --output_dir "$lm_exp" --config "$lm_config" $lm_args
    run ${train_cmd} "$lm_exp/log/perplexity.log" \
      python -m local.runtime.espnet_bin lm_calc_perplexity --ngpu 0 --batch_size 32 \
        --data_path_and_name_and_type "$dumpdir/raw/$valid_set/text,text,text" \
        --train_config "$lm_exp/config.yaml" --model_file "$lm_exp/$inference_lm" \
        --output_dir "$lm_exp/perplexity_$valid_set"
    log "  perplexity on $valid_set: $(cat "$lm_exp/perplexity_$valid_set/ppl")"
    mark_done "$lm_exp/.done"
  fi
fi

if stage_on 6; then
  log "Stage 6: ASR training $asr_exp (log: $asr_exp/log/train.log)"
  require_dumped "$train_sp" "$valid_set"
  if todo "$asr_exp/.done"; then
    mkdir -p "$asr_exp/log"
    echo "$0 ${driver_args[*]}" > "$asr_exp/train_command"  # for RESULTS.md
    asr_data=(--train_data_path_and_name_and_type "$(speech_data "$train_sp")"
              --train_data_path_and_name_and_type "$dumpdir/raw/$train_sp/text,text,text"
              --valid_data_path_and_name_and_type "$(speech_data "$valid_set")"
              --valid_data_path_and_name_and_type "$dumpdir/raw/$valid_set/text,text,text")
    ssl_folder=$(ssl_model_folder "$asr_config")
    frontend_opts=()
    [ -z "$ssl_folder" ] || frontend_opts=(--frontend_conf "model_path=$ssl_folder")
    if todo "$asr_stats/.done"; then
      collect_stats asr "$asr_config" "$asr_stats" "$(speech_keys "$train_sp")" \
        "$(speech_keys "$valid_set")" "${asr_data[@]}" --normalize none "${frontend_opts[@]}"
      mark_done "$asr_stats/.done"
    fi
    normalize_opts=()
    if [ "$(config_value "$asr_config" normalize)" = global_mvn ]; then
      normalize_opts=(--normalize_conf "stats_file=$asr_stats/train/feats_stats.npz")
    fi
    # shellcheck disable=SC2046,SC2086
    run ${cuda_cmd} "${train_job_opts[@]}" "$asr_exp/log/train.log" "${train_launcher[@]}" \
      python -m local.runtime.espnet_bin asr_train --ngpu "$ngpu" $distributed_opts \
        $(dist_init_opts "$asr_exp") --use_preprocessor true "${text_opts[@]}" "${asr_data[@]}" \
        --train_shape_file "$asr_stats/train/speech_shape" \
        --train_shape_file "$asr_stats/train/text_shape.char" \
        --valid_shape_file "$asr_stats/valid/speech_shape" \
        --valid_shape_file "$asr_stats/valid/text_shape.char" \
        --fold_length 80000 --fold_length 150 --resume true --output_dir "$asr_exp" \
        --config "$asr_config" "${normalize_opts[@]}" "${frontend_opts[@]}" $asr_args
    mark_done "$asr_exp/.done"
  fi
fi

if stage_on 7; then
  decode_dir=$asr_exp/$(decode_name "$inference_name")
  log "Stage 7: decoding with $inference_config ($(basename "$decode_dir"))"
  check_model
  for dset in $test_sets; do
    todo "$decode_dir/$dset/.done" || continue
    # shellcheck disable=SC2086
    decode_set "$dset" "$decode_dir/$dset" "${lm_opts[@]}" $inference_args
    mark_done "$decode_dir/$dset/.done"
  done
fi

if stage_on 8; then
  log "Stage 8: scoring (CER)"
  score_sets "$asr_exp/$(decode_name "$inference_name")"
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
  log "Stage 9: summary of $expdir -> $expdir/summary.md (printed at the end)"
  run python -m local.report.summary "$expdir" --test_sets "$test_sets" \
    --out "$expdir/summary.md" > /dev/null
  # the learned layer weights of every SSL experiment, side by side
  run python -m local.report.layer_weights_figure "$expdir" --out "$expdir/layer_weights.png" >&2
fi

if stage_on 10; then
  log "Stage 10: pack $asr_exp"
  pack_opts=()
  pack_asr_config=$asr_exp/config.yaml
  pack_lm_config=$lm_exp/config.yaml
  pack_decode_config=$inference_config
  if [ -n "$(config_value "$asr_exp/config.yaml" frontend_conf.model_path)" ]; then
    # SSL frontend: a self-contained pack (frontend.pack): the upstream's config.json and
    # preprocessor_config.json, its weights from the ASR checkpoint, no absolute path
    run python -m frontend.pack "$asr_exp/config.yaml" "$asr_exp/pack_files/asr"
    pack_asr_config=$asr_exp/pack_files/asr/config.yaml
    pack_opts+=(--option "$asr_exp/pack_files/asr/ssl_upstream/config.json"
                --option "$asr_exp/pack_files/asr/ssl_upstream/preprocessor_config.json")
    cp "$inference_config" "$asr_exp/pack_files/"  # packed by a relative name, even from a linked conf/
    pack_decode_config=$asr_exp/pack_files/$(basename "$inference_config")
    if [ "$use_lm" = true ]; then
      run python -m frontend.pack "$lm_exp/config.yaml" "$asr_exp/pack_files/lm"
      pack_lm_config=$asr_exp/pack_files/lm/config.yaml
    fi
  fi
  [ "$use_lm" = false ] || pack_opts+=(--lm_train_config "$pack_lm_config"
                                       --lm_file "$lm_exp/$inference_lm")
  if [ -f "$asr_stats/train/feats_stats.npz" ]; then
    pack_opts+=(--option "$asr_stats/train/feats_stats.npz")  # global_mvn statistics
  fi
  run ${train_cmd} "$asr_exp/log/pack.log" python -m local.runtime.espnet_bin pack asr \
    --asr_train_config "$pack_asr_config" --asr_model_file "$asr_exp/$inference_asr_model" \
    "${pack_opts[@]}" --option "$asr_exp/RESULTS.md" --option "$token_list" \
    --option "$pack_decode_config" --outpath "$asr_exp/packed/asr_$asr_tag.zip"
  log "  packed: $asr_exp/packed/asr_$asr_tag.zip"
fi

if stage_on 11; then
  # N-best of the beam search without LM, rescored by the LM afterwards (the other
  # way to use it, besides shallow fusion in stage 7); scored into RESULTS.md.
  [ "$use_lm" = true ] || die "stage 11 rescores with the LM: --use_lm true"
  weight=${rescore_lm_weight:-$(config_value "$inference_config" lm_weight)}
  rescore_dir=$asr_exp/$(decode_name "${inference_name}_nbest${nbest}_rescore")
  log "Stage 11: N-best ($nbest) rescoring with the LM, weight ${weight:=0.3} ($(basename "$rescore_dir"))"
  check_model
  for dset in $test_sets; do
    dir=$rescore_dir/$dset
    todo "$dir/.done" || continue
    # shellcheck disable=SC2086
    decode_set "$dset" "$dir/beam_search" --nbest "$nbest" --lm_weight 0 $inference_args
    run python -m local.decode.lm_rescore --lm_train_config "$lm_exp/config.yaml" \
      --lm_file "$lm_exp/$inference_lm" --lm_weight "$weight" "$dir/beam_search/log" "$dir"
    cp "$dir/beam_search/rtf" "$dir/beam_search/command" "$dir/"
    mark_done "$dir/.done"
  done
  score_sets "$rescore_dir"
  write_results
fi

if stage_on 12; then
  # Grid search of beam, CTC weight and LM weight on the tuning set (tune_grid.sh),
  # then the test sets decoded with the best setting; grid table and plot in RESULTS.md.
  tune_set=${tune_set:-$valid_set}
  [ "$use_lm" = true ] || tune_lm_weights=0
  tune_dir=$asr_exp/$(decode_name "tune_$inference_name")
  log "Stage 12: tuning on $tune_set: beam {$tune_beams} x ctc weight {$tune_ctc_weights}" \
    "x lm weight {$tune_lm_weights} ($tune_dir)"
  check_model
  tune_grid "$tune_set" "$tune_dir"  # -> $tune_dir/best: beam ctc lm cer
  read -r beam ctc lm _ < "$tune_dir/best"
  tuned_dir=$asr_exp/$(decode_name "decode_tuned_on_${tune_set}_beam${beam}_ctc${ctc}_lm${lm}")
  log "  best on $tune_set: beam $beam, ctc weight $ctc, lm weight $lm; decoding the test sets ($tuned_dir)"
  for dset in $test_sets; do
    todo "$tuned_dir/$dset/.done" || continue
    # shellcheck disable=SC2086
    decode_set "$dset" "$tuned_dir/$dset" "${lm_opts[@]}" $inference_args \
      --beam_size "$beam" --ctc_weight "$ctc" --lm_weight "$lm"
    mark_done "$tuned_dir/$dset/.done"
  done
  cp "$tune_dir/grid.md" "$tune_dir/grid.png" "$tuned_dir/"
  score_sets "$tuned_dir"
  write_results
fi

log "Finished stages $stage to $stop_stage"
if stage_on 9; then
  echo
  cat "$expdir/summary.md"
fi
