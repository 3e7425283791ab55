"""Benchmark: the transcription API (zh_ssl_asr.Transcriber) against ESPnet's
Speech2Text one file at a time, in one run.

    python bench/transcribe.py [--model PACK] [--batch_size 16] [--threads 1]
                               [--long_minutes 10] [--random_model]

Model: --model (a packed model, archive or folder), else the mini recipe's pack
(egs2/mini_zh/asr1/exp/asr_train_asr_fbank_sp/packed/*.zip, after `bash run.sh`),
else random models of the same shape (bench/decode.py's), packed here. Data: the
mini test set's 100 utterances as WAV files, and a recording of --long_minutes made
by joining test utterances (in turn, again when all are used) with pauses of
0.5 to 2 s (seeded), all in a temporary folder. CPU, --threads torch threads for
both; model loading is not timed.

- espnet: for each short file, read it (soundfile) and call Speech2Text (the
  packed decode config; encoder, then ESPnet's beam search), as a user of ESPnet's
  API transcribes files;
- ours: Transcriber.transcribe(files, batch_size): reading, silero-vad, the batched
  beam search, CTC forced alignment of every token.
Prints both times and hypothesis agreement on the short files (goal: all equal);
for the long recording our time, real-time factor, peak resident memory (the
process's high-water mark during that call, model and Python included) and the
segments found against the joined utterances (count, largest boundary error);
last line `ratio=<our time / espnet time>` on the short files (goal <= 0.5).
"""

import argparse
import contextlib
import logging
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import soundfile
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]
MINI = ROOT / "egs2/mini_zh/asr1"
RATE = 16000


def mini_pack():
    found = sorted((MINI / "exp/asr_train_asr_fbank_sp/packed").glob("*.zip"))
    return found[0] if found else None


def random_pack(workdir):
    """A pack of random models of the mini shape (ASR + LM, mini decode config)."""
    from espnet2.main_funcs.pack_funcs import pack

    from decode import random_model

    transcript = MINI / "corpus/data_aishell/transcript/aishell_transcript_v0.8.txt"
    texts = [line.split(" ", 1)[1].replace(" ", "") for line in transcript.read_text().splitlines()]
    files = random_model(workdir, texts)
    decode = workdir / "decode_asr.yaml"
    decode.write_text((MINI / "conf/decode_asr.yaml").read_text())
    with contextlib.redirect_stdout(sys.stderr):  # pack prints what it adds
        pack(
            files={k: v for k, v in files.items() if not k.endswith("_config")},
            yaml_files={k: v for k, v in files.items() if k.endswith("_config")},
            outpath=workdir / "random.zip",
            option=[workdir / "tokens.txt", workdir / "feats_stats.npz", decode],
        )
    return workdir / "random.zip"


def long_recording(audio, seconds, seed=0):
    """Test utterances joined with pauses of 0.5-2 s: (samples, [(start, end)] s)."""
    rng = np.random.default_rng(seed)
    parts, truth, t, i = [], [], 0.0, 0
    while t < seconds:
        pause = np.zeros(int(RATE * rng.uniform(0.5, 2.0)), dtype=np.float32)
        samples = audio[i % len(audio)][1]
        parts += [pause, samples]
        t += len(pause) / RATE
        truth.append((t, t + len(samples) / RATE))
        t += len(samples) / RATE
        i += 1
    parts.append(np.zeros(RATE, dtype=np.float32))
    return np.concatenate(parts), truth


def peak_rss_reset():
    """Reset the process's resident-memory high-water mark (Linux)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", help="packed model (default: the mini recipe's, else random)")
    parser.add_argument("--random_model", action="store_true", help="even if a trained one exists")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch threads, for both")
    parser.add_argument("--long_minutes", type=float, default=10.0)
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    torch.set_num_threads(args.threads)

    import local.runtime.espnet_bin  # noqa: F401  (first: our frontend, deferred g2p_en)

    # isort: split
    from decode import test_set
    from zh_ssl_asr import Transcriber, load_packed

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = args.model or (None if args.random_model else mini_pack())
        kind = f"packed model {model}"
        if model is None:
            model, kind = random_pack(tmp), "random models of the mini shape (no trained pack)"
        audio, _ = test_set(tmp)
        files = []
        for key, samples in audio:
            files.append(tmp / f"{key}.wav")
            soundfile.write(files[-1], samples, RATE)
        long_samples, truth = long_recording(audio, args.long_minutes * 60)
        long_file = tmp / "long.wav"
        soundfile.write(long_file, long_samples, RATE)

        speech2text = load_packed(model)
        transcriber = Transcriber(speech2text)  # the same model object
        options = {k: getattr(speech2text, k, None) for k in ("maxlenratio", "minlenratio")}
        options.update(
            beam=speech2text.beam_search.beam_size, weights=dict(speech2text.beam_search.weights)
        )
        seconds = sum(len(s) for _, s in audio) / RATE
        print(f"{kind}; {len(files)} files ({seconds:.0f} s), {options}, {args.threads} thread(s)")

        def espnet(path):
            samples, rate = soundfile.read(path, dtype="float32")
            assert rate == RATE
            results = speech2text(samples)
            return results[0][0] if results else ""

        espnet(files[0]), transcriber.transcribe(files[:2])  # warm-up, not timed
        started = time.perf_counter()
        theirs = [espnet(path) for path in files]
        espnet_seconds = time.perf_counter() - started
        started = time.perf_counter()
        ours = transcriber.transcribe(files, batch_size=args.batch_size)
        our_seconds = time.perf_counter() - started
        equal = sum(r.text == t for r, t in zip(ours, theirs))
        print(f"espnet Speech2Text, one file at a time: {espnet_seconds:.2f} s")
        print(f"ours (batch {args.batch_size}, VAD and alignment included): {our_seconds:.2f} s")
        print(f"equal hypotheses: {equal}/{len(files)}")
        for r, t in zip(ours, theirs):
            if r.text != t:
                print(f"  differs: {Path(r.source).stem}: ours {r.text!r} espnet {t!r}")

        before = peak_rss_mb()
        reset = peak_rss_reset()
        started = time.perf_counter()
        (result,) = transcriber.transcribe([long_file], batch_size=args.batch_size)
        long_seconds = time.perf_counter() - started
        peak = peak_rss_mb()
        duration = len(long_samples) / RATE
        errors = [
            max(abs(s.start - a), abs(s.end - b)) for s, (a, b) in zip(result.segments, truth)
        ]
        print(
            f"long recording {duration:.0f} s: {long_seconds:.2f} s, real-time factor "
            f"{long_seconds / duration:.4f}; peak RSS "
            + (f"{peak:.0f} MB (before the call {before:.0f} MB)" if reset else "not measured")
        )
        print(
            f"  {len(result.segments)} segments for {len(truth)} joined utterances, largest "
            f"boundary error {max(errors):.3f} s, {len(result.tokens)} tokens, "
            f"{sum(t.start is None for t in result.tokens)} without times"
        )
    print(f"ratio={our_seconds / espnet_seconds:.3f}")
    return 0 if equal == len(files) else 1


if __name__ == "__main__":
    sys.exit(main())
