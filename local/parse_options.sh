# Source me after setting the defaults: turns `--name value` / `--name=value` into
# shell variables, Kaldi style. The options are the commented assignments of the
# calling script above the line that sources this file; any other name is refused.
#
#   stage=1    # first stage to run       <- an option: name=default, two spaces, # help
#   nj=4       # parallel jobs
#   . local/parse_options.sh
#
# `--help` prints the calling script's header comment, then every option (the
# commented assignments above the line that sources this file) with its value at
# that point, i.e. the default as changed by the options before --help, and exits.
option_lines() {
  awk '/parse_options\.sh/ {exit} /^[a-z_][a-z0-9_]*=.*  # / {print}' "$0"
}
print_options_help() {
  local line name
  sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"
  echo
  echo "Options (current value in brackets):"
  while IFS= read -r line; do
    name=${line%%=*}
    printf '  --%-24s %s [%s]\n' "$name" "${line#*  # }" "${!name}"
  done < <(option_lines)
}
_options=" $(option_lines | sed 's/=.*//' | tr '\n' ' ') "
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h)
      print_options_help
      exit 0 ;;
    --*=*)
      _name=${1%%=*}; _name=${_name#--}; _value=${1#*=}; shift ;;
    --*)
      _name=${1#--}
      if [ $# -lt 2 ]; then echo "$0: option --$_name needs a value" >&2; exit 1; fi
      _value=$2; shift 2 ;;
    *) break ;;
  esac
  _name=${_name//-/_}
  if [[ $_options != *" $_name "* ]]; then
    echo "$0: unknown option --$_name (see $0 --help)" >&2
    exit 1
  fi
  printf -v "$_name" '%s' "$_value"
done
unset _name _value _options
if [ $# -gt 0 ]; then
  echo "$0: unexpected argument '$1' (options are --name value)" >&2
  exit 1
fi
