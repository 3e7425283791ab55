"""Shared test helpers: the project root on sys.path and small fixtures."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def project_env(**extra):
    """Environment of a shell that sourced path.sh."""
    env = dict(os.environ)
    venv = ROOT / ".venv"
    env.update(
        PATH=f"{venv / 'bin'}:{env['PATH']}",
        VIRTUAL_ENV=str(venv),
        MAIN_ROOT=str(ROOT),
        PYTHONPATH=str(ROOT),
        PYTHONSAFEPATH="1",
        LC_ALL="C.UTF-8",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def run(cmd, cwd=None, check=True, **env):
    """Run a command with the project environment; return the CompletedProcess."""
    proc = subprocess.run(cmd, cwd=cwd, env=project_env(**env), capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def sclite():
    """The NIST scorer from Debian's sctk package; CI installs it, so it must be there."""
    exe = shutil.which("sctk")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("sctk is not installed (CI must install Debian's sctk)")
        pytest.skip("sctk not installed (apt-get install sctk)")
    return [exe, "sclite"]
