#!/usr/bin/env bash
# Stage 1 of the mini recipe: the embedded corpus ($MINI_ZH, Aishell layout) goes
# through the Aishell-1 data preparation unchanged (local/prepare_aishell.py, a link
# to the Aishell recipe's) -> data/{train,dev,test}.
# local/make_corpus.py regenerates the corpus (needs espeak-ng and fortunes-zh).
#
#   local/data.sh [options of local/prepare_aishell.py, see its --help]
set -euo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
. ./path.sh
. ./db.sh
python "$here/prepare_aishell.py" "$MINI_ZH" data --expected-total 1400 "$@"
