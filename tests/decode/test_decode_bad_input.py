"""Bad arguments for the decoding tools and the transcription command (local.decode).
Shared bad inputs and checks: tests/bad_input.py."""

import pytest

from bad_input import bad_arguments
from conftest import tool


@pytest.mark.parametrize(
    "command, message",
    [
        (["local.decode.merge_decode", "--nj", "2", "L", "O"], "keys.1.scp"),
        (["local.decode.rtf", "O", "T", "--seconds", "1", "--jobs", "1"], "text"),
        (["local.decode.merge_decode", "--nj", "0", "L", "O"], "--nj 0"),
        (["local.decode.merge_decode", "--nj", "1", "T", "O"], "T/keys.1.scp: no such file"),
        (["local.transcribe", "M", "a.wav", "--max_seconds", "nan"], "--max_seconds nan"),
        (["local.transcribe", "M", "a.wav", "--max_seconds", "inf"], "--max_seconds inf"),
        (
            ["local.transcribe", "M", "a.wav", "--max_seconds", "1"],
            "--max_seconds 1: must be at least 3",
        ),
        (["local.transcribe", "M", "a.wav", "--batch_size", "0"], "--batch_size"),
        (["local.transcribe", "M", "a.wav", "--output_dir", "T/x"], "T/x: cannot make"),
        (["local.transcribe", "M", "a.wav", "--output_dir", "T"], "T: exists and is not a"),
        (["local.transcribe", "M", "O.wav", "--output_dir", ".", "--force"], "O.txt: is a folder"),
    ],
)
def test_bad_arguments(tmp_path, command, message):
    bad_arguments(tmp_path, command, message)


def test_transcribe_leaves_no_output_folder_when_the_model_fails(tmp_path):
    proc = tool(
        "local.transcribe",
        "nowhere.zip",
        "a.wav",
        "--output_dir",
        "new/out",
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1 and "nowhere.zip: no such file" in proc.stderr
    assert not (tmp_path / "new/out").exists()
