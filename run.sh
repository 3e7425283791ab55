#!/usr/bin/env bash
# The embedded default: creates .venv if it is missing (tools/install.sh), runs
# every stage of the mini Mandarin recipe (egs2/mini_zh/asr1) and prints its CER
# table. Options are passed on to the recipe, e.g. `bash run.sh --stage 7`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$root/tools/install.sh"
cd "$root/egs2/mini_zh/asr1"
./run.sh "$@"
. ./path.sh
echo
python -m local.summary exp --test_sets "dev test"
