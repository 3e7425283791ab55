#!/usr/bin/env bash
# CER of a hypothesis against a reference, with NIST sclite's numbers.
#
#   local/score.sh REF_TEXT HYP_TEXT [OUT_DIR] [--utt2spk FILE] [--durations FILE]
#
# REF_TEXT, HYP_TEXT: Kaldi text files (<utt> <transcript>); spaces and invisible
# characters (zero-width spaces, byte order marks) are removed and characters
# compared. Prints sclite's summary table, the CER and the pinyin syllable error
# rates; OUT_DIR gets result.txt (summary + per-utterance alignments), ref.trn,
# hyp.trn, analysis.md (frequent errors, CER by duration and by speaker), pinyin.txt
# (the pinyin syllable error rates beside the CER) and .written_by (the scorer's mark).
# See `python -m local.report.score --help` for the details.
set -euo pipefail
root=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
if [ -z "${VIRTUAL_ENV:-}" ] || [ "${MAIN_ROOT:-}" != "$root" ]; then
  . "$root/path.sh"
fi
exec python -m local.report.score "$@"
