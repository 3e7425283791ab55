"""The fields of WenetSpeech.json's entries, checked: what the WenetSpeech recipe's
local/prepare_wenetspeech.py keeps of an audio entry and of a segment, and the
reasons it leaves one out.

An audio entry needs an `aid` (a Kaldi key: no white space), a `path` and a list
of `segments`; `duration` is optional (a finite number >= 0). A segment needs a
`sid` (a key), `begin_time` < `end_time` (finite numbers, compared as written,
to the millisecond), a `text` (normalized: local.data.text_norm) and `subsets` (a
list of tags). Anything else is counted by reason in a Report, never fatal.
"""

import collections
import math

from local.data.text_norm import normalize_mandarin

SET_OF_TAG = {
    "S": "train_s",
    "M": "train_m",
    "L": "train_l",
    "W": "train_w",
    "DEV": "dev",
    "TEST_NET": "test_net",
    "TEST_MEETING": "test_meeting",
}
KNOWN_TAGS = frozenset(SET_OF_TAG)


class Report:
    """Counts and lists of what was left out, by reason."""

    def __init__(self):
        self.counts = collections.Counter()
        self.items = []

    def drop(self, reason, item, n=1):
        self.counts[reason] += n
        self.items.append(f"{reason}\t{item}")

    def add(self, other):
        """Take in another Report's counts and items (of a part, of a set)."""
        self.counts.update(other.counts)
        self.items += other.items


def is_key(value):
    """A Kaldi table key: a non-empty string without white space."""
    return type(value) is str and value.split() == [value]


def is_time(value):
    """A finite JSON number (not a boolean, not a string)."""
    try:
        return type(value) in (int, float) and math.isfinite(value)
    except OverflowError:  # an integer too large for a float
        return False


def audio_fields(audio):
    """(aid, path, duration (inf when not given), segments) of an audio entry, or
    ValueError saying what is wrong."""
    if type(audio) is not dict:
        raise ValueError("not an object")
    aid, path, segments = audio.get("aid"), audio.get("path"), audio.get("segments")
    duration = audio.get("duration")
    if not is_key(aid):
        raise ValueError("aid missing or not a word")
    if type(path) is not str or not path or any(c in path for c in "\n\r\0"):
        raise ValueError(f"{aid}: path missing or not a file name")
    if type(segments) is not list:
        raise ValueError(f"{aid}: segments missing or not a list")
    if duration is None:
        duration = math.inf
    elif not is_time(duration) or duration < 0:
        raise ValueError(f"{aid}: bad duration")
    return aid, path, float(duration), segments


def collect_segment(segment, aid, wanted_tags, lines, report):
    """Check one segment and queue its line for every wanted set it belongs to."""
    try:
        sid, begin, end = segment["sid"], segment["begin_time"], segment["end_time"]
        text, tags = segment["text"], segment["subsets"]
        if (
            not is_key(sid)
            or type(text) is not str
            or type(tags) is not list
            or not all(type(t) is str for t in tags)
        ):
            raise TypeError
    except (KeyError, TypeError):
        report.drop("malformed segment", f"{aid} {str(segment)[:80]}")
        return
    if not tags:
        report.drop("no subset tag", sid)
        return
    if not KNOWN_TAGS.issuperset(tags):
        unknown = [t for t in tags if t not in KNOWN_TAGS]
        report.drop("unknown subset tag", f"{sid} {' '.join(unknown)}")
    targets = [t for t in dict.fromkeys(tags) if t in wanted_tags]
    if not targets:
        return
    # the times as written (ms); + 0.0 turns -0.0 into 0.0
    begin, end = (round(t, 3) + 0.0 if is_time(t) else None for t in (begin, end))
    if begin is None or end is None or not 0 <= begin < end:
        report.drop(
            "bad segment times",
            f"{sid} {segment['begin_time']} {segment['end_time']}",
            len(targets),
        )
        return
    text = normalize_mandarin(text)
    if not text:
        report.drop("empty text", sid, len(targets))
        return
    line = f"{sid}\t{aid}\t{begin:.3f}\t{end:.3f}\t{text}\n"
    for tag in targets:
        lines[tag].append((sid, begin, end, line))
