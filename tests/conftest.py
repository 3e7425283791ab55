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


def tool(module, *args, check=True, cwd=None, **env):
    """python -m MODULE ARGS... (any argument turned into a string) with the project's
    environment; the CompletedProcess."""
    return run(["python", "-m", module, *map(str, args)], cwd=cwd, check=check, **env)


@pytest.fixture(scope="session")
def sclite():
    """The NIST scorer from Debian's sctk package; CI installs it, so it must be there."""
    exe = shutil.which("sctk")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("sctk is not installed (CI must install Debian's sctk)")
        pytest.skip("sctk not installed (apt-get install sctk)")
    return [exe, "sclite"]


# --- a packed random model and its Transcriber, built once per test session --------


@pytest.fixture(scope="session")
def pack(tmp_path_factory):
    """The pack of a random tiny model, as stage 10 packs (tiny_pack.make_pack)."""
    from tiny_pack import make_pack

    return make_pack(tmp_path_factory.mktemp("pack"))


@pytest.fixture(scope="session")
def asr(pack):
    """A Transcriber of that pack (shared: tests that change one make their own)."""
    from zh_ssl_asr import Transcriber

    return Transcriber.from_pretrained(pack)


# --- finished mini experiments, built once per test session ----------------------


@pytest.fixture(scope="session")
def finished_recipe(tmp_path_factory):
    """Stages 1-10 of the shared driver with the tiny FBank config on 60 utterances
    of the mini corpus (48 training utterances x 3 speeds): (folder, env, process)."""
    from recipe import asr_sh, make_recipe, mini_subset

    tmp = tmp_path_factory.mktemp("e2e")
    corpus = mini_subset(tmp / "corpus", {"S0001": 24, "S0002": 24, "S0010": 6, "S0012": 6})
    folder, env = make_recipe(tmp / "asr1", corpus)
    proc = asr_sh(folder, env, check=False)
    assert proc.returncode == 0, proc.stderr[-5000:]
    return folder, env, proc


@pytest.fixture(scope="session")
def ssl_experiment(finished_recipe, tmp_path_factory):
    """Stages 6-10 of the tiny SSL config (a tiny HuBERT-LARGE-type fairseq
    checkpoint, converted by the driver) beside the FBank experiment:
    (folder, env, process); the experiment is exp/asr_train_asr_tiny_ssl_sp."""
    from recipe import asr_sh

    folder, env, _ = finished_recipe
    models = tmp_path_factory.mktemp("tiny_ssl")
    run(["python", "-m", "frontend.make_tiny_models", str(models)])
    env = dict(env, TINY_HUBERT_LARGE=str(models / "tiny-hubert-large-fairseq-ckpt.pt"))
    proc = asr_sh(folder, env, stage=6, stop_stage=10, asr_config="conf/train_asr_tiny_ssl.yaml")
    return folder, env, proc
