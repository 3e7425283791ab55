"""Build small corpora in Aishell-1's layout for the tests."""

import io
import tarfile
from pathlib import Path

import numpy as np
import soundfile

TRANSCRIPT = Path("data_aishell/transcript/aishell_transcript_v0.8.txt")


def tone(seconds=0.5, rate=16000, freq=440.0):
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def wav_bytes(samples, rate=16000, subtype="PCM_16"):
    buffer = io.BytesIO()
    soundfile.write(buffer, samples, rate, format="WAV", subtype=subtype)
    return buffer.getvalue()


class AishellCorpus:
    """<root>/data_aishell with wav/<split>/<SPK>/<utt>.wav (or <SPK>.tar.gz) and a transcript."""

    def __init__(self, root):
        self.root = Path(root)
        self.wav = self.root / "data_aishell" / "wav"
        self.wav.mkdir(parents=True, exist_ok=True)
        self.lines = []
        self.archives = {}

    def add(self, split, spk, utt, text, audio=None, packed=False):
        """Add one utterance; `audio` is bytes (default: a tone), `text` None = no line."""
        data = audio if audio is not None else wav_bytes(tone())
        if packed:
            self.archives.setdefault(spk, []).append((f"{split}/{spk}/{utt}.wav", data))
        else:
            path = self.wav / split / spk / f"{utt}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        if text is not None:
            self.transcript_line(f"{utt} {text}")

    def transcript_line(self, line):
        self.lines.append(line)

    def write(self, transcript=True):
        for spk, members in self.archives.items():
            with tarfile.open(self.wav / f"{spk}.tar.gz", "w:gz") as tar:
                for name, data in members:
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        if transcript:
            path = self.root / TRANSCRIPT
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("".join(f"{line}\n" for line in self.lines), encoding="utf-8")
        return self.root
