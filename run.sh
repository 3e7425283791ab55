#!/usr/bin/env bash
# The embedded default: creates .venv if it is missing (tools/install.sh), runs
# every stage of the mini Mandarin recipe (egs2/mini_zh/asr1); stage 9 prints its
# CER table at the end. Options are passed on to the recipe, e.g.
# `bash run.sh --stage 7`, `bash run.sh --help`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
bash "$root/tools/install.sh"
cd "$root/egs2/mini_zh/asr1"
exec ./run.sh "$@"
