"""Decoding options: one definition for the command line (`python -m local.transcribe`)
and the Python API (`Transcriber.from_pretrained`, `Transcriber.transcribe`).

Search options come in layers, each replacing only the keys it names:

1. the decode config packed with the model (stage 10's `decode*.yaml`);
2. a decode config file the user names (`--config FILE`, `config=FILE`);
3. single options (`--beam_size 5`, `beam_size=5`).

So `--config` with one key, or `lm_weight=0.0`, changes that key and nothing else.
Every value of every layer is checked before anything is decoded; a bad one is an
OptionError whose one line names where it came from (`--beam_size 0`, `beam_size=0`,
`decode.yaml: beam_size: 0`) and the rule it breaks. Keys of a decode config that
are options of ESPnet's decoding program but not of the search (batch_size, ngpu,
...) are ignored, as stage 7 uses them; other options of ESPnet's Speech2Text
(dtype, quantize_asr_model, ...) are passed on to it and checked by it; anything
else is refused.
"""

import math
import numbers
from dataclasses import dataclass

import numpy as np

PROGRAM_ONLY = ("batch_size", "ngpu", "config")  # stage 7's, not the search's


class OptionError(ValueError):
    """A decoding option with a bad value or an unknown name (one-line message)."""


@dataclass(frozen=True)
class Option:
    """A checked option: its type (int, float, bool or a tuple of choices), bounds
    (`low` inclusive unless `above`), and the help text of its command-line flag."""

    kind: object
    help: str
    low: float | None = None
    high: float | None = None
    above: bool = False  # low is exclusive
    rule: object = None  # a further check: value -> problem or None

    def problem(self, value):
        """Why `value` is not valid (None when it is)."""
        if isinstance(self.kind, tuple):
            return None if value in self.kind else f"must be one of {', '.join(self.kind)}"
        if self.kind is bool:
            return None if isinstance(value, (bool, np.bool_)) else "must be true or false"
        if isinstance(value, str):  # YAML 1.1 reads 1e3 as text (1.0e3 is a number)
            return f"must be a number, not text{self._bounds_suffix()}"
        is_number = isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))
        bounds = self._range()
        if self.kind is int:
            if not is_number or not math.isfinite(value) or value != int(value):
                return "must be a whole number" + self._bounds_suffix()
        elif not is_number or not math.isfinite(value):
            return "must be a finite number" + self._bounds_suffix()
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return f"must be {bounds}"
        if self.high is not None and value > self.high:
            return f"must be {bounds}"
        if self.rule is not None:
            return self.rule(value)
        return None

    def _bounds_suffix(self):
        bounds = self._range()
        return f", {bounds}" if bounds else ""

    def _range(self):
        if self.low is not None and self.high is not None:
            return f"from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{'over' if self.above else 'at least'} {self.low:g}"
        if self.high is not None:
            return f"at most {self.high:g}"
        return ""

    def convert(self, value):
        """The value in its type (an int for 10.0), once checked."""
        if self.kind is int:
            return int(value)
        if self.kind is float:
            return float(value)
        if self.kind is bool:
            return bool(value)
        return value


def _max_length_rule(value):
    # ESPnet: > 0 a ratio of the encoder frames, 0 the encoder frames, <= -1 a fixed
    # number of tokens (int(-value)); between -1 and 0 that number would be 0
    if -1 < value < 0:
        return "must be 0, over 0 (a ratio), or -1 or less (a fixed length)"
    return None


# Weights and penalties are bounded well inside float32's range: scores of
# hypotheses are sums of them, and past about 1e6 they lose the per-token detail
# (1e39 overflows to inf and every hypothesis ties).
WEIGHT_LIMIT = 100.0
SEARCH = {
    "beam_size": Option(int, "hypotheses kept at each step", low=1),
    "ctc_weight": Option(float, "weight of the CTC prefix score (1: CTC only)", 0, 1),
    "lm_weight": Option(float, "weight of the language model (0: none)", 0, WEIGHT_LIMIT),
    "ngram_weight": Option(float, "weight of an n-gram LM, if the model has one", 0, WEIGHT_LIMIT),
    "penalty": Option(
        float, "score added per token (> 0 favours longer hypotheses)", -WEIGHT_LIMIT, WEIGHT_LIMIT
    ),
    "maxlenratio": Option(
        float, "longest hypothesis / encoder frames (0: no limit)", rule=_max_length_rule
    ),
    "minlenratio": Option(float, "shortest hypothesis / encoder frames", 0, 1),
    "nbest": Option(int, "hypotheses returned by the search (the best is used)", low=1),
    "normalize_length": Option(bool, "rank ended hypotheses by score per token"),
}

# max_seconds: the energy split cuts a piece at the quietest point of its last 2 s,
# and silero's spans are max_seconds - 2 x pad_seconds long: at least 2 x pad + 3
# leaves every piece at least 1 s of speech.
MIN_SECONDS = 3.0
TRANSCRIBER = {
    "batch_size": Option(int, "pieces of audio searched together", low=1),
    "max_seconds": Option(float, "longest piece of audio decoded at once", low=MIN_SECONDS),
    "pad_seconds": Option(float, "how far a segment's piece reaches into the pauses", low=0),
    "vad": Option(("silero", "energy"), "speech segments: silero-vad, or quiet points"),
}


def api_label(key, value):
    return f"{key}={value!r}"


def cli_label(key, value):
    return f"--{key} {value}"


def file_label(path):
    return lambda key, value: (
        f"{path}: {key}: {value!r}" if isinstance(value, str) else (f"{path}: {key}: {value}")
    )


def check(options, table, label=api_label):
    """`options` with every value of `table` checked and converted; OptionError
    naming the first bad one (by `label(key, value)`). Keys not in `table` pass."""
    out = dict(options)
    for key, value in options.items():
        if key in table:
            problem = table[key].problem(value)
            if problem:
                raise OptionError(f"{label(key, value)}: {problem}")
            out[key] = table[key].convert(value)
    return out


def check_transcriber(max_seconds, pad_seconds, vad, label=api_label):
    """The transcriber's options checked together (max_seconds must leave room for
    1 s of speech between the pads)."""
    check({"max_seconds": max_seconds, "pad_seconds": pad_seconds, "vad": vad}, TRANSCRIBER, label)
    if max_seconds < 2 * pad_seconds + MIN_SECONDS:
        raise OptionError(
            f"{label('max_seconds', max_seconds)}: must be at least 2 x pad_seconds + "
            f"{MIN_SECONDS:g} ({2 * pad_seconds + MIN_SECONDS:g})"
        )


def check_beam(beam_size, vocabulary, label=api_label):
    """A beam no wider than the model's token list (ESPnet's top-k fails past it)."""
    if beam_size > vocabulary:
        raise OptionError(
            f"{label('beam_size', beam_size)}: must be at most {vocabulary} (the model's tokens)"
        )


def check_device(device, label=api_label):
    """A device torch knows and this machine has (before the model is loaded)."""
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as e:
        raise OptionError(f"{label('device', device)}: not a device (cpu, cuda, cuda:N)") from e
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise OptionError(f"{label('device', device)}: no CUDA device on this machine")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            count = torch.cuda.device_count()
            raise OptionError(f"{label('device', device)}: this machine has {count} CUDA devices")
    elif parsed.type != "cpu":
        raise OptionError(f"{label('device', device)}: only cpu and cuda devices are supported")


def search_layer(options, espnet_defaults, label=api_label, ignore=()):
    """One layer of search options, checked: our SEARCH keys by their rules; other
    options of ESPnet's Speech2Text ({name: default}) only at their default value
    (many change what the model is, not how it is searched, and fail in ways that
    would not name the option); keys in `ignore` dropped; OptionError otherwise."""
    for key, value in options.items():
        if key in SEARCH or key in ignore:
            continue
        if key not in espnet_defaults:
            raise OptionError(
                f"{label(key, value)}: not a decoding option (the search's are {', '.join(SEARCH)})"
            )
        if value != espnet_defaults[key]:
            raise OptionError(
                f"{label(key, value)}: not supported by transcription (only ESPnet's default, "
                f"{espnet_defaults[key]!r}; the search options are {', '.join(SEARCH)})"
            )
    kept = {k: v for k, v in options.items() if k in SEARCH}
    return check(kept, SEARCH, label)


def add_arguments(parser):
    """The search and transcriber options as flags of `parser` (default None: not
    given, so the packed or --config value stays)."""
    group = parser.add_argument_group("search (each replaces only its key of the decode config)")
    for key, option in SEARCH.items():
        if option.kind is bool:
            group.add_argument(
                f"--{key}", type=true_or_false, metavar="true|false", help=option.help
            )
        else:  # read as a number here, checked (whole, range) by the shared rules
            group.add_argument(f"--{key}", type=number, metavar="N", help=option.help)
    return group


def given_search_options(args):
    """{key: value} of the search flags given on the command line, checked."""
    given = {k: getattr(args, k) for k in SEARCH if getattr(args, k, None) is not None}
    return check(given, SEARCH, cli_label)


def true_or_false(text):
    lowered = text.lower()
    if lowered == "true":
        return True
    if lowered == "false":
        return False
    raise ValueError(text)


def number(text):
    """A command-line number: an int when it is written as one, else a float."""
    try:
        return int(text)
    except ValueError:
        return float(text)
