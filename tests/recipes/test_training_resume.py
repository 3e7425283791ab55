"""Training interrupted like a Ctrl-C resumes where it stopped: the driver's rerun
continues from the last finished epoch (ESPnet's checkpoint.pth) instead of starting
again, and only a finished training is marked done. For the LM (stage 5) and the ASR
model (stage 6), on the finished mini experiment's statistics."""

import os
import re
import signal
import subprocess
import time

import pytest

from conftest import project_env, run
from recipe import driver_command

# the stage of each model, the options of a new experiment reusing the finished
# experiment's statistics, its folder
STAGES = {
    "lm": (
        5,
        dict(lm_tag="resumed", lm_stats_dir="exp/lm_train_lm_tiny/stats", lm_args="--max_epoch 8"),
        "exp/lm_resumed",
    ),
    "asr": (
        6,
        dict(
            asr_tag="resumed",
            asr_stats_dir="exp/asr_train_asr_tiny_sp/stats",
            asr_args="--max_epoch 3",
        ),
        "exp/asr_resumed",
    ),
}

pytestmark = pytest.mark.slow  # trains the recipe again, interrupted and resumed


@pytest.mark.parametrize("model", sorted(STAGES))
def test_interrupted_training_resumes_after_its_last_epoch(finished_recipe, model):
    folder, env, _ = finished_recipe
    stage, options, exp = STAGES[model]
    exp = folder / exp
    command = driver_command(stage=stage, stop_stage=stage, **options)
    driver = subprocess.Popen(
        command,
        cwd=folder,
        env=project_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.time() + 300
    while not (exp / "latest.pth").is_symlink():  # made once an epoch's files are written
        assert driver.poll() is None, driver.stderr.read().decode()[-3000:]
        assert time.time() < deadline, "no epoch finished in 5 minutes"
        time.sleep(0.05)
    os.killpg(driver.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole group
    driver.wait(timeout=60)
    assert driver.returncode != 0
    assert not (exp / ".done").exists()
    finished = int(os.readlink(exp / "latest.pth").removesuffix("epoch.pth"))
    last = int(options[f"{model}_args"].split()[-1])
    assert finished < last  # interrupted

    proc = run(command, cwd=folder, **env)
    log = (exp / "log/train.log").read_text()
    assert re.search(r"The training was resumed using \S*checkpoint\.pth", log), log[-3000:]
    epochs = re.findall(r"(\d+)epoch results:", log)  # this run's log: the epochs it trained
    assert epochs == [str(e) for e in range(finished + 1, last + 1)], log[-3000:]
    assert (exp / ".done").exists()
    assert f"Stage {stage}:" in proc.stderr
