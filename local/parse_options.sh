# Source me after setting the defaults: turns `--name value` / `--name=value` into
# shell variables, Kaldi style. Only variables that already exist are accepted.
# `--help` prints the calling script's header comment and the current defaults.
#
#   stage=1; nj=4
#   . local/parse_options.sh
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h)
      sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
      return 0 2>/dev/null || exit 0 ;;
    --*=*)
      _name=${1%%=*}; _name=${_name#--}; _value=${1#*=}; shift ;;
    --*)
      _name=${1#--}
      if [ $# -lt 2 ]; then echo "$0: option --$_name needs a value" >&2; exit 1; fi
      _value=$2; shift 2 ;;
    *) break ;;
  esac
  _name=${_name//-/_}
  if ! declare -p "$_name" >/dev/null 2>&1; then
    echo "$0: unknown option --$_name (see $0 --help)" >&2
    exit 1
  fi
  printf -v "$_name" '%s' "$_value"
done
unset _name _value
if [ $# -gt 0 ]; then
  echo "$0: unexpected argument '$1' (options are --name value)" >&2
  exit 1
fi
