#!/usr/bin/env python3
"""Prepare Aishell-1 as distributed into data/{train,dev,test}.

Expects the folder that holds data_aishell/ (as unpacked from data_aishell.tgz):

    data_aishell/
      transcript/aishell_transcript_v0.8.txt    <utt> <word> <word> ...
      wav/<SPK>.tar.gz                           <split>/<SPK>/<utt>.wav (unpacked once)
      wav/{train,dev,test}/<SPK>/<utt>.wav

Keeps the utterances that have both audio and a non-empty transcript, normalizes
the transcripts as every recipe does (local.data.text_norm: the spaces between
words go), and writes sorted wav.scp, text, utt2spk and spk2utt. Every utterance
left out is counted by reason and listed in data/local/aishell/dropped.txt.
"""

import argparse
import collections
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

import soundfile

from fileio.atomic import write_text
from fileio.kaldi_table import DataError
from local.data.datadir import DataDir
from local.data.text_norm import normalize_mandarin

SPLITS = ("train", "dev", "test")
TRANSCRIPT = Path("transcript") / "aishell_transcript_v0.8.txt"
EXPECTED_TOTAL = 141925  # utterances in Aishell-1 v0.8 with audio and text


def find_corpus(root):
    """`root` holds data_aishell/ (or is it); say clearly what is missing."""
    root = Path(root)
    for candidate in (root / "data_aishell", root):
        if (candidate / "wav").is_dir() and (candidate / TRANSCRIPT).is_file():
            return candidate
    corpus = root / "data_aishell"
    if not corpus.is_dir():
        raise DataError(
            f"{corpus}: not found. Set AISHELL (db.sh or the environment) to the "
            "folder holding data_aishell/ (unpacked data_aishell.tgz from "
            "https://www.openslr.org/33/)"
        )
    for needed in (corpus / "wav", corpus / TRANSCRIPT):
        if not needed.exists():
            raise DataError(f"{needed}: not found (incomplete copy of data_aishell?)")
    raise DataError(f"{corpus}: unexpected layout")


def unpack_archives(wav_dir, log):
    """Unpack wav/<SPK>.tar.gz once each; a marker records every finished archive."""
    unpacked = 0
    for archive in sorted(wav_dir.glob("*.tar.gz")):
        marker = wav_dir / f".{archive.name}.unpacked"
        if marker.exists():
            continue
        tmp = Path(tempfile.mkdtemp(prefix=f".{archive.name}.", dir=wav_dir))
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, OSError, EOFError) as e:
            raise DataError(f"{archive}: cannot unpack: {e}") from e
        # Move finished files into place; audio unpacked earlier by hand is kept.
        for src in sorted(p for p in tmp.rglob("*") if p.is_file()):
            dst = wav_dir / src.relative_to(tmp)
            dst.parent.mkdir(parents=True, exist_ok=True)
            if not dst.exists():
                os.replace(src, dst)
        shutil.rmtree(tmp, ignore_errors=True)
        marker.touch()
        unpacked += 1
    if unpacked:
        log(f"unpacked {unpacked} speaker archives in {wav_dir}")


def read_transcript(path, drops):
    """utt -> normalized text; a bad encoding is an error naming the line."""
    texts = {}
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8").lstrip("\ufeff").strip()
            except UnicodeDecodeError as e:
                raise DataError(f"{path}:{number}: not UTF-8 ({e})") from e
            if not line:
                continue
            utt, _, words = line.partition(" ")
            utt = utt.strip()
            if utt in texts:
                drops["duplicate transcript line"].append(f"{utt} ({path.name}:{number})")
                continue
            texts[utt] = normalize_mandarin(words)
    return texts


def find_audio(wav_dir, drops):
    """utt -> (split, speaker, path) for wav/<split>/<SPK>/<utt>.wav."""
    audio = {}
    for split in SPLITS:
        for path in sorted((wav_dir / split).rglob("*.wav")):
            rel = path.relative_to(wav_dir / split)
            if len(rel.parts) != 2:
                drops["audio outside <split>/<SPK>/"].append(str(path))
                continue
            utt = path.stem
            if utt in audio:
                drops["duplicate audio file"].append(str(path))
                continue
            audio[utt] = (split, rel.parts[0], path.resolve())
    return audio


def audio_problem(path, stats):
    """A reason to drop this file, or None. Counts rates other than 16 kHz."""
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as e:
        return f"corrupt audio ({str(e).splitlines()[0]})"
    if info.frames == 0:
        return "corrupt audio (no samples)"
    if info.samplerate != 16000:
        stats[f"audio at {info.samplerate} Hz (the dump stage resamples it)"] += 1
    if info.channels != 1:
        stats[f"audio with {info.channels} channels (the dump stage keeps the first)"] += 1
    return None


def prepare(corpus_root, out_dir, expected_total=EXPECTED_TOTAL, log=print):
    corpus = find_corpus(corpus_root)
    wav_dir = corpus / "wav"
    unpack_archives(wav_dir, log)

    drops = collections.defaultdict(list)
    notes = collections.Counter()
    texts = read_transcript(corpus / TRANSCRIPT, drops)
    audio = find_audio(wav_dir, drops)

    kept = collections.defaultdict(dict)
    for utt, (split, spk, path) in sorted(audio.items()):
        if utt not in texts:
            drops["audio without transcript"].append(str(path))
        elif not texts[utt]:
            drops["empty text"].append(utt)
        else:
            problem = audio_problem(path, notes)
            if problem:
                drops[problem.split(" (")[0]].append(f"{path}: {problem}")
            else:
                kept[split][utt] = (spk, str(path), texts[utt])
    for utt in sorted(set(texts) - set(audio)):
        drops["transcript without audio"].append(utt)

    for split in SPLITS:
        utts = kept[split]
        if not utts:
            raise DataError(f"{wav_dir / split}: no usable utterances")
        DataDir(
            wav_scp={u: p for u, (_, p, _) in utts.items()},
            text={u: t for u, (_, _, t) in utts.items()},
            utt2spk={u: s for u, (s, _, _) in utts.items()},
        ).write(Path(out_dir) / split)
        log(f"{split}: {len(utts)} utterances, {len({s for s, _, _ in utts.values()})} speakers")

    report = [f"{reason}: {len(items)}" for reason, items in sorted(drops.items())]
    report += [f"{note}: {count}" for note, count in sorted(notes.items())]
    total = sum(len(v) for v in kept.values())
    log(f"kept {total} utterances; dropped {sum(len(v) for v in drops.values())}")
    for line in report:
        log(f"  {line}")
    if expected_total and total != expected_total:
        log(
            f"WARNING: {total} utterances kept, Aishell-1 has {expected_total}: "
            "is the corpus complete?"
        )
    listing = "".join(
        f"{reason}\t{item}\n" for reason, items in sorted(drops.items()) for item in items
    )
    write_text(Path(out_dir) / "local" / "aishell" / "dropped.txt", listing)
    return {split: len(kept[split]) for split in SPLITS}, drops


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", help="folder holding data_aishell/ ($AISHELL)")
    parser.add_argument("out_dir", nargs="?", default="data")
    parser.add_argument(
        "--expected-total",
        type=int,
        default=EXPECTED_TOTAL,
        help="warn when the number of kept utterances differs (0: never)",
    )
    args = parser.parse_args()
    try:
        prepare(args.corpus, args.out_dir, args.expected_total)
    except DataError as e:
        sys.exit(f"prepare_aishell.py: error: {e}")


if __name__ == "__main__":
    main()
