"""Transcribe audio files with a packed model (stage 10's exp/asr_<tag>/packed/*.zip).

    python -m local.decode.transcribe MODEL.zip AUDIO [AUDIO ...] [--config decode.yaml]
                               [--max_seconds 20] [--device cpu|cuda]

Prints one line per file, `<file> <transcript>`, in the order given. Any format
libsndfile reads (wav, flac, ogg/opus, ...), any sample rate (resampled to 16 kHz),
the first channel of multi-channel audio. Files longer than --max_seconds are
split into pieces of at most that length, each cut at the quietest 10 ms within
the last 2 s of the piece so that words are rarely cut; the pieces are searched
together (local.decode.batch_beam_search) and their transcripts joined. A file
that cannot be read or decoded is reported on stderr with the reason; the others
are still transcribed, and the exit status is 1 when any file failed.

Decoding options come from the decode config packed with the model (stage 10
packs --inference_config), or from --config. The model archive is unpacked once
into <MODEL>.unpacked/ beside it (again when the archive changes).
"""

import argparse
import contextlib
import itertools
import sys
from pathlib import Path

import numpy as np
import yaml

from fileio.audio import SAMPLE_RATE, AudioError, read_audio, resample

FRAME = SAMPLE_RATE // 100  # 10 ms
SEARCH = 2 * SAMPLE_RATE  # where to look for a quiet cut point, before the limit


def split_points(samples, max_samples):
    """Cut positions so that every piece is at most max_samples long."""
    cuts, start = [], 0
    while len(samples) - start > max_samples:
        window = samples[start + max_samples - SEARCH : start + max_samples]
        frames = len(window) // FRAME
        energy = np.square(window[: frames * FRAME]).reshape(frames, FRAME).sum(axis=1)
        cut = start + max_samples - SEARCH + int(np.argmin(energy)) * FRAME + FRAME // 2
        cuts.append(cut)
        start = cut
    return cuts


def pieces(samples, max_seconds):
    bounds = [0] + split_points(samples, int(max_seconds * SAMPLE_RATE)) + [len(samples)]
    return [samples[a:b] for a, b in itertools.pairwise(bounds)]


def unpack(model_zip):
    """The Speech2Text arguments of a packed model (its files unpacked once)."""
    from espnet_model_zoo.downloader import ModelDownloader

    model_zip = Path(model_zip).resolve()
    if not model_zip.is_file():
        raise FileNotFoundError(f"{model_zip}: no such model archive")
    stat = model_zip.stat()  # a repacked model gets a fresh folder
    cache = model_zip.parent / f"{model_zip.name}.unpacked" / f"{stat.st_mtime_ns}-{stat.st_size}"
    return ModelDownloader(cache).unpack_local_file(str(model_zip)), cache


def decode_options(cache, config):
    """The packed decode config (conf/decode*.yaml) unless --config names one."""
    if config is None:
        found = sorted(cache.rglob("decode*.yaml"))
        if not found:
            return {}
        config = found[0]
    options = yaml.safe_load(Path(config).read_text(encoding="utf-8")) or {}
    return {k: v for k, v in options.items() if k not in ("batch_size", "ngpu")}


def load_model(model_zip, config=None, device="cpu"):
    from espnet2.bin.asr_inference import Speech2Text

    import local.runtime.espnet_bin  # noqa: F401  registers our frontend and data types

    files, cache = unpack(model_zip)
    kwargs = {
        k: v
        for k, v in files.items()
        if k in ("asr_train_config", "asr_model_file", "lm_train_config", "lm_file")
    }
    options = decode_options(cache, config)
    if "lm_file" not in kwargs:
        options["lm_weight"] = 0.0
    return Speech2Text(**kwargs, **options, device=device)


def batch_decoder(speech2text):
    """local.decode.batch_inference's decoder for this model, or None when ESPnet's
    search has to be used."""
    from local.decode.batch_beam_search import BatchBeamSearch, Unsupported
    from local.decode.batch_inference import BatchDecoder

    try:
        return BatchDecoder(speech2text, BatchBeamSearch.from_espnet(speech2text.beam_search))
    except Unsupported:
        return None


def transcribe(speech2text, path, max_seconds, decoder=None):
    """The transcript of one file; its pieces are searched together by `decoder`."""
    import torch
    from espnet.nets.pytorch_backend.transformer.subsampling import TooShortUttError

    from local.decode.batch_inference import hypothesis_outputs

    samples, rate = read_audio(path)
    samples = resample(samples, rate).astype(np.float32)
    texts = []
    # under 0.1 s, or too short for the encoder's subsampling: nothing to recognize
    kept = [p for p in pieces(samples, max_seconds) if len(p) >= FRAME * 10]
    if decoder is None:
        for piece in kept:
            try:
                results = speech2text(piece)
            except TooShortUttError:
                continue
            texts.append(results[0][0] if results else "")
        return "".join(texts)
    encoded = []
    for piece in kept:
        try:
            encoded.append(decoder.encode(torch.from_numpy(piece)))
        except TooShortUttError:
            continue
    if not encoded:
        return ""
    nbest_lists = decoder.search(encoded, speech2text.maxlenratio, speech2text.minlenratio)
    return "".join(
        hypothesis_outputs(speech2text, hyps[0])[0] if hyps else "" for hyps in nbest_lists
    )


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("model", help="packed model (.zip) from stage 10")
    parser.add_argument("audio", nargs="+", help="audio files")
    parser.add_argument("--config", help="decode config (default: the packed one)")
    parser.add_argument(
        "--max_seconds",
        type=float,
        default=20.0,
        help="longest piece decoded at once [%(default)s]",
    )
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    if args.max_seconds <= 3:
        parser.error("--max_seconds must be more than 3")
    with contextlib.redirect_stdout(sys.stderr):  # ESPnet prints notices while loading
        speech2text = load_model(args.model, args.config, args.device)
        decoder = batch_decoder(speech2text)
    failed = 0
    for path in args.audio:
        try:
            text = transcribe(speech2text, path, args.max_seconds, decoder)
        except (AudioError, RuntimeError, ValueError) as error:
            failed += 1
            print(f"{path}: ERROR {error}", file=sys.stderr)
            continue
        print(f"{path} {text}", flush=True)
    if failed:
        print(f"{failed} of {len(args.audio)} files failed", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
