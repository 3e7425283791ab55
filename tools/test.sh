#!/usr/bin/env bash
# The test command (creating .venv first if it is missing).
#
#   bash tools/test.sh             # every day: the fast tests of every module and one
#                                  # end-to-end recipe (tests not marked slow), minutes
#   bash tools/test.sh --all       # everything, as CI runs it
#   bash tools/test.sh -k score -x # extra arguments go to pytest (with either)
#
# A test is marked slow (`@pytest.mark.slow`, or `pytestmark` for a whole file) when it
# takes long and a fast test already covers its module; `pytest --markers` lists it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
select=(-m "not slow")
args=()
for arg in "$@"; do
  if [ "$arg" = --all ]; then select=(); else args+=("$arg"); fi
done
bash "$root/tools/install.sh"
cd "$root"
. ./path.sh
exec python -m pytest -ra "${select[@]}" "${args[@]}" tests
