#!/usr/bin/env bash
# Run the test suite (creating .venv first if it is missing). Extra arguments go
# to pytest, e.g. `bash tools/test.sh -k score -x`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/tools/install.sh"
cd "$root"
. ./path.sh
exec python -m pytest -ra "$@" tests
