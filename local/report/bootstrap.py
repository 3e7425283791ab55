"""Confidence intervals of a CER by the bootstrap over utterances.

A test set's utterances are drawn with replacement, as many as it has, RESAMPLES
times; each draw's CER is its errors over its reference characters (a draw
without reference characters is left out). The interval is the 2.5th and 97.5th
percentile of these CERs (numpy's linear interpolation). The draws come from
numpy's default generator seeded with SEED, so the interval of a set is the same
at every run, and systems scored on the same utterances are resampled with the
same draws (the differences between their intervals come from the systems).
"""

import numpy as np

from local.report.alignment import CORRECT, INSERTION

RESAMPLES = 1000
SEED = 0
LEVEL = 0.95
_CHUNK = 2_000_000  # draws held in memory at once (resamples x utterances)


def utterance_counts(scoring):
    """(errors, reference tokens) per utterance of a score.Scoring, as arrays."""
    errors, words = [], []
    for _, _, path in scoring.utterances:
        errors.append(sum(op != CORRECT for op, _, _ in path))
        words.append(sum(op != INSERTION for op, _, _ in path))
    return np.array(errors, dtype=np.int64), np.array(words, dtype=np.int64)


def interval(errors, words, resamples=RESAMPLES, seed=SEED, level=LEVEL):
    """(low, high) in % : the bootstrap percentile interval of sum(errors) / sum(words)."""
    errors, words = np.asarray(errors, dtype=np.int64), np.asarray(words, dtype=np.int64)
    n = len(errors)
    if n == 0 or resamples < 1:
        raise ValueError("the bootstrap needs utterances and at least one resample")
    rng = np.random.default_rng(seed)
    rows = max(1, _CHUNK // n)
    cers = []
    for start in range(0, resamples, rows):
        draw = rng.integers(0, n, size=(min(rows, resamples - start), n))
        drawn_words = words[draw].sum(axis=1)
        drawn_errors = errors[draw].sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            cers.append(np.where(drawn_words > 0, drawn_errors / drawn_words * 100.0, np.nan))
    cers = np.concatenate(cers)
    if np.isnan(cers).all():
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0 * 100.0
    low, high = np.nanpercentile(cers, [tail, 100.0 - tail])
    return float(low), float(high)
