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
from recipe import DRIVER_ARGS

STAGES = {
    # stage, the option naming the experiment, its folder, the statistics it may reuse
    "lm": (
        "5",
        [
            "--lm_tag",
            "resumed",
            "--lm_stats_dir",
            "exp/lm_train_lm_tiny/stats",
            "--lm_args",
            "--max_epoch 3",
        ],
        "exp/lm_resumed",
    ),
    "asr": (
        "6",
        [
            "--asr_tag",
            "resumed",
            "--asr_stats_dir",
            "exp/asr_train_asr_tiny_sp/stats",
            "--asr_args",
            "--max_epoch 3",
        ],
        "exp/asr_resumed",
    ),
}


@pytest.mark.parametrize("model", sorted(STAGES))
def test_interrupted_training_resumes_after_its_last_epoch(finished_recipe, model):
    folder, env, _ = finished_recipe
    stage, options, exp = STAGES[model]
    exp = folder / exp
    command = [
        "./asr.sh",
        *DRIVER_ARGS,
        "--speed_perturb_factors",
        "0.9 1.0 1.1",
        "--stage",
        stage,
        "--stop_stage",
        stage,
        *options,
    ]
    driver = subprocess.Popen(
        command,
        cwd=folder,
        env=project_env(**env),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.time() + 300
    while not (exp / "1epoch.pth").exists():
        assert driver.poll() is None, driver.stderr.read().decode()[-3000:]
        assert time.time() < deadline, "no epoch finished in 5 minutes"
        time.sleep(0.2)
    time.sleep(1)  # the epoch's files are written (the second epoch takes longer)
    os.killpg(driver.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole group
    driver.wait(timeout=60)
    assert driver.returncode != 0
    assert not (exp / ".done").exists()
    assert not (exp / "3epoch.pth").exists()

    proc = run(command, cwd=folder, **env)
    log = (exp / "log/train.log").read_text()
    assert re.search(r"The training was resumed using \S*checkpoint\.pth", log), log[-3000:]
    epochs = re.findall(r"(\d+)epoch results:", log)  # this run's log: the epochs it trained
    assert epochs == ["2", "3"], log[-3000:]
    assert (exp / ".done").exists()
    assert "Stage " + stage in proc.stderr
