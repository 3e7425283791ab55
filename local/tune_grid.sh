# Stage 12's search (local/asr.sh sources this file): decode the tuning set with
# every beam x CTC weight x LM weight of --tune_beams, --tune_ctc_weights and
# --tune_lm_weights, score each, and let local.report.tune_table write the grid
# (grid.md, grid.png) and the best setting (best: beam ctc_weight lm_weight cer).
#
#   tune_grid SET TUNE_DIR      -> TUNE_DIR/beam<B>_ctc<C>_lm<L>/SET, TUNE_DIR/best
tune_grid() {
  local dset=$1 tune_dir=$2 beam ctc lm dir
  [ -f "$dumpdir/raw/$dset/text" ] || die "tuning set $dset was not dumped (stage 3)"
  for beam in $tune_beams; do
    for ctc in $tune_ctc_weights; do
      for lm in $tune_lm_weights; do
        dir=$tune_dir/beam${beam}_ctc${ctc}_lm${lm}
        if todo "$dir/$dset/.done"; then
          # shellcheck disable=SC2086
          decode_set "$dset" "$dir/$dset" "${lm_opts[@]}" $inference_args \
            --beam_size "$beam" --ctc_weight "$ctc" --lm_weight "$lm"
          mark_done "$dir/$dset/.done"
        fi
        score_sets "$dir" "$dset"
      done
    done
  done
  run python -m local.report.tune_table "$tune_dir" "$dset"
}
