"""A scored test set read back from its folder: the ref.trn and hyp.trn that
local.report.score wrote beside result.txt, aligned again with sclite's rules.

    scoring = load("exp/asr_X/decode_Y/test/score_cer")
"""

from pathlib import Path

from fileio.kaldi_table import DataError, read_lines
from local.report.alignment import align
from local.report.score import Scoring, sclite_id


def read_trn(path):
    """[(id, tokens)] of a trn file (`tok tok ... (id)` lines)."""
    entries = []
    for number, line in read_lines(path):
        fields = line.split()
        if not fields:
            continue
        trn_id = fields[-1]
        if not (trn_id.startswith("(") and trn_id.endswith(")")):
            raise DataError(f"{path}:{number}: no (id) at the end of the line")
        entries.append((trn_id, fields[:-1]))
    return entries


def load(score_dir):
    """The Scoring of a score_cer folder (its hypotheses against its references)."""
    score_dir = Path(score_dir)
    refs = dict(read_trn(score_dir / "ref.trn"))
    scoring = Scoring(str(score_dir / "hyp.trn"))
    for trn_id, tokens in read_trn(score_dir / "hyp.trn"):
        if trn_id not in refs:
            raise DataError(f"{score_dir / 'hyp.trn'}: {trn_id} is not in ref.trn")
        scoring.add(sclite_id(trn_id), align(refs[trn_id], tokens), trn_id)
    return scoring
