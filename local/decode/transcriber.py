"""The engine of transcription: `Transcriber`, behind `python -m local.transcribe`
and the Python API (zh_ssl_asr). What users see of it (inputs, options, outputs,
errors) is described once, in local/README.md, "Transcribing your own audio";
this says how it works. For each group of inputs:

1. each input is read (read_input) as 16 kHz mono float32 samples;
2. speech segments (local.decode.vad): silero-vad by default, the energy split
   as fallback; spans longer than `max_seconds` are cut at their longest pause;
3. a recording of at most `max_seconds` is decoded whole, as stage 7 decodes an
   utterance, so its hypothesis is stage 7's; each token goes to the segment its
   aligned middle falls in (or the nearest). A longer recording is decoded segment
   by segment, each as the detector cut it (silero adds 30 ms before and after the
   speech), or extended by `pad_seconds` into the pauses around it (never past the
   middle of a pause; default 0, measured in bench/README.md);
4. the pieces (whole recordings or segments) of several recordings (up to
   GROUP_FILES files or GROUP_SECONDS of audio at a time) are sorted by length,
   encoded one at a time (as ESPnet does: no padding), and searched `batch_size`
   at a time by local.decode.batch_beam_search, ESPnet's search over many
   utterances; models it cannot batch are decoded by ESPnet's Speech2Text one
   piece at a time; special tokens (blank, <sos/eos>, <unk>) are dropped from
   the chosen hypothesis;
5. token times and confidences from a CTC forced alignment of that hypothesis
   (local.decode.align), in seconds from the start of the recording, clipped to
   the token's segment.

Steps 2-5 of a group run under the Transcriber's lock, so threads sharing one take
turns and never mix their batches.
"""

import logging
import math
import numbers
import os
import threading
from dataclasses import asdict, dataclass, field

import numpy as np

from local.decode import options
from local.decode import vad as vad_module
from local.runtime.quiet import quiet_warnings

SAMPLE_RATE = 16000
MIN_PIECE = SAMPLE_RATE // 10  # under 0.1 s: nothing to recognize
GROUP_FILES = 128
GROUP_SECONDS = 1200.0

log = logging.getLogger(__name__)


class InputError(Exception):
    """An input that cannot be transcribed (message without the input's name)."""


@dataclass
class Token:
    """A token of the hypothesis as in the model's token list; start and end in
    seconds from the start of the recording (None when the alignment failed);
    confidence: its mean CTC posterior over its aligned frames (local.decode.align)."""

    text: str
    start: float | None
    end: float | None
    confidence: float | None


@dataclass
class Segment:
    """A stretch of speech: start and end in seconds (the voice activity detector's
    boundaries), its transcript and tokens; confidence: the mean of its tokens'."""

    start: float
    end: float
    text: str
    tokens: list[Token] = field(default_factory=list)
    confidence: float | None = None


@dataclass
class Result:
    """The transcript of one input: its name (the path, or `<input N>` for an
    array), text (the hypothesis of a recording decoded whole, else its segments'
    texts joined), segments, duration in seconds; error:
    why it could not be transcribed (None when it was); notes: what else to know
    (no speech found, channels averaged)."""

    source: str
    text: str = ""
    segments: list[Segment] = field(default_factory=list)
    duration: float = 0.0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self):
        return self.error is None

    @property
    def tokens(self):
        return [token for segment in self.segments for token in segment.tokens]

    @property
    def confidence(self):
        """Mean confidence of all tokens (None without aligned tokens)."""
        return _round(_mean(t.confidence for t in self.tokens))

    def to_dict(self):
        out = asdict(self)
        out["confidence"] = self.confidence
        return out


def _mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def _round(value, digits=4):
    return None if value is None else round(value, digits)


def _distance(t, bounds):
    """Seconds from time t to the interval bounds (0 inside)."""
    return max(bounds[0] - t, 0.0, t - bounds[1])


def _join(texts):
    """Segment texts joined: with a space between two Latin letters or digits, else
    directly (Mandarin)."""
    out = ""
    for text in texts:
        if not text:
            continue
        latin = lambda c: c.isascii() and c.isalnum()
        if out and latin(out[-1]) and latin(text[0]):
            out += " "
        out += text
    return out


# --- inputs ---------------------------------------------------------------------


def read_input(item):
    """(16 kHz float32 mono samples, notes) of a path, an array of 16 kHz samples or
    a (samples, rate) pair; InputError when it cannot be used."""
    import soundfile

    from fileio.audio import file_name, resample

    notes = []
    if isinstance(item, (str, os.PathLike)):
        path = os.fspath(item)
        if os.path.isdir(path):
            raise InputError("is a folder, not an audio file")
        if not os.path.exists(path):
            raise InputError("no such file")
        try:
            samples, rate = soundfile.read(file_name(path), dtype="float32", always_2d=True)
        except (RuntimeError, ValueError, TypeError, OSError) as e:
            raise InputError(f"cannot read audio: {e}") from e
        if samples.shape[1] > 1:
            notes.append(f"{samples.shape[1]} channels averaged to mono")
        samples = samples.mean(axis=1) if samples.shape[1] > 1 else samples[:, 0]
    else:
        rate = SAMPLE_RATE
        if isinstance(item, tuple) and len(item) == 2:
            item, rate = item
        if hasattr(item, "detach"):  # a torch tensor
            item = item.detach().cpu().numpy()
        samples = np.asarray(item)
        if samples.dtype in (np.int16, np.int32):  # soundfile's PCM, full scale 2 ** (bits - 1)
            samples = samples / float(2 ** (8 * samples.dtype.itemsize - 1))
        elif not np.issubdtype(samples.dtype, np.floating):
            raise InputError(f"samples must be float, int16 or int32, not {samples.dtype}")
        if samples.ndim == 2 and min(samples.shape) >= 1:
            # channels are the shorter axis: (samples, channels) as soundfile reads,
            # or (channels, samples) as torchaudio loads
            channels = min(samples.shape)
            samples = samples.mean(axis=0 if samples.shape[0] == channels else 1)
            if channels > 1:
                notes.append(f"{channels} channels averaged to mono")
        if samples.ndim != 1:
            raise InputError(
                "an array input must be samples (1-D) or samples x channels (2-D), "
                f"not of shape {samples.shape}"
            )
        if not _is_rate(rate):
            raise InputError(f"bad sample rate {rate!r}: a positive number of samples per second")
        rate = float(rate) if rate != int(rate) else int(rate)
    if len(samples) == 0:
        raise InputError("empty: no audio samples")
    if not np.all(np.isfinite(samples)):
        raise InputError("holds samples that are not finite numbers (NaN or infinity)")
    return resample(np.ascontiguousarray(samples, dtype=np.float32), rate).astype(
        np.float32, copy=False
    ), notes


def _is_rate(rate):
    real = isinstance(rate, numbers.Real) and not isinstance(rate, bool)
    return real and math.isfinite(rate) and rate > 0


def _is_pair(inputs):
    """Whether `inputs` is one (samples, rate) input rather than two inputs: an
    array with a number (a bad rate is then that input's error)."""
    if not (isinstance(inputs, tuple) and len(inputs) == 2):
        return False
    samples, rate = inputs
    is_array = isinstance(samples, np.ndarray) or hasattr(samples, "detach")
    return is_array and isinstance(rate, numbers.Number)


# --- segments -------------------------------------------------------------------


def plan_pieces(spans, n_samples, pad=0):
    """[(segment start, segment end, piece start, piece end)] in samples: the
    piece decoded for each speech span of a long recording, reaching `pad` samples
    into the pauses around it, never past their middle."""
    out = []
    for i, (start, end) in enumerate(spans):
        left = 0 if i == 0 else (spans[i - 1][1] + start) // 2
        right = n_samples if i == len(spans) - 1 else (end + spans[i + 1][0]) // 2
        out.append((start, end, max(left, start - pad), min(right, end + pad)))
    return out


def special_token_ids(speech2text):
    """Ids of the tokens that are no text: blank, <sos/eos> (a hypothesis that ran
    to the length limit, or a wild LM weight, can hold one) and <unk>."""
    token_list = list(speech2text.converter.token_list)
    special = {0, len(token_list) - 1}
    model = speech2text.asr_model
    special |= {int(getattr(model, name)) for name in ("sos", "eos") if hasattr(model, name)}
    special |= {
        i for i, token in enumerate(token_list) if token in ("<blank>", "<unk>", "<sos/eos>")
    }
    return special


# --- the transcriber ------------------------------------------------------------


class Transcriber:
    """A packed model ready to transcribe (see the module doc).

    vad: "silero" (default; "energy" when silero-vad cannot be loaded) or "energy";
    max_seconds: the longest piece decoded at once; pad_seconds: how far a
    segment's piece reaches into the pauses around it (local.decode.options
    checks them). One Transcriber may be shared by threads: they take turns
    (a lock around each group of inputs), so results are never mixed.
    """

    def __init__(self, speech2text, vad="silero", max_seconds=20.0, pad_seconds=0.0):
        from local.decode.align import frame_shift
        from local.decode.batch_beam_search import BatchBeamSearch, Unsupported
        from local.decode.batch_inference import BatchDecoder

        options.check_transcriber(max_seconds, pad_seconds, vad)
        quiet_warnings()
        self.speech2text = speech2text
        self.max_seconds = float(max_seconds)
        self.vad = vad
        self.pad_seconds = float(pad_seconds)
        try:
            search = BatchBeamSearch.from_espnet(speech2text.beam_search)
        except Unsupported as e:
            log.warning(f"batched search does not cover this model ({e}): decoding with ESPnet")
            search = None
        self.batched = search is not None
        self.decoder = BatchDecoder(speech2text, search)
        self.model = speech2text.asr_model
        self.shift = frame_shift(self.model)
        self.special = special_token_ids(speech2text)
        self._lock = threading.Lock()  # one thread at a time inside the model

    @classmethod
    def from_pretrained(
        cls,
        model,
        device="cpu",
        config=None,
        vad="silero",
        max_seconds=20.0,
        pad_seconds=0.0,
        **search_options,
    ):
        """A Transcriber of a packed model (stage 10's archive or the folder it was
        unpacked into). Search options: the packed decode config's, replaced key by
        key by those of the `config` file, then by `search_options` (beam_size=...,
        ctc_weight=..., lm_weight=..., penalty=...; local.decode.options).
        Raises PackError for a path that is no pack, OptionError for a bad option."""
        from local.decode.packed_model import load_packed

        options.check_transcriber(max_seconds, pad_seconds, vad)
        speech2text = load_packed(model, config=config, device=device, **search_options)
        return cls(speech2text, vad=vad, max_seconds=max_seconds, pad_seconds=pad_seconds)

    def transcribe(self, inputs, batch_size=16):
        """[Result] for the inputs (paths, arrays of 16 kHz samples, (samples, rate))."""
        return list(self.iter_transcribe(inputs, batch_size))

    def iter_transcribe(self, inputs, batch_size=16):
        """The Results one by one, in the order of the inputs, each group of inputs
        decoded together."""
        batch_size = options.check({"batch_size": batch_size}, options.TRANSCRIBER)["batch_size"]
        one = isinstance(inputs, (str, os.PathLike, np.ndarray)) or hasattr(inputs, "detach")
        if one or _is_pair(inputs):
            inputs = [inputs]
        group, seconds = [], 0.0
        for index, item in enumerate(inputs):
            name = os.fspath(item) if isinstance(item, (str, os.PathLike)) else f"<input {index}>"
            try:
                samples, notes = read_input(item)
            except InputError as e:
                group.append((Result(name, error=str(e)), None))
            else:
                duration = len(samples) / SAMPLE_RATE
                group.append((Result(name, duration=round(duration, 3), notes=notes), samples))
                seconds += duration
            if len(group) >= GROUP_FILES or seconds >= GROUP_SECONDS:
                yield from self._transcribe_group(group, batch_size)
                group, seconds = [], 0.0
        if group:
            yield from self._transcribe_group(group, batch_size)

    # --- one group of recordings ---------------------------------------------

    def _speech_spans(self, recordings):
        max_speech = self.max_seconds - 2 * self.pad_seconds
        if self.vad == "silero":
            try:
                return vad_module.speech_spans(recordings, max_speech, "silero")
            except vad_module.VADUnavailable as e:
                log.warning(f"{e}; using the energy-based split")
                self.vad = "energy"
        return vad_module.speech_spans(recordings, self.max_seconds, "energy")

    def _transcribe_group(self, group, batch_size):
        """The group's Results, decoded under the lock (and yielded after it)."""
        with self._lock:
            results = self._decode_group(group, batch_size)
        yield from results

    def _decode_group(self, group, batch_size):
        import torch

        usable = [(result, samples) for result, samples in group if samples is not None]
        found = self._speech_spans([samples for _, samples in usable]) if usable else []
        max_samples = int(self.max_seconds * SAMPLE_RATE)
        pad = int(self.pad_seconds * SAMPLE_RATE)
        jobs = []  # (result, [(segment start, end)], piece start, piece samples, whole)
        for (result, samples), spans in zip(usable, found):
            if not spans:
                result.notes.append("no speech found (silence or noise only)")
            elif len(samples) <= max_samples:  # decoded whole, as stage 7 does
                jobs.append((result, spans, 0, samples, True))
            else:
                for start, end, a, b in plan_pieces(spans, len(samples), pad):
                    jobs.append((result, [(start, end)], a, samples[a:b], False))
        order = sorted(range(len(jobs)), key=lambda i: -len(jobs[i][3]))
        decoded = [None] * len(jobs)
        with torch.no_grad():
            for first in range(0, len(order), batch_size):
                batch = order[first : first + batch_size]
                for i, out in zip(batch, self._decode([jobs[i][3] for i in batch])):
                    decoded[i] = out
        whole = {}
        for (result, spans, start, piece, is_whole), out in zip(jobs, decoded):
            result.segments += self._segments(spans, start, len(piece), *out)
            if is_whole:
                whole[id(result)] = out[1]
        for result, _ in group:
            result.text = whole.get(id(result), _join(s.text for s in result.segments))
        return [result for result, _ in group]

    def _decode(self, pieces):
        """[(tokens, text, alignment spans or None)] of each piece."""
        import torch
        from espnet.nets.pytorch_backend.transformer.subsampling import TooShortUttError

        from local.decode.align import align
        from local.decode.batch_inference import hypothesis_outputs

        s2t = self.speech2text
        encoded = []
        for piece in pieces:
            enc = None
            if len(piece) >= MIN_PIECE:
                try:
                    enc = self.decoder.encode(torch.from_numpy(np.ascontiguousarray(piece)))
                except TooShortUttError:
                    enc = None
            encoded.append(enc)
        kept = [i for i, enc in enumerate(encoded) if enc is not None]
        hyps = {}
        if self.batched and kept:
            nbest_lists = self.decoder.search(
                [encoded[i] for i in kept], s2t.maxlenratio, s2t.minlenratio
            )
            for i, nbest in zip(kept, nbest_lists):
                if nbest:
                    hyps[i] = hypothesis_outputs(s2t, nbest[0])[2]
        elif kept:
            for i in kept:
                results = s2t(torch.from_numpy(np.ascontiguousarray(pieces[i])))
                if results:
                    hyps[i] = results[0][2]
        out = []
        for i, enc in enumerate(encoded):
            if i not in hyps:
                out.append(([], "", None))
                continue
            token_int = [int(t) for t in hyps[i] if int(t) not in self.special]
            tokens = s2t.converter.ids2tokens(token_int) if token_int else []
            text = self._text(tokens)
            spans = None
            if getattr(self.model, "ctc", None) is not None:
                spans = align(self.model.ctc.log_softmax(enc.unsqueeze(0))[0], list(token_int))
                if spans is not None:
                    spans = (spans, len(enc))
            out.append((tokens, text, spans))
        return out

    def _segments(self, spans, piece_start, piece_samples, tokens, text, aligned):
        """The Segments of a decoded piece holding the speech `spans` (samples):
        one per span, each with the tokens whose aligned middle falls in it (or in
        the pause nearest to it), their times clipped to it."""
        bounds = [(a / SAMPLE_RATE, b / SAMPLE_RATE) for a, b in spans]
        if aligned is None:  # no times: one segment over all the speech
            untimed = [Token(t, None, None, None) for t in tokens]
            return [Segment(round(bounds[0][0], 3), round(bounds[-1][1], 3), text, untimed)]
        frames_spans, frames = aligned
        shift = (self.shift or piece_samples / frames) / SAMPLE_RATE
        offset = piece_start / SAMPLE_RATE
        groups = [[] for _ in bounds]
        for token, (first, last, confidence) in zip(tokens, frames_spans):
            start, end = offset + first * shift, offset + last * shift
            middle = (start + end) / 2
            k = min(range(len(bounds)), key=lambda i: _distance(middle, bounds[i]))
            groups[k].append((token, start, end, confidence))
        out = []
        for (seg_start, seg_end), members in zip(bounds, groups):
            clip = lambda t, a=seg_start, b=seg_end: round(min(max(t, a), b), 3)
            seg_tokens = [
                Token(token, clip(a), clip(b), round(c, 4) if math.isfinite(c) else None)
                for token, a, b, c in members
            ]
            seg_text = text if len(bounds) == 1 else self._text([t.text for t in seg_tokens])
            confidence = _round(_mean(t.confidence for t in seg_tokens))
            out.append(
                Segment(round(seg_start, 3), round(seg_end, 3), seg_text, seg_tokens, confidence)
            )
        return out

    def _text(self, tokens):
        tokenizer = self.speech2text.tokenizer
        return tokenizer.tokens2text(tokens) if tokenizer is not None and tokens else ""
