"""Benchmark: cutting a long opus recording into utterances, three ways, in one run.

    python bench/opus_cut.py [--minutes 30] [--segments 600]

A --minutes long 16 kHz Ogg/Opus recording (speech from the mini corpus, written
with soundfile) with --segments segments:
- peer: what ESPnet's WenetSpeech recipe does (pydub + ffmpeg): decode the
  recording once, export every segment as a 16 kHz WAV file (32-bit samples, as
  pydub decodes opus);
- dump: our audio dump (local.data.dump_audio plan/run/finish, one job): decode once,
  write every segment as FLAC;
- no dump: our reader (local.data.segments_reader) reading every segment by seeking.
Prints time and disk for each; last line `ratio=<peer time / our dump time>
disk_ratio=<our dump bytes / peer bytes> nodump_ratio=<our no-dump read time /
our dump time>` (goals >= 0.9, <= 0.4, <= 1.2).

pydub and ffmpeg are benchmark-only dependencies:
    apt-get install ffmpeg && .venv/bin/python -m pip install pydub
"""

import argparse
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MINI = ROOT / "egs2/mini_zh/asr1/corpus/data_aishell/wav"
RATE = 16000


def speech(seconds):
    """About `seconds` of speech: mini-corpus utterances with pauses, repeated."""
    pieces, total = [], 0
    pause = np.zeros(RATE // 4, dtype=np.float32)
    while total < seconds * RATE:
        for archive in sorted(MINI.glob("S00*.tar.gz")):
            with tarfile.open(archive) as tar:
                for member in (m for m in tar.getmembers() if m.isfile()):
                    samples, _ = soundfile.read(tar.extractfile(member), dtype="float32")
                    pieces += [samples, pause]
                    total += len(samples) + len(pause)
                    if total >= seconds * RATE:
                        return np.concatenate(pieces)[: int(seconds * RATE)]
    return np.concatenate(pieces)[: int(seconds * RATE)]


def segment_times(seconds, n, rng):
    """n non-overlapping (begin, end) pairs over the recording, 10 ms resolution."""
    bounds = np.sort(rng.choice(np.arange(1, int(seconds * 100) - 1), size=2 * n, replace=False))
    return [(bounds[2 * i] / 100, bounds[2 * i + 1] / 100) for i in range(n)]


def folder_bytes(folder, suffix):
    return sum(p.stat().st_size for p in Path(folder).rglob(f"*{suffix}"))


def peer(opus, times, out):
    from pydub import AudioSegment

    out.mkdir()
    start = time.perf_counter()
    # as ESPnet's egs2/wenetspeech/asr1/local/process_opus.py: ffmpeg decodes the whole
    # recording (48 kHz, 32-bit samples from opus), each segment is resampled to 16 kHz
    # and exported as it is (so 32-bit WAV)
    audio = AudioSegment.from_file(opus)
    for i, (begin, end) in enumerate(times):
        piece = audio[int(begin * 1000) : int(end * 1000)].set_frame_rate(RATE)
        piece.export(out / f"utt{i:05d}.wav", format="wav")
    return time.perf_counter() - start, folder_bytes(out, ".wav")


def ours_dump(opus, times, work):
    from local.data import dump_audio
    from local.data.datadir import DataDir

    utts = [f"utt{i:05d}" for i in range(len(times))]
    DataDir(
        wav_scp={"rec": str(opus)},
        text={u: "文字" for u in utts},
        utt2spk={u: u for u in utts},
        segments={u: f"rec {b:.2f} {e:.2f}" for u, (b, e) in zip(utts, times)},
    ).write(work / "data", "bench")
    start = time.perf_counter()
    dump_audio.plan(work / "data", work / "dump", 1, "flac")
    dump_audio.run_job(work / "dump", 1)
    dump_audio.finish(work / "dump", dump_audio.LengthFilter(False, 0, 0))
    return time.perf_counter() - start, folder_bytes(work / "dump", ".flac")


def ours_nodump(work):
    from local.data.segments_reader import SegmentsReader

    start = time.perf_counter()
    reader = SegmentsReader(work / "data/segments")
    samples = sum(len(reader[utt][1]) for utt in reader)
    return time.perf_counter() - start, samples


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--segments", type=int, default=600)
    args = parser.parse_args()
    try:
        import pydub  # noqa: F401
    except ImportError:
        sys.exit("pydub is needed for the peer approach: .venv/bin/python -m pip install pydub")
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg is needed for the peer approach: apt-get install ffmpeg")

    rng = np.random.default_rng(0)
    seconds = args.minutes * 60
    times = segment_times(seconds, args.segments, rng)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        opus = work / "recording.opus"
        start = time.perf_counter()
        soundfile.write(opus, speech(seconds), RATE, format="OGG", subtype="OPUS")
        cut = sum(e - b for b, e in times)
        print(
            f"{opus.name}: {args.minutes:.0f} min, {opus.stat().st_size / 1e6:.1f} MB, "
            f"{args.segments} segments ({cut / 60:.1f} min) "
            f"(written in {time.perf_counter() - start:.0f} s)"
        )
        peer_time, peer_bytes = peer(opus, times, work / "peer")
        print(
            f"peer (pydub + ffmpeg, wav): {peer_time:.1f} s, {peer_bytes / 1e6:.1f} MB "
            f"({peer_bytes / (cut * RATE):.0f} bytes per sample)"
        )
        dump_time, dump_bytes = ours_dump(opus, times, work)
        print(f"ours, dump (flac):          {dump_time:.1f} s, {dump_bytes / 1e6:.1f} MB")
        nodump_time, samples = ours_nodump(work)
        print(
            f"ours, no dump (seek reads): {nodump_time:.1f} s, 0 MB "
            f"({samples / RATE / nodump_time:.0f} s of audio per second)"
        )
    print(
        f"ratio={peer_time / dump_time:.3f} disk_ratio={dump_bytes / peer_bytes:.3f} "
        f"nodump_ratio={nodump_time / dump_time:.3f}"
    )


if __name__ == "__main__":
    main()
