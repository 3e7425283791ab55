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
import re
import shutil
import sys
import tarfile
import tempfile
import zlib
from pathlib import Path

import soundfile

from fileio.atomic import OutputError, check_output_dir, terminate_cleanly, write_text
from fileio.kaldi_table import DataError, read_lines
from local.data.datadir import DataDir
from local.data.text_norm import normalize_mandarin

SPLITS = ("train", "dev", "test")
TRANSCRIPT = Path("transcript") / "aishell_transcript_v0.8.txt"
EXPECTED_TOTAL = 141925  # utterances in Aishell-1 v0.8 with audio and text
TOOL = "prepare_aishell.py"  # the marker of the folders it writes (fileio.atomic)


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
    """Unpack wav/<SPK>.tar.gz once each; a marker records every finished archive.

    An archive is unpacked into a hidden temporary folder, and its files are moved
    into place only when the whole archive could be read; a corrupt archive leaves
    nothing behind. Returns {archive name: reason} of the archives that failed."""
    unpacked, failed = 0, {}
    for stale in wav_dir.glob(".*.tar.gz.*"):  # left by a run that was killed (kill -9)
        if stale.is_dir() and re.fullmatch(r"\.[^/]+\.tar\.gz\.[a-z0-9_]{8}", stale.name):
            shutil.rmtree(stale, ignore_errors=True)
    for archive in sorted(wav_dir.glob("*.tar.gz")):
        marker = wav_dir / f".{archive.name}.unpacked"
        if marker.exists():
            continue
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".{archive.name}.", dir=wav_dir))
        except OSError as e:
            raise DataError(
                f"{wav_dir}: cannot unpack the speaker archives here ({e.strerror}); "
                "unpack data_aishell.tgz where you can write, or unpack wav/*.tar.gz by hand"
            ) from None
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
            # Move finished files into place; audio unpacked earlier by hand is kept.
            for src in sorted(p for p in tmp.rglob("*") if p.is_file()):
                dst = wav_dir / src.relative_to(tmp)
                dst.parent.mkdir(parents=True, exist_ok=True)
                if not dst.exists():
                    os.replace(src, dst)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
            failed[archive.name] = f"{type(e).__name__}: {e}"
            log(
                f"WARNING: {archive}: cannot unpack ({failed[archive.name]}); "
                "its utterances are dropped"
            )
            continue
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        marker.touch()
        unpacked += 1
    if unpacked:
        log(f"unpacked {unpacked} speaker archives in {wav_dir}")
    return failed


def read_transcript(path, drops):
    """utt -> normalized text (Kaldi text conventions: fileio.kaldi_table.read_lines);
    a bad encoding is an error naming the line. An id given twice with the same text
    is kept once; with different texts it is a conflict, dropped."""
    texts, conflicts = {}, set()
    for number, line in read_lines(path):
        fields = line.split(maxsplit=1)
        if not fields:
            continue
        utt, text = fields[0], normalize_mandarin(fields[1] if len(fields) > 1 else "")
        if utt in texts:
            where = f"{utt} ({path.name}:{number})"
            if texts[utt] == text:
                drops["duplicate transcript line"].append(where)
            else:
                drops["conflicting transcripts"].append(f"{where}: '{texts[utt]}' or '{text}'")
                conflicts.add(utt)
            continue
        texts[utt] = text
    return {utt: text for utt, text in texts.items() if utt not in conflicts}, conflicts


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
        return "no samples"
    if info.samplerate != 16000:
        stats[f"audio at {info.samplerate} Hz (the dump stage resamples it)"] += 1
    if info.channels != 1:
        stats[f"audio with {info.channels} channels (the dump stage keeps the first)"] += 1
    return None


def prepare(corpus_root, out_dir, expected_total=EXPECTED_TOTAL, log=print):
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise DataError(f"{out_dir}: not a folder (the output folder, e.g. data)")
    corpus = find_corpus(corpus_root)
    wav_dir = corpus / "wav"
    failed_archives = unpack_archives(wav_dir, log)

    drops = collections.defaultdict(list)
    notes = collections.Counter()
    texts, conflicts = read_transcript(corpus / TRANSCRIPT, drops)
    audio = find_audio(wav_dir, drops)

    kept = collections.defaultdict(dict)
    for utt, (split, spk, path) in sorted(audio.items()):
        if utt not in texts:
            if utt not in conflicts:  # (counted once, as a conflict)
                drops["audio without transcript"].append(str(path))
        elif not texts[utt]:
            drops["empty text"].append(utt)
        else:
            problem = audio_problem(path, notes)
            if problem:
                drops["unreadable audio"].append(f"{path}: {problem}")
            else:
                kept[split][utt] = (spk, str(path), texts[utt])
    for utt in sorted(set(texts) - set(audio)):
        archive = next((a for a in failed_archives if a.removesuffix(".tar.gz") in utt), None)
        if archive:
            drops["unreadable audio"].append(f"{utt}: in {archive} ({failed_archives[archive]})")
        else:
            drops["transcript without audio"].append(utt)

    for split in SPLITS:  # all sets or none
        if not kept[split]:
            raise DataError(f"{wav_dir / split}: no usable utterances")
        check_output_dir(Path(out_dir) / split, TOOL)
    for split in SPLITS:
        utts = kept[split]
        DataDir(
            wav_scp={u: p for u, (_, p, _) in utts.items()},
            text={u: t for u, (_, _, t) in utts.items()},
            utt2spk={u: s for u, (s, _, _) in utts.items()},
        ).write(Path(out_dir) / split, TOOL)
        log(f"{split}: {len(utts)} utterances, {len({s for s, _, _ in utts.values()})} speakers")

    report = [f"{reason}: {len(items)}" for reason, items in sorted(drops.items())]
    report += [f"{note}: {count}" for note, count in sorted(notes.items())]
    total = sum(len(v) for v in kept.values())
    lost = sum(len(v) for reason, v in drops.items() if reason != "duplicate transcript line")
    log(f"kept {total} utterances; dropped {lost}")
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
    terminate_cleanly()  # a job runner's SIGTERM removes temporary outputs too
    try:
        prepare(args.corpus, args.out_dir, args.expected_total)
    except (DataError, OutputError) as e:
        sys.exit(f"prepare_aishell.py: error: {e}")


if __name__ == "__main__":
    main()
