"""Bad arguments and inputs for the frontend tools (frontend).
Shared bad inputs and checks: tests/bad_input.py."""

import os

import pytest

from bad_input import bad_arguments, check_refused
from conftest import tool


@pytest.mark.parametrize(
    "command, message",
    [
        (["frontend.make_tiny_models", "O2", "--seed", "99999999999999999999"], "--seed"),
        (["frontend.make_tiny_models", "O2", "--seed", "-1"], "--seed -1"),
    ],
)
def test_bad_arguments(tmp_path, command, message):
    bad_arguments(tmp_path, command, message)


def test_tiny_models_never_replace_a_foreign_file(tmp_path):
    (tmp_path / "tiny-hubert-base-fairseq-ckpt.pt").write_text("my checkpoint")
    proc = tool("frontend.make_tiny_models", tmp_path, check=False)
    check_refused(proc, tmp_path / "tiny-hubert-base-fairseq-ckpt.pt")
    assert sorted(os.listdir(tmp_path)) == ["tiny-hubert-base-fairseq-ckpt.pt"]  # nothing made
    assert (tmp_path / "tiny-hubert-base-fairseq-ckpt.pt").read_text() == "my checkpoint"
