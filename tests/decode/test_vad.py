"""Speech segments (local.decode.vad): batched silero-vad against silero's own
get_speech_timestamps, boundaries on recordings joined from known utterances with
known pauses, and the energy-based split kept as fallback."""

import numpy as np
import pytest

from tiny_pack import mini_test_utterances

RATE = 16000


@pytest.fixture(scope="module")
def utterances():
    """Test utterances of the mini corpus (espeak-ng, silence trimmed), 16 kHz."""
    audio = [samples for _, samples in mini_test_utterances()]
    assert len(audio) >= 60
    return audio


def joined(utterances, seed, n, pauses=(0.4, 3.0), noise=0.0):
    """A recording of n random utterances separated by random pauses (low noise
    when `noise`), and the true (start, end) seconds of each utterance."""
    rng = np.random.default_rng(seed)
    parts, truth, t = [], [], 0.0
    for index in rng.choice(len(utterances), n, replace=False):
        pause = np.zeros(int(RATE * rng.uniform(*pauses)), dtype=np.float32)
        parts += [pause, utterances[index]]
        t += len(pause) / RATE
        truth.append((t, t + len(utterances[index]) / RATE))
        t += len(utterances[index]) / RATE
    parts.append(np.zeros(int(RATE * rng.uniform(*pauses)), dtype=np.float32))
    samples = np.concatenate(parts)
    if noise:
        samples = samples + rng.normal(0, noise, len(samples)).astype(np.float32)
    return samples, truth


def silero_reference(samples, max_seconds):
    """silero's own get_speech_timestamps (one window at a time)."""
    import torch
    from silero_vad import get_speech_timestamps, load_silero_vad

    found = get_speech_timestamps(
        torch.from_numpy(samples), load_silero_vad(), max_speech_duration_s=max_seconds
    )
    return [(s["start"], s["end"]) for s in found]


@pytest.mark.parametrize("by_calls", [False, True])
def test_batched_silero_equals_silero(utterances, monkeypatch, by_calls):
    """Short and long (several minutes, low noise) recordings decided together:
    the spans of silero's own get_speech_timestamps, to the sample."""
    from local.decode import vad

    def not_laid_out(model):
        raise AttributeError("_model")

    if by_calls:  # the fallback: silero's forward, one window of every recording per call
        monkeypatch.setattr(vad, "_SileroParts", not_laid_out)
    recordings = [joined(utterances, seed, 3)[0] for seed in range(4)] + utterances[:6]
    recordings.append(joined(utterances, seed=7, n=50, noise=0.002)[0])
    assert len(recordings[-1]) / RATE > 120
    ours = vad.silero_spans(recordings, max_seconds=19.0)
    assert ours == [silero_reference(r, 19.0) for r in recordings]
    assert len(ours[-1]) == 50


@pytest.mark.parametrize("seed,pauses,noise", [(1, (0.3, 0.6), 0.0), (2, (1.0, 4.0), 0.003)])
def test_segment_boundaries_within_0_3_s_of_the_truth(utterances, seed, pauses, noise):
    from local.decode.vad import speech_spans

    samples, truth = joined(utterances, seed, 12, pauses, noise)
    spans = speech_spans([samples], max_seconds=19.0)[0]
    assert len(spans) == len(truth)
    for (start, end), (true_start, true_end) in zip(spans, truth):
        assert abs(start / RATE - true_start) <= 0.3
        assert abs(end / RATE - true_end) <= 0.3


def test_speech_longer_than_the_limit_is_cut(utterances):
    from local.decode.vad import speech_spans

    samples, _ = joined(utterances, seed=3, n=12, pauses=(0.12, 0.2))  # pauses under 0.2 s
    spans = speech_spans([samples], max_seconds=6.0)[0]
    assert all((end - start) / RATE <= 6.0 for start, end in spans)
    assert sum(end - start for start, end in spans) > 0.8 * len(samples)


def test_silence_and_noise_have_no_speech():
    from local.decode.vad import speech_spans

    rng = np.random.default_rng(0)
    quiet = [np.zeros(RATE * 3, np.float32), rng.normal(0, 0.001, RATE * 5).astype(np.float32)]
    assert speech_spans(quiet, 19.0) == [[], []]
    assert speech_spans([np.zeros(RATE, np.float32)], 19.0, method="energy") == [[]]


def test_long_audio_is_cut_at_quiet_points():
    """The energy split (fallback): pieces of at most max_seconds, cut at the
    quietest 10 ms before the limit, together the whole recording."""
    from local.decode.vad import energy_spans, pieces

    rng = np.random.default_rng(0)
    loud = lambda seconds: rng.uniform(-0.5, 0.5, int(RATE * seconds)).astype(np.float32)
    quiet = np.zeros(RATE // 2, dtype=np.float32)
    samples = np.concatenate([loud(3), quiet, loud(3), quiet, loud(3)])  # 10 s
    parts = pieces(samples, max_seconds=4)
    assert np.array_equal(np.concatenate(parts), samples)
    assert all(len(p) <= 4 * RATE for p in parts)
    cuts = np.cumsum([len(p) for p in parts])[:-1]
    quiet_zones = [(3 * RATE, 3.5 * RATE), (6.5 * RATE, 7 * RATE)]
    assert len(cuts) == 2
    assert all(a <= cut < b for cut, (a, b) in zip(cuts, quiet_zones))  # cut in silence
    spans = energy_spans(samples, 4)
    assert [b - a for a, b in spans] == [len(p) for p in parts]
    assert len(pieces(samples[: 4 * RATE], max_seconds=4)) == 1
