"""Stage 10 of an SSL-frontend experiment: a self-contained pack that decodes, from
any folder, without the SSL model folder or exp/, exactly as stage 7 did; and the
sampled statistics of stage 6."""

import os
import shutil
import zipfile

import pytest
import yaml

from conftest import run

EXP = "exp/asr_train_asr_tiny_ssl_sp"
DECODE = "decode_tiny_lm_train_lm_tiny_valid.acc.ave_2best"


@pytest.mark.slow  # the SSL experiment (stages 6-10 again)
def test_stage6_statistics_from_a_sample_and_shapes_without_a_model(ssl_experiment):
    folder, _, proc = ssl_experiment
    stats = folder / EXP / "stats"
    assert "feature statistics from" in proc.stderr and "--ssl_stats_utts" in proc.stderr
    assert "local.data.shape_stats" in proc.stderr
    train = (folder / "dump/raw/train_sp/wav.scp").read_text().splitlines()
    shapes = (stats / "train/speech_shape").read_text().splitlines()
    assert len(shapes) == len(train)  # every training utterance, from utt2num_samples
    assert (stats / "train/feats_stats.npz").is_file()
    assert (stats / "train/text_shape.char").read_text().splitlines()[0].count(",") == 1


@pytest.mark.slow  # the SSL experiment (stages 6-10 again)
def test_pack_is_self_contained_and_decodes_as_stage_7(ssl_experiment, tmp_path):
    folder, env, _ = ssl_experiment
    exp = folder / EXP
    archive = exp / "packed/asr_train_asr_tiny_ssl_sp.zip"
    with zipfile.ZipFile(archive) as packed:
        names = packed.namelist()
        texts = {
            n: packed.read(n).decode("utf-8")
            for n in names
            if n.endswith((".yaml", ".json", ".md", ".txt"))
        }
    assert any(n.endswith("ssl_upstream/config.json") for n in names)
    assert any(n.endswith("ssl_upstream/preprocessor_config.json") for n in names)
    assert not any(n.endswith((".safetensors", ".bin")) for n in names)  # weights: in the .pth
    assert not any(n.startswith("/") for n in names)
    models = os.path.dirname(env["TINY_HUBERT_LARGE"])
    for name, text in texts.items():
        assert str(folder) not in text and models not in text, name
    for name, text in texts.items():
        if name.endswith(".yaml"):
            for value in leaves(yaml.safe_load(text)):
                assert not (isinstance(value, str) and value.startswith("/")), (name, value)

    # unpacked elsewhere, the SSL models and exp/ out of reach
    from espnet2.main_funcs.pack_funcs import unpack

    elsewhere = tmp_path / "somewhere else"
    shutil.copy(archive, tmp_path / "model.zip")
    files = unpack(tmp_path / "model.zip", elsewhere)
    hidden = [(folder / "exp", folder / "exp.hidden"), (models, models + ".hidden")]
    for path, away in hidden:
        os.rename(path, away)
    try:
        proc = run(
            ["python", "-m", "local.decode.batch_inference", "--batch_size", "16", "--ngpu", "0"]
            + ["--data_path_and_name_and_type", "dump/raw/test/wav.scp,speech,sound"]
            + ["--asr_train_config", files["asr_train_config"]]
            + ["--asr_model_file", files["asr_model_file"]]
            + ["--lm_train_config", files["lm_train_config"], "--lm_file", files["lm_file"]]
            + ["--config", str(next(elsewhere.rglob("decode_tiny.yaml")))]
            + ["--output_dir", str(tmp_path / "decoded")],
            cwd=folder,
            check=False,
            **env,
        )
    finally:
        for path, away in hidden:
            os.rename(away, path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ours = (tmp_path / "decoded/1best_recog/text").read_text()
    stage7 = (exp / DECODE / "test/text").read_text()
    assert sorted(ours.splitlines()) == sorted(stage7.splitlines())


def leaves(value):
    if isinstance(value, dict):
        for v in value.values():
            yield from leaves(v)
    elif isinstance(value, list):
        for v in value:
            yield from leaves(v)
    else:
        yield value
