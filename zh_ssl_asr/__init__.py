"""zh_ssl_asr: transcribe Mandarin audio from Python with a model packed by a recipe.

    from zh_ssl_asr import Transcriber

    asr = Transcriber.from_pretrained("exp/asr_x/packed/asr_x.zip", device="cpu")  # or the
    results = asr.transcribe(["a.wav", "b.opus", samples_16k], batch_size=16)  # unzipped folder
    results[0].text                      # the transcript
    results[0].segments[0].start, .end   # a stretch of speech, seconds from the start
    results[0].tokens[0].start, .end     # a character's times (CTC forced alignment)
    results[0].tokens[0].confidence      # its mean CTC posterior over its aligned frames
    results[0].error                     # why an input could not be transcribed, else None

Inputs: paths of anything libsndfile reads (any sample rate, channels averaged),
1-D arrays or tensors of 16 kHz samples, or (samples, rate) pairs; any length.
Each input is cut into speech segments by silero-vad (vad="energy": the split at
quiet points); an input of at most `max_seconds` (20) is decoded whole, as stage
7 decodes an utterance (the same hypothesis), a longer one segment by segment,
all of them together by the project's batched beam search. Results come in the
order of the inputs; a bad input gets a Result with `error` set, never an
exception, and the others are still transcribed. `Transcriber.iter_transcribe`
yields them one by one. A model path that is not a pack raises PackError, whose
message names what is missing. The command line behind the same code:
`python -m local.transcribe MODEL AUDIO... --format text|json|srt|vtt`.

Names:
- Transcriber, Result, Segment, Token: local.decode.transcriber;
- load_packed (a pack as ESPnet's Speech2Text), PackError: local.decode.packed_model;
- render(result, "text"|"json"|"srt"|"vtt"): local.decode.transcript_formats.

This package is the top of the layering: fileio < frontend < local.data <
local.report, local.runtime < local.decode < zh_ssl_asr. It may import all of
them; nothing in the project imports it (only tests and bench/).
"""

from local.decode.options import OptionError
from local.decode.packed_model import PackError, load_packed
from local.decode.transcriber import Result, Segment, Token, Transcriber
from local.decode.transcript_formats import render

__all__ = [
    "OptionError",
    "PackError",
    "Result",
    "Segment",
    "Token",
    "Transcriber",
    "load_packed",
    "render",
]
