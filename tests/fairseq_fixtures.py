"""The fairseq fixtures the converter and frontend tests compare with: every
`<name>.pt` with fairseq's outputs in `<name>.npz` beside it (make_fixtures.py).

FAIRSEQ_FIXTURES names another folder of them, e.g. checkpoints no test has seen:

    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 .venv-fairseq/bin/python \\
        tests/fixtures/fairseq/make_fixtures.py --out /tmp/unseen --seed-offset 100 \\
        --only hubert_large_tiny,wav2vec2_large_tiny,hubert_large_tiny_identity_proj
    FAIRSEQ_FIXTURES=/tmp/unseen pytest tests/frontend/test_convert_fairseq.py \\
        tests/frontend/test_extract.py tests/frontend/test_ssl_frontend.py
"""

import os
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(os.environ.get("FAIRSEQ_FIXTURES") or ROOT / "tests/fixtures/fairseq")


def checkpoints():
    """Names of the checkpoints that have fairseq's outputs beside them."""
    return sorted(p.stem for p in FIXTURES.glob("*.pt") if p.with_suffix(".npz").is_file())


def references(name):
    return np.load(FIXTURES / f"{name}.npz")


def normalized_input_checkpoints():
    """Checkpoints with fairseq's outputs for raw (loud and quiet) audio normalized
    by fairseq's own dataset code, and whether their task normalizes."""
    return [name for name in checkpoints() if "raw_quiet_0" in references(name)]


def raw_inputs(ref):
    """{(loudness, i): raw waveform} of a reference file."""
    found = {}
    for key in ref.files:
        if key.startswith("raw_"):
            _, loudness, i = key.split("_")
            found[(loudness, int(i))] = ref[key]
    return found


def hidden(ref, loudness, i):
    """fairseq's hidden states for raw_<loudness>_<i>, numbered as transformers'."""
    states, j = [], 0
    while f"hidden_{loudness}_{i}_{j}" in ref.files:
        states.append(ref[f"hidden_{loudness}_{i}_{j}"][0])
        j += 1
    return states
