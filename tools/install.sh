#!/usr/bin/env bash
# Create the Python environment .venv/ from requirements.lock (idempotent).
#
#   bash tools/install.sh            # no-op when .venv matches requirements.lock
#
# Uses uv (from PyPI) for speed; only PyPI is needed. Debian packages are optional
# extras: sctk (sclite cross-check), espeak-ng + fortunes-zh (regenerate the mini
# corpus), sox; see README.md.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$root/.venv}
lock=$root/requirements.lock
python=${PYTHON:-python3.11}
command -v "$python" >/dev/null || python=python3

stamp=$venv/.lock.sha256
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "install.sh: creating $venv from $lock" >&2
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --disable-pip-version-check uv
"$venv/bin/python" -m uv pip sync -q --compile-bytecode --python "$venv/bin/python" "$lock"
echo "$want" > "$stamp"
echo "install.sh: done" >&2
