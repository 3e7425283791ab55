#!/usr/bin/env bash
# Stage 1 of the WenetSpeech recipe: $WENETSPEECH -> data/train_<set>, data/dev,
# data/test_net, data/test_meeting (see local/prepare_wenetspeech.py --help).
#
#   $WENETSPEECH/                     (db.sh, or export WENETSPEECH=/path)
#     WenetSpeech.json
#     audio/{train/{youtube,podcast},dev,test_net,test_meeting}/B0*/<aid>.opus
#
#   local/data.sh [--set S|M|L|W] [--nj N] [--check_audio true|false]
#   local/data.sh --help
set -euo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
. ./path.sh
. ./db.sh
set=S  # the training subset: S (100 h), M (1000 h), L (10000 h) or W (all)
nj=4  # parallel jobs (JSON parsing, audio checks)
check_audio=true  # false: do not open the recordings to check them
. "$MAIN_ROOT/local/parse_options.sh"
python "$here/prepare_wenetspeech.py" "$WENETSPEECH" data --set "$set" --nj "$nj" \
  --check-audio "$check_audio"
