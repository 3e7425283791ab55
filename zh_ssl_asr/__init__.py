"""zh_ssl_asr: transcribe Mandarin audio from Python with a model packed by a recipe.

    from zh_ssl_asr import Transcriber

    asr = Transcriber.from_pretrained("exp/asr_x/packed/asr_x.zip", beam_size=10)
    results = asr.transcribe(["a.wav", "b.opus", samples_16k], batch_size=16)
    results[0].text, results[0].segments, results[0].tokens, results[0].error

The same engine and options as `python -m local.transcribe`; inputs, options,
results and errors are described in local/README.md, "Transcribing your own audio".

Names:
- Transcriber, Result, Segment, Token: local.decode.transcriber;
- OptionError (a bad decoding option): local.decode.options;
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
