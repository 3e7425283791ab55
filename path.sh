# Source me (recipes link to this file): activates .venv and puts the project's
# Python packages (local/, frontend/) on the path.
MAIN_ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
export MAIN_ROOT
if [ ! -x "$MAIN_ROOT/.venv/bin/python" ]; then
  echo "path.sh: $MAIN_ROOT/.venv is missing: run 'bash $MAIN_ROOT/tools/install.sh'" >&2
  return 1 2>/dev/null || exit 1
fi
export PATH="$MAIN_ROOT/.venv/bin:$PATH"
export VIRTUAL_ENV="$MAIN_ROOT/.venv"
export PYTHONPATH="$MAIN_ROOT${PYTHONPATH:+:$PYTHONPATH}"
# A recipe's own local/ folder must not shadow the shared `local` package.
export PYTHONSAFEPATH=1
export PYTHONIOENCODING=UTF-8
# Cached bytecode halves the start-up time of every espnet2 command.
unset PYTHONDONTWRITEBYTECODE
export LC_ALL=C.UTF-8
# Models come from db.sh paths only: never from a hub at run time.
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
