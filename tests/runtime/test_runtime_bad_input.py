"""Bad arguments for the job runner and the espnet2 entry point (local.runtime).
Shared bad inputs and checks: tests/bad_input.py."""

import pytest

from bad_input import bad_arguments


@pytest.mark.parametrize(
    "command, message",
    [
        (["local.runtime.jobs", "JOB=1:2"], "need LOG and COMMAND"),
        (["local.runtime.jobs", "JOB=3:1", "x.log", "true"], "JOB=3:1"),
        (["local.runtime.espnet_bin", "no_such_entry"], "no entry point 'no_such_entry'"),
        (["local.runtime.jobs", "--max-jobs-run", "-1", "y.log", "true"], "--max-jobs-run"),
        (["local.runtime.jobs", "--num-threads", "0", "y.log", "true"], "--num-threads"),
        (["local.runtime.jobs", "JOB=1-4", "t.JOB.log", "echo"], "NAME=FIRST:LAST"),
        (["local.runtime.jobs", "JOB=1:", "t.JOB.log", "echo"], "NAME=FIRST:LAST"),
        (["local.runtime.jobs", "JOB=1:2", "same.log", "echo"], "every job would write"),
        (["local.runtime.jobs", "O", "echo"], "a file name is needed"),
        (["local.runtime.jobs", "JOB=1:2", "T/x.JOB.log", "echo"], "T/x.1.log': cannot make"),
        (["local.runtime.jobs", "JOB=1:2", "O.JOB", "echo"], "O.1': a file name is needed"),
    ],
)
def test_bad_arguments(tmp_path, command, message):
    bad_arguments(tmp_path, command, message)
