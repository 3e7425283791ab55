"""Every stage of the shared driver on a few utterances with tiny models."""

import re
import shutil
import zipfile

import pytest
import torch

from conftest import ROOT
from fileio.kaldi_table import read_table
from local.report.results import sum_avg
from recipe import asr_sh


def espnet_lm_log_prob(lm_exp, text):
    """log P(text <eos>) under ESPnet's LM, summed over its step-by-step scores."""
    import local.runtime.espnet_bin  # noqa: F401  (before espnet2)

    # isort: split
    from espnet2.tasks.lm import LMTask

    model, args = LMTask.build_model_from_file(
        lm_exp / "config.yaml", lm_exp / "valid.loss.ave.pth", "cpu"
    )
    model.eval()
    eos = len(args.token_list) - 1
    tokens = [args.token_list.index(c) for c in text] + [eos]
    total, state, prefix = 0.0, None, [eos]  # <sos> and <eos> share the last id
    with torch.no_grad():
        for token in tokens:
            log_probs, state = model.lm.score(torch.tensor(prefix), state, None)
            total += float(log_probs[token])
            prefix.append(token)
    return total


pytest_plugins = ["slurm_cluster"]


def test_all_stages_produce_their_outputs(finished_recipe):
    folder, _, proc = finished_recipe
    for stage in range(1, 11):
        assert f"Stage {stage}:" in proc.stderr
    assert len(read_table(folder / "dump/raw/train_sp/wav.scp")) == 48 * 3
    assert read_table(folder / "data/train_sp/utt2spk")["sp0.9-MZH000S0001W0001"] == "sp0.9-S0001"
    exp = folder / "exp/asr_train_asr_tiny_sp"
    decode = exp / "decode_tiny_lm_train_lm_tiny_valid.acc.ave_2best"
    for dset, n in (("dev", 6), ("test", 6)):
        assert len(read_table(decode / dset / "text", allow_empty_value=True)) == n
        result = (decode / dset / "score_cer/result.txt").read_text()
        assert "Sum/Avg" in result and "DUMP OF SYSTEM ALIGNMENT STRUCTURE" in result
    results = (exp / "RESULTS.md").read_text()
    for needle in (
        "torch: 2.8.0",
        "espnet: 202511",
        "- git:",
        "./asr.sh --train_set train",
        "|dev|6|",
        "|test|6|",
        "LM perplexity on dev",
        "|dev|pinyin without tones|6|",  # stage 8's pinyin.txt, beside the CER
        "## Training\n\n```sh\n./asr.sh --train_set train",
    ):
        assert needle in results, needle
    assert not list(exp.glob("decode_decode_*"))  # named as ESPnet names it
    summary = (folder / "exp/summary.md").read_text()
    assert "| experiment | decoding | dev | test |".replace(" ", "") in summary.replace(" ", "")
    assert "train_asr_tiny_sp" in summary
    with zipfile.ZipFile(exp / "packed/asr_train_asr_tiny_sp.zip") as packed:
        names = packed.namelist()
    assert any(n.endswith("valid.acc.ave_2best.pth") for n in names)
    assert any(n.endswith("RESULTS.md") for n in names)
    for log in (
        "exp/log/data_prep.log",
        "exp/log/dump_train_sp/dump.1.log",
        "exp/lm_train_lm_tiny/log/train.log",
        "exp/asr_train_asr_tiny_sp/log/train.log",
        f"{decode.relative_to(folder)}/test/log/inference.2.log",
    ):
        assert (folder / log).is_file(), log


def test_rerun_skips_finished_stages(finished_recipe):
    folder, env, _ = finished_recipe
    dumped = folder / "dump/raw/train_sp/wav.scp"
    before = dumped.stat().st_mtime_ns
    logs = sorted((folder / "exp").rglob("*.log"))
    log_times = [log.stat().st_mtime_ns for log in logs]
    proc = asr_sh(folder, env, stop_stage=7)
    done = re.findall(r"already done \((\S+)\)", proc.stderr)
    assert done == [
        "data/.done",
        "data/train_sp/.done",
        "dump/raw/train_sp/.done",
        "dump/raw/dev/.done",
        "dump/raw/test/.done",
        "data/zh_token_list/char/.done",
        "exp/lm_train_lm_tiny/.done",
        "exp/asr_train_asr_tiny_sp/.done",
        "exp/asr_train_asr_tiny_sp/decode_tiny_lm_train_lm_tiny_valid.acc.ave_2best/dev/.done",
        "exp/asr_train_asr_tiny_sp/decode_tiny_lm_train_lm_tiny_valid.acc.ave_2best/test/.done",
    ]
    assert not re.search(r"\) \+ ", proc.stderr), "a command was run"  # (asr.sh:N) + cmd
    assert dumped.stat().st_mtime_ns == before
    assert sorted((folder / "exp").rglob("*.log")) == logs  # no job started, none rewritten
    assert [log.stat().st_mtime_ns for log in logs] == log_times


def test_failing_stage_stops_with_its_log(finished_recipe):
    folder, env, _ = finished_recipe
    proc = asr_sh(
        folder,
        env,
        check=False,
        stage=6,
        stop_stage=7,
        asr_tag="broken",
        asr_stats_dir="exp/asr_train_asr_tiny_sp/stats",
        asr_args="--no_such_option 1",
    )
    assert proc.returncode != 0
    assert "exp/asr_broken/log/train.log" in proc.stderr
    assert "Stage 7" not in proc.stderr


@pytest.mark.slow  # stages 6-10 again with the SSL frontend
def test_ssl_frontend_from_a_fairseq_checkpoint(ssl_experiment):
    folder, _, proc = ssl_experiment
    converted = folder / "exp/ssl_models/tiny-hubert-large-fairseq-ckpt"
    assert (converted / "config.json").exists() and (converted / "fairseq_conversion.json").exists()
    exp = folder / "exp/asr_train_asr_tiny_ssl_sp"
    assert f"model_path: {converted}" in (exp / "config.yaml").read_text()
    weights = [
        float(line.split()[2]) for line in (exp / "layer_weights.txt").read_text().splitlines()
    ]
    # the softmax of the weighted sum's parameters in the decoded model, layer by layer
    state = torch.load(exp / "valid.acc.ave_2best.pth", map_location="cpu", weights_only=True)
    stored = torch.softmax(state["frontend.featurizer.weights"].float(), dim=-1).tolist()
    assert len(stored) == 5  # 4 transformer layers + their input
    assert weights == pytest.approx(stored, abs=5e-5)
    assert (exp / "layer_weights.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "![layer weights](layer_weights.png)" in (exp / "RESULTS.md").read_text()
    summary = (folder / "exp/summary.md").read_text()
    assert "train_asr_tiny_ssl_sp" in summary and "train_asr_tiny_sp" in summary
    assert "layer weights:" in proc.stderr


@pytest.mark.slow  # stage 11 decodes again
def test_lm_rescoring_stage_picks_the_best_total_score(finished_recipe):
    folder, env, _ = finished_recipe
    proc = asr_sh(
        folder, env, stage=11, stop_stage=11, nbest=3, test_sets="test", rescore_lm_weight="0.7"
    )
    exp = folder / "exp/asr_train_asr_tiny_sp"
    tag = "decode_tiny_nbest3_rescore_lm_train_lm_tiny_valid.acc.ave_2best"
    assert f"weight 0.7 ({tag})" in proc.stderr
    rescored = exp / tag / "test"
    hyps = {}
    for line in (rescored / "nbest").read_text().splitlines()[1:]:
        utt, rank, score, lm_score, *text = line.split(" ")
        hyps.setdefault(utt, []).append((int(rank), float(score), float(lm_score), "".join(text)))
    assert len(hyps) == 6 and max(len(h) for h in hyps.values()) == 3
    chosen = read_table(rescored / "text", allow_empty_value=True)
    for utt, candidates in hyps.items():
        assert [rank for rank, *_ in candidates] == list(range(1, len(candidates) + 1))
        # the pick, recomputed from the file's own numbers: score + weight x LM log prob
        best = max(candidates, key=lambda c: c[1] + 0.7 * c[2])
        assert chosen[utt] == best[3]
    # one LM score, recomputed token by token with ESPnet's LM as the beam search uses it
    utt, (_, _, lm_score, text) = next((u, c[0]) for u, c in hyps.items() if c[0][3])
    assert lm_score == pytest.approx(
        espnet_lm_log_prob(folder / "exp/lm_train_lm_tiny", text), abs=2e-3
    )
    assert "Sum/Avg" in (rescored / "score_cer/result.txt").read_text()
    results = (exp / "RESULTS.md").read_text()
    assert f"## {tag}" in results
    assert "## decode_tiny_lm_train_lm_tiny_valid.acc.ave_2best" in results  # shallow fusion


@pytest.mark.slow  # stage 12 decodes a grid
def test_tuning_stage_searches_the_grid_on_dev(finished_recipe):
    folder, env, _ = finished_recipe
    proc = asr_sh(
        folder,
        env,
        stage=12,
        stop_stage=12,
        tune_beams=2,
        tune_ctc_weights="0.3",
        tune_lm_weights="0.0 0.5",
        test_sets="test",
    )
    exp = folder / "exp/asr_train_asr_tiny_sp"
    tune = exp / "tune_decode_tiny_lm_train_lm_tiny_valid.acc.ave_2best"
    settings = sorted(p.name for p in tune.glob("beam*"))
    assert settings == ["beam2_ctc0.3_lm0.0", "beam2_ctc0.3_lm0.5"]
    grid = (tune / "grid.md").read_text()
    assert "|beam|ctc weight|lm 0.0|lm 0.5|" in grid and grid.count("**") == 2
    assert (tune / "grid.png").read_bytes()[:4] == b"\x89PNG"
    beam, ctc, lm, cer = (tune / "best").read_text().split()
    scored = {s: float(sum_avg(tune / s / "dev/score_cer/result.txt")[6]) for s in settings}
    assert float(cer) == min(scored.values())
    tuned = (
        exp / f"decode_tuned_on_dev_beam{beam}_ctc{ctc}_lm{lm}_lm_train_lm_tiny_valid.acc.ave_2best"
    )
    assert "Sum/Avg" in (tuned / "test/score_cer/result.txt").read_text()
    assert "### Tuning grid" in (exp / "RESULTS.md").read_text()
    assert "best on dev" in proc.stderr


@pytest.mark.slow  # a Slurm cluster
def test_decoding_through_slurm_gives_the_local_hypotheses(
    finished_recipe, slurm_cluster, tmp_path
):
    folder, env, _ = finished_recipe
    config = tmp_path / "decode_slurm.yaml"
    shutil.copy(ROOT / "tests/conf/decode_tiny.yaml", config)
    controller_log = slurm_cluster.logs / "slurmctld.log"
    submitted_before = controller_log.read_text(errors="replace").count("submit_batch_job")
    proc = asr_sh(
        folder,
        {**env, **slurm_cluster.env, "cmd_backend": "slurm"},
        stage=7,
        stop_stage=7,
        inference_config=str(config),
        test_sets="test",
    )
    assert "python -m local.runtime.jobs --backend slurm JOB=1:2" in proc.stderr
    submitted = controller_log.read_text(errors="replace").count("submit_batch_job")
    assert submitted - submitted_before == 1  # one array job per test set
    exp = folder / "exp/asr_train_asr_tiny_sp"
    for dset in ("test",):
        local = read_table(
            exp / f"decode_tiny_lm_train_lm_tiny_valid.acc.ave_2best/{dset}/text",
            allow_empty_value=True,
        )
        slurm = read_table(
            exp / f"decode_slurm_lm_train_lm_tiny_valid.acc.ave_2best/{dset}/text",
            allow_empty_value=True,
        )
        assert slurm == local and len(slurm) == 6
        assert (
            exp / f"decode_slurm_lm_train_lm_tiny_valid.acc.ave_2best/{dset}/log/inference.2.log"
        ).is_file()


@pytest.mark.slow  # decodes again with ESPnet's search
def test_batched_decoding_gives_espnets_hypotheses(finished_recipe, tmp_path):
    """Stage 7 decodes with local.decode.batch_inference by default; espnet2.bin.asr_inference
    (--inference_impl espnet) must find the same hypotheses with the same scores."""
    folder, env, _ = finished_recipe
    config = tmp_path / "decode_espnet.yaml"
    shutil.copy(ROOT / "tests/conf/decode_tiny.yaml", config)
    proc = asr_sh(
        folder,
        env,
        stage=7,
        stop_stage=7,
        inference_config=str(config),
        inference_impl="espnet",
        test_sets="test",
    )
    assert "local.runtime.espnet_bin asr_inference --batch_size 1" in proc.stderr
    exp = folder / "exp/asr_train_asr_tiny_sp"
    batched_dir = exp / "decode_tiny_lm_train_lm_tiny_valid.acc.ave_2best"
    espnet_dir = exp / "decode_espnet_lm_train_lm_tiny_valid.acc.ave_2best"
    for dset in ("test",):
        assert (
            "batched decoding: 3 utterances"
            in (batched_dir / dset / "log/inference.1.log").read_text()
        )
        assert (
            "BatchBeamSearch implementation is selected"
            in (espnet_dir / dset / "log/inference.1.log").read_text()
        )
        batched = read_table(batched_dir / dset / "token_int", allow_empty_value=True)
        espnet = read_table(espnet_dir / dset / "token_int", allow_empty_value=True)
        assert batched == espnet and len(batched) == 6
        batched_scores = {k: float(v) for k, v in read_table(batched_dir / dset / "score").items()}
        espnet_scores = {
            k: float(v.removeprefix("tensor(").removesuffix(")"))
            for k, v in read_table(espnet_dir / dset / "score").items()
        }
        assert batched_scores == pytest.approx(espnet_scores, abs=1e-3)


def train_one_epoch_through_slurm(finished_recipe, slurm_cluster, asr_tag, **options):
    """Stage 6 alone, one epoch, on the test cluster, reusing the finished run's statistics."""
    folder, env, _ = finished_recipe
    return asr_sh(
        folder,
        {**env, **slurm_cluster.env, "cmd_backend": "slurm"},
        stage=6,
        stop_stage=6,
        asr_tag=asr_tag,
        asr_stats_dir="exp/asr_train_asr_tiny_sp/stats",
        asr_args="--max_epoch 1",
        **options,
    )


@pytest.mark.slow  # a Slurm cluster
def test_training_in_two_gloo_processes_through_slurm(finished_recipe, slurm_cluster):
    """--cpu_procs 2: one epoch of the tiny config in two DDP processes (gloo), started
    by srun as two tasks of one Slurm job, ranks from Slurm's environment: the same
    path as --num_nodes on a GPU cluster."""
    proc = train_one_epoch_through_slurm(finished_recipe, slurm_cluster, "tiny_gloo", cpu_procs=2)
    assert "--num_nodes 1 --tasks_per_node 2" in proc.stderr
    assert (
        "srun --export=ALL python -m local.runtime.slurm_rank "
        "python -m local.runtime.espnet_bin asr_train" in proc.stderr
    )
    exp = finished_recipe[0] / "exp/asr_tiny_gloo"
    log = (exp / "log/train.log").read_text()
    # ESPnet's log prefix [host:rank/world_size] (only rank 0 logs below ERROR); rank 0
    # gets past the rendezvous of a world of 2 only if rank 1 joined, and srun exits 0
    # only if both tasks did
    assert ":0/2]" in log, log[-3000:]
    assert (exp / "1epoch.pth").is_file() and (exp / "valid.acc.best.pth").exists()


@pytest.mark.slow  # a Slurm cluster
def test_training_on_two_nodes_through_slurm(finished_recipe, slurm_cluster):
    """--num_nodes 2 (one gloo process per node): one Slurm job over both nodes of the
    test cluster, one srun task on each, the rendezvous through the shared exp/."""
    proc = train_one_epoch_through_slurm(
        finished_recipe, slurm_cluster, "tiny_two_nodes", num_nodes=2
    )
    assert "--num_nodes 2 --tasks_per_node 1" in proc.stderr
    exp = finished_recipe[0] / "exp/asr_tiny_two_nodes"
    log = (exp / "log/train.log").read_text()
    assert "rank 0 of 2 on node node1" in log and "rank 1 of 2 on node node2" in log, log[-3000:]
    assert ":0/2]" in log, log[-3000:]
    assert (exp / "1epoch.pth").is_file() and (exp / "valid.acc.best.pth").exists()


def test_several_nodes_need_slurm(finished_recipe):
    folder, env, _ = finished_recipe
    proc = asr_sh(
        folder, env, check=False, stage=6, stop_stage=6, asr_tag="tiny_nodes", ngpu=1, num_nodes=2
    )
    assert proc.returncode != 0 and "cmd_backend=slurm" in proc.stderr
