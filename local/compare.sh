#!/usr/bin/env bash
# Compare ASR systems on one test set: CER with a 95 % bootstrap interval each, and
# NIST's matched-pair test (MAPSSWE, as sctk's sc_stats) for every pair.
#
#   local/compare.sh REF_TEXT HYP_A HYP_B [HYP_C ...] [--utt2spk FILE]
#                    [--names "a b c"] [--resamples 1000] [--seed 0]
#
# Kaldi text files, scored as local/score.sh does (reference utterances that no system
# has are not scored; a warning on stderr says how many). Prints the tables, then the lines
#   system <name> cer=<CER %> ci95=<low>,<high>
#   pair <nameA> <nameB> segments=<n> z=<Z> p=<p> better=<name or same>
# See `python -m local.report.compare --help` for the details.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
if [ -z "${VIRTUAL_ENV:-}" ] || [ "${MAIN_ROOT:-}" != "$root" ]; then
  . "$root/path.sh"
fi
exec python -m local.report.compare "$@"
