#!/usr/bin/env bash
# The mini recipe with the weighted-sum SSL frontend: makes the tiny random-weight
# models if they are missing (frontend.make_tiny_models, into $TINY_SSL), then runs
# every stage with conf/train_asr_hubert_tiny.yaml. Stages 1-5 are shared with
# ./run.sh and skipped when already done.
set -euo pipefail
. ./path.sh
. ./db.sh
case " $* " in *" --help "* | *" -h "*) ;; *)  # --help only prints the options
  [ -f "$TINY_HUBERT_LARGE" ] || python -m frontend.make_tiny_models "$TINY_SSL" ;;
esac
./run.sh --asr_config conf/train_asr_hubert_tiny.yaml "$@"
