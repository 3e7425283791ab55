"""NIST's matched-pair sentence-segment word error test (MAPSSWE), as sctk's
`sc_stats -t mapsswe` computes it.

Two systems' alignments of the same reference sentence are cut into segments:
a segment starts after (and ends with) MIN_GOOD consecutive reference tokens that
both systems got right, so that the errors of one segment are independent of the
errors of the next. Per segment the difference of the two systems' error counts
is taken; Z is the mean difference over its standard error, and the systems
differ when |Z| > 1.960 (sctk's two-sided 95 % critical value).

The rules, as sctk 2.4 (src/sclite/mtchprs.c, statdist.c) applies them:
- Walking both alignments, an insertion in either puts the walk into an error
  state and is skipped; each step then consumes one reference token of each.
- State `b` (no error since the last segment): a token both got right marks the
  end of the good run; anything else starts an error. State `e`: a token both got
  right starts counting good tokens (state `g`), and the MIN_GOOD-th consecutive
  one closes the segment: from MIN_GOOD - 1 tokens before the last good token of
  state `b` (clipped at 0) to this token, in each alignment.
- At the end of the sentence a segment is still open when the state is not `b`,
  or when the second alignment has tokens left (insertions at the end).
- A segment's errors are its tokens that are not correct, its reference size the
  mean (integer division) of both sides' non-inserted tokens; a segment where
  neither system erred is dropped.
- Sentences are paired by speaker and id; the statistics are computed in sctk's
  order (mean, then the sum of squared deviations, variance with n - 1); when that
  sum is 0 (no segment, one segment, or all differences equal), Z is 0.
- The better system is the first when the mean difference is negative.
sctk can resynchronize two alignments whose references differ (alternations in
the reference); here both systems are aligned to the same reference, which we
check instead. The p value is the two-sided tail of the standard normal at Z.
"""

import math
from dataclasses import dataclass

CORRECT, INSERTION = "C", "I"
MIN_GOOD = 2  # sc_stats' number of correct boundary tokens
Z_CRITICAL = 1.960  # sctk's Z2tail[PER95]


@dataclass(frozen=True)
class Segment:
    reference: int  # reference tokens (mean of both alignments' counts)
    errors1: int
    errors2: int


@dataclass(frozen=True)
class Result:
    """One pair of systems: the numbers of sc_stats' MTCH_PR_RESULTS line, and p."""

    segments: int
    sentences: int
    percent1: float  # errors / reference tokens over the segments, system 1
    percent2: float
    mean: float  # mean of (errors1 - errors2) per segment (nan without segments)
    std_dev: float
    z: float
    p: float  # two-sided, standard normal
    differ: bool  # |Z| > 1.960
    better: int  # 0: the first system, 1: the second, None: no significant difference


class DifferentReferences(ValueError):
    """Two alignments of one sentence against different reference texts."""


def _ops(path):
    return [op for op, _, _ in path]


def _reference(path):
    return [ref for op, ref, _ in path if op != INSERTION]


def segments(path1, path2, min_good=MIN_GOOD):
    """The segments of one sentence, from two alignments [(op, ref, hyp)] of it."""
    if _reference(path1) != _reference(path2):
        raise DifferentReferences("the two alignments are not of the same reference")
    ops1, ops2 = _ops(path1), _ops(path2)
    n1, n2 = len(ops1), len(ops2)
    found = []

    def close(begin1, begin2, end1, end2):
        part1, part2 = ops1[max(begin1, 0) : end1 + 1], ops2[max(begin2, 0) : end2 + 1]
        errors1 = sum(op != CORRECT for op in part1)
        errors2 = sum(op != CORRECT for op in part2)
        reference1 = sum(op != INSERTION for op in part1)
        reference2 = sum(op != INSERTION for op in part2)
        if errors1 or errors2:
            found.append(Segment((reference1 + reference2) // 2, errors1, errors2))

    i1 = i2 = good_end1 = good_end2 = good = 0
    state = "b"
    while i1 < n1:
        while i1 < n1 and ops1[i1] == INSERTION:
            i1, state = i1 + 1, "e"
        while i2 < n2 and ops2[i2] == INSERTION:
            i2, state = i2 + 1, "e"
        both_correct = i1 < n1 and i2 < n2 and ops1[i1] == CORRECT and ops2[i2] == CORRECT
        if state == "b":
            if both_correct:
                good_end1, good_end2 = i1, i2
            else:
                state = "e"
        elif both_correct:  # state e or g
            good = 1 if state == "e" else good + 1
            state = "g"
            if good == min_good:
                close(good_end1 - (min_good - 1), good_end2 - (min_good - 1), i1, i2)
                good_end1, good_end2, state = i1, i2, "b"
        else:
            state = "e"
        i1 += i1 < n1
        i2 += i2 < n2
    if state != "b" or n2 > i2:
        close(good_end1 - (min_good - 1), good_end2 - (min_good - 1), n1 - 1, n2 - 1)
    return found


def paired_sentences(utterances1, utterances2):
    """[(path1, path2)] of the sentences both systems scored: same speaker, same id.

    utterances: [(id, speaker, path)] of a system (score.Scoring.utterances); the
    pairs come speaker by speaker, as sctk takes them."""
    second = {(speaker, trn_id): path for trn_id, speaker, path in utterances2}
    order = {}
    for _, speaker, _ in utterances1:
        order.setdefault(speaker, len(order))
    by_speaker = sorted(utterances1, key=lambda u: order[u[1]])  # sctk's order (stable)
    return [
        (path, second[(speaker, trn_id)])
        for trn_id, speaker, path in by_speaker
        if (speaker, trn_id) in second
    ]


def two_sided_p(z):
    """P(|N(0, 1)| >= |z|)."""
    return math.erfc(abs(z) / math.sqrt(2.0))


def test(pairs, min_good=MIN_GOOD):
    """The MAPSSWE test over sentences [(path1, path2)]: a Result."""
    found = [s for path1, path2 in pairs for s in segments(path1, path2, min_good)]
    n = len(found)
    reference = sum(s.reference for s in found)
    errors1 = sum(s.errors1 for s in found)
    errors2 = sum(s.errors2 for s in found)
    differences = [s.errors1 - s.errors2 for s in found]
    mean = sum(float(d) for d in differences) / n if n else math.nan
    spread = sum((d - mean) * (d - mean) for d in differences)
    if spread != 0.0:
        variance = spread / (n - 1)
        std_dev = math.sqrt(variance)
        z = mean / (math.sqrt(variance) / math.sqrt(float(n)))
    else:
        std_dev = z = 0.0
    differ = abs(z) > Z_CRITICAL
    return Result(
        segments=n,
        sentences=len(pairs),
        percent1=errors1 / reference * 100.0 if reference else 0.0,
        percent2=errors2 / reference * 100.0 if reference else 0.0,
        mean=mean,
        std_dev=std_dev,
        z=z,
        p=two_sided_p(z),
        differ=differ,
        better=(0 if mean < 0.0 else 1) if differ else None,
    )
