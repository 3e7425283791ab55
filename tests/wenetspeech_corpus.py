"""Build a small corpus in WenetSpeech's distributed format for the tests: long
Ogg/Opus recordings written with soundfile (made of mini-corpus utterances) and a
WenetSpeech.json with every field, bad cases included."""

import json
import tarfile
from pathlib import Path

import numpy as np
import soundfile

from recipe import MINI_CORPUS

RATE = 16000


def mini_utterances(speakers=("S0001", "S0002", "S0010", "S0012")):
    """{speaker: [(text, samples)]} from the embedded mini corpus."""
    texts = dict(
        line.split(" ", 1)
        for line in (MINI_CORPUS / "transcript/aishell_transcript_v0.8.txt")
        .read_text("utf-8")
        .splitlines()
    )
    found = {}
    for spk in speakers:
        with tarfile.open(MINI_CORPUS / f"wav/{spk}.tar.gz") as tar:
            members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
            found[spk] = []
            for member in members:
                samples, rate = soundfile.read(tar.extractfile(member), dtype="float32")
                assert rate == RATE
                found[spk].append((texts[member.name.split("/")[-1][:-4]], samples))
    return found


def recording(utterances, gap=0.4):
    """One long signal and the (begin, end) of each utterance in it; utterances start
    on the 10 ms grid of the JSON times, so the times are exact."""
    pieces, times, position = [], [], 0
    for _, samples in utterances:
        silence = int(gap * RATE) + (-(position + int(gap * RATE))) % 160
        pieces += [np.zeros(silence, dtype=np.float32), samples]
        position += silence
        times.append((position / RATE, round((position + len(samples)) / RATE, 2)))
        position += len(samples)
    pieces.append(np.zeros(int(gap * RATE), dtype=np.float32))
    return np.concatenate(pieces), times


class WenetSpeechCorpus:
    """root/WenetSpeech.json + root/audio/<split>/<source>/B00000/<aid>.opus"""

    def __init__(self, root):
        self.root = Path(root)
        self.audios = []

    def add_audio(self, aid, split, utterances, subsets, write=True, texts=None, source="youtube"):
        """A recording of `utterances` whose segments carry `subsets` (one list per segment
        or one for all); returns the audio entry for further editing."""
        samples, times = recording(utterances)
        rel = f"audio/{split}/{source}/B00000/{aid}.opus"
        if write:
            path = self.root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(path, samples, RATE, format="OGG", subtype="OPUS")
        entry = {
            "aid": aid,
            "duration": round(len(samples) / RATE, 2),
            "md5": "0" * 32,
            "path": rel,
            "source": source,
            "tags": ["drama"],
            "url": f"https://example.invalid/{aid}",
            "segments": [],
        }
        for i, ((text, _), (begin, end)) in enumerate(zip(utterances, times)):
            tags = subsets[i] if subsets and isinstance(subsets[0], list) else subsets
            entry["segments"].append(
                {
                    "sid": f"{aid}_S{i:05d}",
                    "confidence": 1.0,
                    "begin_time": begin,
                    "end_time": end,
                    "subsets": list(tags),
                    "text": texts[i] if texts else text,
                }
            )
        self.audios.append(entry)
        return entry

    def write(self):
        (self.root / "audio").mkdir(parents=True, exist_ok=True)
        document = {
            "dataset": "WenetSpeech",
            "language": "Chinese",
            "version": "v1.0",
            "audios": self.audios,
        }
        (self.root / "WenetSpeech.json").write_text(
            json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        return self.root
