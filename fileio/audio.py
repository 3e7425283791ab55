"""Reading audio, changing speed and sample rate (soundfile + soxr, no sox binary)."""

import os

import numpy as np
import soundfile
import soxr

SAMPLE_RATE = 16000


class AudioError(Exception):
    """Audio that cannot be read, with the file named."""


def file_name(path):
    """A path as soundfile opens it: as bytes when its name is not UTF-8 (soundfile
    encodes a str as UTF-8, which fails on the bytes Python decoded as surrogates)."""
    name = os.fspath(path)
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name)
    return name


def read_audio(path, start=None, end=None):
    """(samples, rate): float32 samples of the first channel, optionally [start, end) s."""
    try:
        with soundfile.SoundFile(file_name(path)) as f:
            rate = f.samplerate
            first = 0 if start is None else int(round(start * rate))
            if first:
                f.seek(first)
            frames = -1 if end is None else max(int(round(end * rate)) - first, 0)
            samples = f.read(frames, dtype="float32", always_2d=True)
    except (RuntimeError, soundfile.LibsndfileError, ValueError) as e:
        raise AudioError(f"{path}: cannot read audio: {e}") from e
    if not np.isfinite(samples[:, 0]).all():  # float files can hold NaN and infinity
        raise AudioError(f"{path}: samples that are not finite numbers (NaN or infinity)")
    return samples[:, 0], rate


def change_speed(samples, rate, factor):
    """Change tempo and pitch together, as `sox speed FACTOR` does.

    The samples are taken as if recorded at rate*factor and resampled to rate:
    factor 1.1 gives 1/1.1 of the length and a pitch 1.1 times higher.
    """
    if factor == 1.0:
        return samples
    return soxr.resample(samples, rate * factor, rate, quality="HQ")


def resample(samples, rate_in, rate_out=SAMPLE_RATE):
    if rate_in == rate_out:
        return samples
    return soxr.resample(samples, rate_in, rate_out, quality="HQ")


def to_int16(samples):
    """float samples in [-1, 1) -> int16, clipping instead of wrapping around."""
    return np.clip(np.round(samples * 32768.0), -32768, 32767).astype(np.int16)
