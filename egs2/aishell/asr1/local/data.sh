#!/usr/bin/env bash
# Stage 1 of the Aishell-1 recipe: $AISHELL/data_aishell -> data/{train,dev,test}.
#
#   $AISHELL/                       (db.sh, or export AISHELL=/path)
#     data_aishell/
#       transcript/aishell_transcript_v0.8.txt
#       wav/S0002.tar.gz ...        (unpacked once, in place)
#
# Get data_aishell.tgz from https://www.openslr.org/33/ and unpack it into $AISHELL.
# Options are passed on to local/prepare_aishell.py (see its --help).
set -euo pipefail
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
. ./path.sh
. ./db.sh
python "$here/prepare_aishell.py" "$AISHELL" data "$@"
