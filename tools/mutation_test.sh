#!/usr/bin/env bash
# Mutation testing of one module against the tests that should catch its bugs (not in CI):
#
#   bash tools/mutation_test.sh local/data/split_keys.py "tests/recipes/test_driver.py -k split_keys"
#
# Works on a copy of the tracked files (under $MUTATION_DIR, default /tmp/mutation), never
# on this checkout. Needs `.venv/bin/pip install mutmut==2.5.1`. mutmut 2.5 counts only
# pytest's exit status 1 as a killed mutant, so a mutant that breaks the module's import
# (status 2 or 3) would pass as a survivor: the runner reports every failure as 1 and logs
# the real status (<name>.rc) so that both counts can be given. Cached bytecode of the
# project is removed before every run.
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 MODULE_PATH \"PYTEST ARGS\"" >&2; exit 2; }
module=$1 tests=$2
root=$(cd "$(dirname "$0")/.." && pwd)
[ -f "$root/$module" ] || { echo "$0: $module: no such file in $root" >&2; exit 2; }
work=${MUTATION_DIR:-/tmp/mutation}
name=$(echo "$module" | tr '/' '_')
tree=$work/tree_$name
mkdir -p "$work"
rm -rf "$tree" && mkdir "$tree"
(cd "$root" && git ls-files -z | xargs -0 -I{} cp --parents -P {} "$tree"/)
ln -s "$root/.venv" "$tree/.venv"
cat > "$work/pytest_any_failure.sh" <<'EOF'
#!/usr/bin/env bash
# no cached bytecode: a mutant and the original of the same size written in the same
# second would otherwise share a .pyc in the subprocesses the tests start
find local frontend fileio zh_ssl_asr egs2 -name __pycache__ -prune -exec rm -rf {} +
python -m pytest "$@"
status=$?
echo $status >> "$RCLOG"
[ $status -eq 0 ] || exit 1
EOF
chmod +x "$work/pytest_any_failure.sh"
export RCLOG=$work/$name.rc CI=true
rm -f "$RCLOG"
cd "$tree" && . ./path.sh
mutmut run --paths-to-mutate "$module" --tests-dir tests --no-progress \
  --runner "$work/pytest_any_failure.sh -x -q -p no:cacheprovider $tests" > "$work/$name.log" 2>&1 || true
mutmut results >> "$work/$name.log" 2>&1 || true
python - <<'EOF2'
import sqlite3
rows = sqlite3.connect(".mutmut-cache").execute("select status, count(*) from Mutant group by status")
print("mutants:", ", ".join(f"{status} {count}" for status, count in rows))
EOF2
echo "pytest exit statuses (the first is the run without mutants): $(sort "$RCLOG" | uniq -c | tr '\n' ' ')"
echo "survivors: (cd $tree && mutmut results; mutmut show ID)"
