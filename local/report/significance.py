"""Intervals and significance for the CER tables (summary, seed tables).

A table cell is a scored set (its score_cer/result.txt); its utterances are read
back from the ref.trn and hyp.trn beside it (local.report.scored). Each CER gets
± half the width of its 95 % bootstrap interval (local.report.bootstrap), and an
SSL row the p value of NIST's MAPSSWE test against the FBank row trained on the
same data, on the same test set (local.report.mapsswe), starred when sctk's rule
calls the difference significant.
"""

import sys
from functools import cache
from pathlib import Path

from fileio.kaldi_table import DataError
from local.report import bootstrap, mapsswe, scored

LEGEND = (
    f"±: half the width of the 95 % bootstrap interval (utterances resampled, "
    f"{bootstrap.RESAMPLES} times, seed {bootstrap.SEED}). p: MAPSSWE test (as NIST "
    "sc_stats) against the FBank row trained on the same data, on the same test set; "
    "* where the difference is significant (|Z| > 1.96, p < 0.05)."
)


@cache
def scoring(result_txt):
    """The Scoring of the set whose result.txt this is (read from its trn files)."""
    return scored.load(Path(result_txt).parent)


@cache
def half_width(result_txt):
    """Half the width of the 95 % bootstrap interval of a scored set's CER (%)."""
    errors, words = bootstrap.utterance_counts(scoring(result_txt))
    low, high = bootstrap.interval(errors, words)
    return (high - low) / 2.0


def with_interval(cer, result_txt):
    """`4.1 ±0.2`: a CER (as the table prints it) with its interval."""
    return f"{cer} ±{half_width(result_txt):.1f}"


class DifferentReferences(DataError):
    """Two scored sets whose common utterances have different reference texts."""


def test(result_a, result_b):
    """The MAPSSWE Result of two scored sets of the same test set; DifferentReferences
    when an utterance both scored has two different references."""
    pairs = mapsswe.paired_sentences(scoring(result_a).utterances, scoring(result_b).utterances)
    try:
        return mapsswe.test(pairs)
    except mapsswe.DifferentReferences:
        raise DifferentReferences(
            f"{result_a} and {result_b}: scored against different references "
            "(an utterance's reference text differs); no significance test"
        ) from None


def p_text(result):
    """`0.012*`: the p value, starred when significant."""
    return f"{result.p:.2g}" + ("*" if result.differ else "")


def fbank_partner(rows, row):
    """The FBank row trained on the same data as an SSL row (same decoding name
    preferred, else the first), or None."""
    if row.is_fbank:
        return None
    candidates = [r for r in rows if r.is_fbank and r.training == row.training]
    same = [r for r in candidates if r.decoding == row.decoding]
    return (same or candidates or [None])[0]


def versus_fbank(rows, row, columns):
    """The p column of a row: `FBank`, `-` (no FBank row to compare with), or the p
    value of every column, `a / b` (`-` where either row lacks the set), followed by
    the FBank experiment's name."""
    if row.is_fbank:
        return "FBank"
    partner = fbank_partner(rows, row)
    if partner is None:
        return "-"
    cells = []
    for column in columns:
        if column in row.results and column in partner.results:
            try:
                result = test(partner.results[column], row.results[column])
            except DifferentReferences as e:
                print(f"warning: {e}", file=sys.stderr)
                result = None
            cells.append(p_text(result) if result and result.sentences else "-")
        else:
            cells.append("-")
    return " / ".join(cells) + f" (vs {partner.experiment})"
