"""Kaldi-style data directories: wav.scp, text, utt2spk, spk2utt and friends.

Every file is a table of lines `<key> <value>`, sorted by key (byte order). A
data directory may also hold `segments` (`<utt> <recording> <start> <end>`, with
wav.scp keyed by recording), `reco2speed` (speed factor applied to a recording
when its audio is read, written by speed perturbation) and `utt2num_samples`.
"""

import collections
import math
from pathlib import Path

from fileio.atomic import atomic_dir
from fileio.kaldi_table import DataError, read_lines, read_table, write_table

OPTIONAL_FILES = ("segments", "reco2speed", "utt2num_samples")


def spk2utt_from(utt2spk):
    spk2utt = collections.defaultdict(list)
    for utt in sorted(utt2spk):
        spk2utt[utt2spk[utt]].append(utt)
    return {spk: " ".join(utts) for spk, utts in spk2utt.items()}


def _segment(value):
    recording, start, end = value.split()  # ValueError unless three fields
    start, end = float(start), float(end)
    if not (math.isfinite(start) and math.isfinite(end) and start >= 0):
        raise ValueError
    return recording


SPEED_RANGE = (0.25, 4.0)  # the speed factors a recording may be read at (sox/soxr's useful range)


def _speed(value):
    if not SPEED_RANGE[0] <= float(value) <= SPEED_RANGE[1]:  # nan compares false
        raise ValueError


def _samples(value):
    if int(value) < 0:
        raise ValueError


# what each optional table's values must be, and how to say it
VALUE_RULES = {
    "segments": (_segment, "'<recording> <start> <end>' (seconds, start >= 0)"),
    "reco2speed": (_speed, f"a speed factor from {SPEED_RANGE[0]:g} to {SPEED_RANGE[1]:g}"),
    "utt2num_samples": (_samples, "a number of samples"),
}


def check_values(path, table, rule):
    """DataError naming the file and line of the first value that breaks the rule."""
    parse, expected = rule
    for key, value in table.items():
        try:
            parse(value)
        except ValueError:
            number = next(n for n, line in read_lines(path) if line.split()[:1] == [key])
            raise DataError(f"{path}:{number}: '{value}' is not {expected}") from None


class DataDir:
    """The tables of one data directory, kept in memory as dicts."""

    def __init__(
        self, wav_scp, text, utt2spk, segments=None, reco2speed=None, utt2num_samples=None
    ):
        self.wav_scp = wav_scp
        self.text = text
        self.utt2spk = utt2spk
        self.segments = segments
        self.reco2speed = reco2speed
        self.utt2num_samples = utt2num_samples

    @classmethod
    def read(cls, path):
        path = Path(path)
        for name in ("wav.scp", "text", "utt2spk"):
            if not (path / name).is_file():
                raise DataError(f"{path / name}: missing (not a data directory?)")
        optional = {
            name: read_table(path / name) for name in OPTIONAL_FILES if (path / name).is_file()
        }
        for name, table in optional.items():
            check_values(path / name, table, VALUE_RULES[name])
        data = cls(
            read_table(path / "wav.scp"),
            read_table(path / "text", allow_empty_value=True),
            read_table(path / "utt2spk"),
            **optional,
        )
        data.check(path)
        return data

    def utterances(self):
        return sorted(self.utt2spk)

    def recording_of(self, utt):
        return self.segments[utt].split()[0] if self.segments is not None else utt

    def check(self, where):
        """Every utterance needs text, a speaker and audio."""
        utts = set(self.utt2spk)
        if set(self.text) != utts:
            odd = sorted(set(self.text) ^ utts)[:5]
            raise DataError(f"{where}: text and utt2spk have different utterances, e.g. {odd}")
        audio_keys = set(self.segments) if self.segments is not None else set(self.wav_scp)
        if audio_keys != utts:
            odd = sorted(audio_keys ^ utts)[:5]
            name = "segments" if self.segments is not None else "wav.scp"
            raise DataError(f"{where}: {name} and utt2spk have different utterances, e.g. {odd}")
        if self.segments is not None:
            missing = sorted({v.split()[0] for v in self.segments.values()} - set(self.wav_scp))
            if missing:
                raise DataError(
                    f"{where}: segments name recordings not in wav.scp, e.g. {missing[:5]}"
                )

    def subset(self, utts):
        """A new DataDir with only `utts` (and the recordings they need)."""
        utts = set(utts)
        keep = lambda table: {k: v for k, v in table.items() if k in utts}
        segments = keep(self.segments) if self.segments is not None else None
        recordings = {self.recording_of(u) for u in utts} if segments is not None else utts
        pick = lambda table: (
            None if table is None else {k: v for k, v in table.items() if k in recordings}
        )
        return DataDir(
            pick(self.wav_scp),
            keep(self.text),
            keep(self.utt2spk),
            segments,
            pick(self.reco2speed),
            keep(self.utt2num_samples) if self.utt2num_samples is not None else None,
        )

    def write(self, path, tool, inputs=()):
        """Replace directory `path` with these tables (atomically), if it is absent,
        empty or an earlier output of `tool`, and not one of its `inputs`
        (fileio.atomic.atomic_dir)."""
        self.check(path)
        with atomic_dir(path, tool, inputs=inputs) as tmp:
            self.write_files(tmp)

    def write_files(self, path):
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        write_table(path / "wav.scp", self.wav_scp)
        write_table(path / "text", self.text)
        write_table(path / "utt2spk", self.utt2spk)
        write_table(path / "spk2utt", spk2utt_from(self.utt2spk))
        for name in OPTIONAL_FILES:
            table = getattr(self, name)
            if table is not None:
                write_table(path / name, table)
