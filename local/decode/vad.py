"""Speech segments of recordings: silero-vad, or the energy-based split as fallback.

    spans = speech_spans([samples, ...], max_seconds=20.0)   # [[(start, end), ...], ...]

Reads 16 kHz float samples; writes nothing. Each recording gets a list of speech
spans in samples, in order and not overlapping.

- silero-vad (PyPI `silero-vad`, its TorchScript model from inside the wheel, no
  network): the speech probability of every 32 ms window comes from silero's model;
  the spans from silero's own `get_speech_timestamps_from_probs` with its defaults
  (threshold 0.5, speech of at least 250 ms, silences of at least 100 ms, 30 ms
  padding) and spans longer than `max_seconds` cut at their longest pause.
  silero's `get_speech_timestamps` calls the model once per window; here its
  layers without state (features, encoder, output) run on all windows of all
  recordings at once and its LSTM cell as one torch.nn.LSTM over the windows, the
  same computation in a few calls (speeds in bench/README.md). When the model's
  parts are not where silero 6.2 keeps them, its own forward is called, one window
  of every recording per call.
  tests/decode/test_vad.py compares the spans with silero's `get_speech_timestamps`.
- energy (the fallback when silero-vad is not installed, or asked for): the whole
  recording as one span, cut into pieces of at most `max_seconds` at the quietest
  10 ms within the last 2 s of each piece; a recording whose peak is below
  SILENCE_PEAK has no span.
"""

import itertools

import numpy as np

SAMPLE_RATE = 16000
WINDOW = 512  # silero's window at 16 kHz
CONTEXT = 64  # samples of the previous window that silero's model sees
CHUNK = 4096  # windows through the stateless layers at once
MAX_ROWS = 256  # recordings per model call (when the model is called window by window)
SILENCE_PEAK = 1e-4  # below this, the energy split calls a recording silent
FRAME = SAMPLE_RATE // 100  # 10 ms
SEARCH = 2 * SAMPLE_RATE  # where the energy split looks for a quiet cut point


class VADUnavailable(Exception):
    """silero-vad cannot be imported or loaded."""


# --- energy-based split ---------------------------------------------------------


def split_points(samples, max_samples):
    """Cut positions so that every piece is at most max_samples long, each at the
    quietest 10 ms within the last 2 s before the limit."""
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
    """The samples cut by split_points into pieces of at most max_seconds."""
    bounds = [0] + split_points(samples, int(max_seconds * SAMPLE_RATE)) + [len(samples)]
    return [samples[a:b] for a, b in itertools.pairwise(bounds)]


def energy_spans(samples, max_seconds):
    """[(start, end)] in samples: the whole recording cut by split_points, or []
    when it is silent."""
    if len(samples) == 0 or float(np.max(np.abs(samples))) < SILENCE_PEAK:
        return []
    bounds = [0] + split_points(samples, int(max_seconds * SAMPLE_RATE)) + [len(samples)]
    return list(itertools.pairwise(bounds))


# --- silero-vad -----------------------------------------------------------------

_MODEL = None


def silero_model():
    """silero's TorchScript model, loaded once (VADUnavailable when it cannot be)."""
    global _MODEL
    if _MODEL is None:
        try:
            from silero_vad import load_silero_vad

            _MODEL = load_silero_vad(onnx=False)
        except Exception as e:  # not installed, or a broken wheel
            raise VADUnavailable(f"silero-vad: {e}") from e
    return _MODEL


def _windows(samples, first, count):
    """(count, 576) float32: windows first .. first+count-1 of the samples, each
    512-sample window (the last zero-padded) after the last 64 samples of the
    window before it (zeros before the first): what silero's model is given at
    each call."""
    start = first * WINDOW - CONTEXT
    padded = np.zeros(CONTEXT + count * WINDOW, dtype=np.float32)
    piece = samples[max(start, 0) : (first + count) * WINDOW]
    padded[max(-start, 0) : max(-start, 0) + len(piece)] = piece
    windows = np.lib.stride_tricks.sliding_window_view(padded, CONTEXT + WINDOW)[::WINDOW]
    return np.ascontiguousarray(windows)


class _SileroParts:
    """silero's 16 kHz model taken apart, so that its per-window layers run on all
    windows at once: features and encoder (no state), then the LSTM cell as one
    torch.nn.LSTM over the windows (same weights), then the output layer and the
    mean that silero's forward takes. AttributeError when the model is not laid
    out so (another silero version)."""

    def __init__(self, model):
        import torch

        inner = model._model
        self.features, self.encoder = inner.run_extractors, inner.encoder
        cell, self.head = inner.decoder.rnn, inner.decoder.decoder
        self.lstm = torch.nn.LSTM(cell.weight_ih.size(1), cell.weight_hh.size(1))
        with torch.no_grad():
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(self.lstm, f"{name}_l0").copy_(getattr(cell, name))

    def __call__(self, recordings):
        import torch
        from torch.nn.utils.rnn import pad_sequence

        encoded = []
        for samples in recordings:
            n, parts = -(-len(samples) // WINDOW), []
            for first in range(0, n, CHUNK):
                windows = torch.from_numpy(_windows(samples, first, min(CHUNK, n - first)))
                parts.append(self.encoder(self.features(windows)).squeeze(-1))
            encoded.append(torch.cat(parts))
        states, _ = self.lstm(pad_sequence(encoded))  # (windows, recordings, 128)
        return [
            self.head(states[: len(e), i].unsqueeze(-1)).squeeze(1).mean(1).numpy()
            for i, e in enumerate(encoded)
        ]


def _probabilities_by_calls(model, recordings):
    """The same through silero's own forward, one window of every recording per call."""
    import torch

    probs = [np.zeros(-(-len(s) // WINDOW), dtype=np.float32) for s in recordings]
    order = sorted(range(len(recordings)), key=lambda i: len(probs[i]))
    for first in range(0, len(order), MAX_ROWS):
        rows = order[first : first + MAX_ROWS]
        length = max(len(probs[i]) for i in rows)
        batch = np.zeros((len(rows), length * WINDOW), dtype=np.float32)
        for r, i in enumerate(rows):
            batch[r, : len(recordings[i])] = recordings[i]
        batch = torch.from_numpy(batch).view(len(rows), length, WINDOW)
        model.reset_states()
        out = np.empty((len(rows), length), dtype=np.float32)
        for w in range(length):
            out[:, w] = model(batch[:, w], SAMPLE_RATE).view(-1).numpy()
        for r, i in enumerate(rows):
            probs[i][:] = out[r, : len(probs[i])]
    return probs


def speech_probabilities(recordings):
    """silero's speech probability of every 512-sample window of each recording
    (the last window zero-padded, as silero pads it)."""
    import torch

    model = silero_model()
    with torch.no_grad():
        try:
            parts = _SileroParts(model)
        except (AttributeError, RuntimeError):
            return _probabilities_by_calls(model, recordings)
        return parts(recordings)


def silero_spans(recordings, max_seconds):
    """[[(start, end)], ...] in samples: silero's speech timestamps of each recording."""
    from silero_vad.utils_vad import get_speech_timestamps_from_probs

    spans = []
    for samples, probs in zip(recordings, speech_probabilities(recordings)):
        # no catch_warnings() here: it would reset the registries that show a
        # warning once (local.runtime.quiet), on every call
        found = get_speech_timestamps_from_probs(
            probs.tolist(),
            sampling_rate=SAMPLE_RATE,
            max_speech_duration_s=max_seconds,
            audio_length_samples=len(samples),
        )
        spans.append([(int(s["start"]), int(s["end"])) for s in found])
    return spans


def speech_spans(recordings, max_seconds, method="silero"):
    """Speech spans of each recording by `method` (silero or energy)."""
    if method == "energy":
        return [energy_spans(samples, max_seconds) for samples in recordings]
    if method != "silero":
        raise ValueError(f"unknown VAD method {method!r} (silero, energy)")
    return silero_spans(recordings, max_seconds)
