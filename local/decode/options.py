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

    def problem(self, value):
        """Why `value` is not valid (None when it is)."""
        if isinstance(self.kind, tuple):
            return None if value in self.kind else f"must be one of {', '.join(self.kind)}"
        if self.kind is bool:
            return None if isinstance(value, bool) else "must be true or false"
        is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
        bounds = self._range()
        if self.kind is int:
            if not is_number or not math.isfinite(value) or value != int(value):
                return "must be a whole number" + (f", {bounds}" if bounds else "")
        elif not is_number or not math.isfinite(value):
            return "must be a finite number" + (f", {bounds}" if bounds else "")
        if self.low is not None and (value <= self.low if self.above else value < self.low):
            return f"must be {bounds}"
        if self.high is not None and value > self.high:
            return f"must be {bounds}"
        return None

    def _range(self):
        if self.low is not None and self.high is not None:
            return f"from {self.low:g} to {self.high:g}"
        if self.low is not None:
            return f"{'over' if self.above else 'at least'} {self.low:g}"
        return ""

    def convert(self, value):
        """The value in its type (an int for 10.0), once checked."""
        if self.kind is int:
            return int(value)
        if self.kind is float:
            return float(value)
        return value


SEARCH = {
    "beam_size": Option(int, "hypotheses kept at each step", low=1),
    "ctc_weight": Option(float, "weight of the CTC prefix score (1: CTC only)", 0, 1),
    "lm_weight": Option(float, "weight of the language model (0: none)", low=0),
    "ngram_weight": Option(float, "weight of an n-gram LM, if the model has one", low=0),
    "penalty": Option(float, "score added per token (> 0 favours longer hypotheses)"),
    "maxlenratio": Option(float, "longest hypothesis / encoder frames (0: no limit)"),
    "minlenratio": Option(float, "shortest hypothesis / encoder frames", low=0),
    "nbest": Option(int, "hypotheses returned by the search (the best is used)", low=1),
    "normalize_length": Option(bool, "rank ended hypotheses by score per token"),
}

TRANSCRIBER = {
    "batch_size": Option(int, "pieces of audio searched together", low=1),
    "max_seconds": Option(float, "longest piece of audio decoded at once", low=1, above=True),
    "pad_seconds": Option(float, "how far a segment's piece reaches into the pauses", low=0),
    "vad": Option(("silero", "energy"), "speech segments: silero-vad, or quiet points"),
}


def api_label(key, value):
    return f"{key}={value!r}"


def cli_label(key, value):
    return f"--{key} {value}"


def file_label(path):
    return lambda key, value: f"{path}: {key}: {value}"


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
    if max_seconds <= 2 * pad_seconds + 1:
        raise OptionError(
            f"{label('max_seconds', max_seconds)}: must be over 2 x pad_seconds + 1 "
            f"({2 * pad_seconds + 1:g})"
        )


def search_layer(options, espnet_options, label=api_label, ignore=()):
    """One layer of search options, checked: our SEARCH keys by their rules, other
    options of ESPnet's Speech2Text (`espnet_options`) passed on, keys in `ignore`
    dropped; OptionError for anything else."""
    unknown = sorted(k for k in options if k not in SEARCH and k not in espnet_options)
    unknown = [k for k in unknown if k not in ignore]
    if unknown:
        raise OptionError(
            f"{label(unknown[0], options[unknown[0]])}: not a decoding option "
            f"(the search's are {', '.join(SEARCH)})"
        )
    return check({k: v for k, v in options.items() if k not in ignore}, SEARCH, label)


def add_arguments(parser):
    """The search and transcriber options as flags of `parser` (default None: not
    given, so the packed or --config value stays)."""
    group = parser.add_argument_group("search (each replaces only its key of the decode config)")
    for key, option in SEARCH.items():
        if option.kind is bool:
            group.add_argument(
                f"--{key}", type=true_or_false, metavar="true|false", help=option.help
            )
        else:
            group.add_argument(f"--{key}", type=option.kind, help=option.help)
    return group


def given_search_options(args):
    """{key: value} of the search flags given on the command line, checked."""
    given = {k: getattr(args, k) for k in SEARCH if getattr(args, k, None) is not None}
    return check(given, SEARCH, cli_label)


def true_or_false(text):
    lowered = text.lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    raise ValueError(text)
