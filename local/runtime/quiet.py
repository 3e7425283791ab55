"""Third-party notices kept off the user's stdout, and each shown once per process.

ESPnet prints notices with print() while it is imported and while it builds a
model ("Failed to import Flash Attention, ..."): third_party_output_to_stderr()
sends them to stderr, where a program's stdout (a transcript, JSON) stays clean.
Warnings raised inside torch, torchaudio, ESPnet, s3prl and transformers (e.g.
the FutureWarning of torch.cuda.amp.autocast on every forward of an ESPnet model)
are shown once per process by quiet_warnings(), however often the code runs and
as long as nothing resets Python's warning registries on every call (a
`warnings.catch_warnings()` block does: none is on our decoding path). The
filters go after the user's own, so a user's choice wins, and warnings of other
code are left alone. Our forced alignment's deprecation notice is not shown.
"""

import contextlib
import sys
import threading
import warnings

THIRD_PARTY = r"(torch|torchaudio|espnet|espnet2|s3prl|transformers|silero_vad)(\.|$)"
FORCED_ALIGN = r".*forced_align has been deprecated"
_lock = threading.Lock()


def _installed():
    patterns = {getattr(f[1], "pattern", None) for f in warnings.filters}
    patterns |= {getattr(f[3], "pattern", None) for f in warnings.filters}
    return THIRD_PARTY in patterns and FORCED_ALIGN in patterns


def quiet_warnings():
    """Install the filters that show third-party warnings once per process (again
    if a `warnings.catch_warnings()` block of the caller has taken them away)."""
    with _lock:
        if not _installed():
            # appended: a filter the user (or a program) set comes first
            warnings.filterwarnings("ignore", message=FORCED_ALIGN, append=True)
            warnings.filterwarnings("once", module=THIRD_PARTY, append=True)


@contextlib.contextmanager
def third_party_output_to_stderr():
    """print() output of the code run inside goes to stderr (and warnings are quieted)."""
    quiet_warnings()
    with contextlib.redirect_stdout(sys.stderr):
        yield
