#!/usr/bin/env python3
"""Regenerate the embedded mini Mandarin corpus (corpus/data_aishell) with espeak-ng.

The corpus has Aishell-1's layout, so the Aishell data preparation reads it
unchanged:

    corpus/data_aishell/
      transcript/aishell_transcript_v0.8.txt   <utt> <word> <word> ...
      wav/<SPK>.tar.gz                         <split>/<SPK>/<utt>.wav

Text: half-lines of the Tang and Song poems in Debian's fortunes-zh (public
domain), 4 to 8 characters, restricted to a well-covered character set. Every
distinct phrase goes to exactly one split, and dev/test phrases only use
characters seen in training.

Audio: espeak-ng's Mandarin voice (`cmn-latn-pinyin`) with voice variants,
pitches and speaking rates as speakers (with --jitter, a training speaker also varies
pitch and rate per utterance); train, dev and test speakers are disjoint. Silence
is trimmed and the audio resampled to 16 kHz. To keep the repository small the
.wav files are IMA ADPCM (4 bits per sample, about 25 dB SNR on this speech),
which libsndfile (soundfile) reads like any other WAV.

Needs: espeak-ng and fortunes-zh (Debian), numpy, soundfile, soxr. The output
is byte-for-byte reproducible for the same packages and arguments.
"""

import argparse
import collections
import concurrent.futures
import gzip
import io
import random
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import numpy as np
import soundfile
import soxr

POEM_FILES = ["/usr/share/games/fortunes/tang300", "/usr/share/games/fortunes/song100"]
SAMPLE_RATE = 16000
UTT_PREFIX = "MZH000"  # plays the role of Aishell's "BAC009"

# (speaker id, split, espeak-ng voice); pitch and rate are drawn per speaker.
SPEAKERS = [
    ("S0001", "train", "cmn-latn-pinyin"),
    ("S0002", "train", "cmn-latn-pinyin+m1"),
    ("S0003", "train", "cmn-latn-pinyin+m2"),
    ("S0004", "train", "cmn-latn-pinyin+m3"),
    ("S0005", "train", "cmn-latn-pinyin+m4"),
    ("S0006", "train", "cmn-latn-pinyin+m5"),
    ("S0007", "train", "cmn-latn-pinyin+f1"),
    ("S0008", "train", "cmn-latn-pinyin+f2"),
    ("S0009", "train", "cmn-latn-pinyin+f3"),
    ("S0010", "dev", "cmn-latn-pinyin+m6"),
    ("S0011", "dev", "cmn-latn-pinyin+f4"),
    ("S0012", "test", "cmn-latn-pinyin+m7"),
    ("S0013", "test", "cmn-latn-pinyin+f5"),
]
# More training speakers (S0014, ...): espeak-ng's other voice variants (formant
# and Klatt voices), without the whispered, robotic and held-out (m6, m7, f4, f5) ones.
# fmt: off
EXTRA_VARIANTS = [
    "Alex", "Alicia", "Andrea", "Andy", "Annie", "AnxiousAndy", "Denis", "Diogo", "Gene",
    "Gene2", "Henrique", "Hugo", "Jacky", "Lee", "Marco", "Mario", "Michael", "Mike", "Nguyen",
    "RicishayMax", "RicishayMax2", "RicishayMax3", "Storm", "Tweaky", "adam", "anika",
    "announcer", "antonio", "aunty", "belinda", "benjamin", "boris", "croak", "david", "ed",
    "edward", "edward2", "fast", "grandma", "grandpa", "gustave", "iven", "iven2", "iven3",
    "iven4", "john", "kaukovalta", "klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6",
    "linda", "m8", "marcelo", "max", "michel", "miguel", "norbert", "pablo", "paul", "pedro",
    "quincy", "rob", "robert", "sandro", "shelby", "steph", "steph2", "steph3", "travis",
    "victor", "zac",
]
# fmt: on


def speakers(extra):
    """SPEAKERS and `extra` more training speakers."""
    more = [
        (f"S{14 + i:04d}", "train", f"cmn-latn-pinyin+{variant}")
        for i, variant in enumerate(EXTRA_VARIANTS[:extra])
    ]
    return SPEAKERS + more


ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")
PHRASE_BREAK = re.compile(r"[，。？！；：、,.?!;:\s]+")
HAN = re.compile(r"^[\u4e00-\u9fff]+$")


def read_phrases(paths):
    """Poem half-lines (Han characters only), in file order."""
    phrases = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            line = ANSI_ESCAPE.sub("", line).strip()
            if not line or line == "%" or line.startswith(("《", "作者")):
                continue
            phrases.extend(p for p in PHRASE_BREAK.split(line) if HAN.match(p))
    return phrases


def prune_rare_characters(phrases, target):
    """Drop the rarest character (and its phrases) until `target` phrases remain.

    Poems use thousands of characters, most of them once; this keeps a small,
    well-covered character set, so a tiny model can learn each character.
    """
    phrases = sorted(set(phrases))
    while len(phrases) > target:
        counts = collections.Counter(c for p in phrases for c in set(p))
        rarest = min(counts, key=lambda c: (counts[c], c))
        phrases = [p for p in phrases if rarest not in p]
    return phrases


def choose_phrases(phrases, num_train, num_dev, num_test, min_count, rng):
    """Distinct phrases for train/dev/test.

    Dev and test phrases never occur in train (no LM leakage) and only use
    characters that occur at least `min_count` times in train.
    """
    candidates = [p for p in phrases if 4 <= len(p) <= 8]
    pool = prune_rare_characters(candidates, num_train + num_dev + num_test)
    rng.shuffle(pool)
    held_out, train = [], list(pool)
    for phrase in pool:
        if len(held_out) == num_dev + num_test:
            break
        rest = collections.Counter("".join(p for p in train if p != phrase))
        if all(rest[c] >= min_count for c in phrase):
            held_out.append(phrase)
            train.remove(phrase)
    if len(held_out) < num_dev + num_test:
        raise SystemExit(f"only {len(held_out)} held-out phrases; lower --min-count")
    return train[:num_train], held_out[:num_dev], held_out[num_dev:]


def segment_words(phrase, rng):
    """Space-separated 1-2 character 'words', like Aishell's segmented transcripts."""
    words, i = [], 0
    while i < len(phrase):
        n = 1 if len(phrase) - i == 1 else rng.choice([1, 2, 2])
        words.append(phrase[i : i + n])
        i += n
    return " ".join(words)


def synthesize(text, voice, pitch, rate):
    """espeak-ng speech at 16 kHz with leading/trailing silence trimmed (float32)."""
    wav = subprocess.run(
        ["espeak-ng", "-v", voice, "-p", str(pitch), "-s", str(rate), "--stdout", text],
        check=True,
        capture_output=True,
    ).stdout
    audio, rate_in = soundfile.read(io.BytesIO(wav), dtype="float32")
    voiced = np.flatnonzero(np.abs(audio) > 0.01)
    margin = int(0.05 * rate_in)
    audio = audio[max(voiced[0] - margin, 0) : voiced[-1] + margin]
    return soxr.resample(audio, rate_in, SAMPLE_RATE)


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    info.mtime = 0
    tar.addfile(info, io.BytesIO(data))


def write_speaker_archive(path, split, spk, utterances):
    """<SPK>.tar.gz holding <split>/<SPK>/<utt>.wav, reproducibly (fixed mtimes)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for utt, audio in utterances:
            wav = io.BytesIO()
            soundfile.write(wav, audio, SAMPLE_RATE, format="WAV", subtype="IMA_ADPCM")
            add_bytes(tar, f"{split}/{spk}/{utt}.wav", wav.getvalue())
    with open(path, "wb") as f, gzip.GzipFile(fileobj=f, mode="wb", mtime=0) as gz:
        gz.write(buffer.getvalue())


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="output folder; data_aishell/ is (re)created inside"
    )
    parser.add_argument("--num-train", type=int, default=600, help="training phrases")
    parser.add_argument("--num-dev", type=int, default=100)
    parser.add_argument("--num-test", type=int, default=100)
    parser.add_argument(
        "--speakers-per-phrase",
        type=int,
        default=2,
        help="training speakers saying each training phrase",
    )
    parser.add_argument(
        "--min-count",
        type=int,
        default=3,
        help="dev/test characters occur at least this often in train",
    )
    parser.add_argument(
        "--extra-speakers",
        type=int,
        default=0,
        help=f"training speakers beyond S0001-S0009 (at most {len(EXTRA_VARIANTS)})",
    )
    parser.add_argument(
        "--jitter",
        type=int,
        default=0,
        help="a training utterance's pitch varies by up to this, its rate by twice this",
    )
    parser.add_argument("--jobs", type=int, default=2, help="espeak-ng processes at once")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    splits = dict(
        zip(
            ["train", "dev", "test"],
            choose_phrases(
                read_phrases(POEM_FILES),
                args.num_train,
                args.num_dev,
                args.num_test,
                args.min_count,
                rng,
            ),
        )
    )

    root = args.out / "data_aishell"
    tmp = args.out / "data_aishell.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "wav").mkdir(parents=True)
    (tmp / "transcript").mkdir()

    transcript, jobs = [], []
    for split, phrases in splits.items():
        mine_speakers = [s for s in speakers(args.extra_speakers) if s[1] == split]
        # every training phrase is spoken by several speakers, held-out ones once
        repeat = args.speakers_per_phrase if split == "train" else 1
        spoken = [p for p in phrases for _ in range(repeat)]
        for index, (spk, _, voice) in enumerate(mine_speakers):
            pitch, rate = rng.randint(30, 75), rng.randint(160, 220)
            # a training speaker varies pitch and rate from one utterance to the next
            jitter = args.jitter if split == "train" else 0
            utterances = []
            for number, phrase in enumerate(spoken[index :: len(mine_speakers)], start=1):
                utt = f"{UTT_PREFIX}{spk}W{number:04d}"
                shift = [rng.randint(-jitter, jitter) for _ in range(2)] if jitter else [0, 0]
                utterances.append((utt, phrase, pitch + shift[0], rate + 2 * shift[1]))
                transcript.append(f"{utt} {segment_words(phrase, rng)}")
            jobs.append((split, spk, voice, pitch, rate, utterances))

    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        for split, spk, voice, pitch, rate, utterances in jobs:
            audio = pool.map(lambda u, v=voice: synthesize(u[1], v, u[2], u[3]), utterances)
            named = [(u[0], a) for u, a in zip(utterances, audio)]
            write_speaker_archive(tmp / "wav" / f"{spk}.tar.gz", split, spk, named)
            seconds = sum(len(a) for _, a in named) / SAMPLE_RATE
            print(
                f"{split} {spk} {voice} pitch={pitch} rate={rate}: "
                f"{len(named)} utterances, {seconds / 60:.1f} min"
            )

    (tmp / "transcript" / "aishell_transcript_v0.8.txt").write_text(
        "\n".join(sorted(transcript)) + "\n", encoding="utf-8"
    )
    shutil.rmtree(root, ignore_errors=True)
    tmp.rename(root)
    print(f"wrote {root}")


if __name__ == "__main__":
    main()
