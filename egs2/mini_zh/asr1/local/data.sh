#!/usr/bin/env bash
# Stage 1 of the mini recipe: the embedded corpus ($MINI_ZH, Aishell layout) goes
# through the Aishell-1 data preparation unchanged -> data/{train,dev,test}.
# local/make_corpus.py regenerates the corpus (needs espeak-ng and fortunes-zh).
set -euo pipefail
. ./path.sh
. ./db.sh
python "$MAIN_ROOT/egs2/aishell/asr1/local/prepare_aishell.py" "$MINI_ZH" data \
  --expected-total 1400 "$@"
