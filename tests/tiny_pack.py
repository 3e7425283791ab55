"""Packed random models and the mini test utterances for the transcription tests.

make_pack(folder) writes a recipe-like folder (exp/, data/, conf/) holding a
randomly initialised ASR model of tests/conf/train_asr_tiny.yaml (FBank, global
MVN, conformer + transformer decoder; token list: the mini corpus's characters),
and packs it as stage 10 does (espnet2's pack, names relative to the recipe
folder, the decode config and the MVN statistics as options): folder/packed.zip.
"""

import contextlib
import sys
import tarfile
from pathlib import Path

import numpy as np
import yaml

from conftest import ROOT
from recipe import MINI_CORPUS

MINI_TEXT = MINI_CORPUS / "transcript/aishell_transcript_v0.8.txt"
DECODE = {"beam_size": 3, "ctc_weight": 0.5, "penalty": 0.0, "maxlenratio": 0.0, "nbest": 1}


def mini_texts():
    """{utterance id: transcript without spaces} of the mini corpus."""
    lines = MINI_TEXT.read_text(encoding="utf-8").splitlines()
    return {k: v.replace(" ", "") for k, v in (line.split(" ", 1) for line in lines)}


def mini_test_utterances():
    """[(utterance id, 16 kHz samples)] of the mini corpus's test set (espeak-ng,
    silence trimmed), in id order."""
    import soundfile

    out = []
    for archive in sorted((MINI_CORPUS / "wav").glob("*.tar.gz")):
        with tarfile.open(archive) as tar:
            for member in sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name):
                if member.name.startswith("test/"):
                    samples, rate = soundfile.read(tar.extractfile(member), dtype="float32")
                    assert rate == 16000
                    out.append((Path(member.name).stem, samples))
    return sorted(out)


def make_pack(folder, seed=0, decode=DECODE):
    """Path of the pack (folder/packed.zip) of a random tiny model."""
    import torch
    from espnet2.main_funcs.pack_funcs import pack
    from espnet2.tasks.asr import ASRTask
    from espnet2.utils.yaml_no_alias_safe_dump import yaml_no_alias_safe_dump

    recipe = Path(folder) / "recipe"
    (recipe / "data/token_list").mkdir(parents=True)
    (recipe / "exp/asr_stats/train").mkdir(parents=True)
    (recipe / "exp/asr_tiny").mkdir(parents=True)
    (recipe / "conf").mkdir()
    chars = sorted({c for text in mini_texts().values() for c in text})
    (recipe / "data/token_list/tokens.txt").write_text(
        "\n".join(["<blank>", "<unk>", *chars, "<sos/eos>"]) + "\n", encoding="utf-8"
    )
    stats = recipe / "exp/asr_stats/train/feats_stats.npz"
    np.savez(stats, count=np.array(1), sum=np.zeros(40), sum_square=np.ones(40))
    (recipe / "conf/decode.yaml").write_text(yaml.safe_dump(decode), encoding="utf-8")
    with contextlib.chdir(recipe), contextlib.redirect_stdout(sys.stderr):
        args = ASRTask.get_parser().parse_args(
            [
                "--config",
                str(ROOT / "tests/conf/train_asr_tiny.yaml"),
                "--token_list",
                "data/token_list/tokens.txt",
                "--token_type",
                "char",
                "--output_dir",
                "exp/asr_tiny",
                "--normalize_conf",
                "stats_file=exp/asr_stats/train/feats_stats.npz",
            ]
        )
        torch.manual_seed(seed)
        model = ASRTask.build_model(args)
        with open("exp/asr_tiny/config.yaml", "w", encoding="utf-8") as f:
            yaml_no_alias_safe_dump(vars(args), f, indent=4, sort_keys=False)
        torch.save(model.state_dict(), "exp/asr_tiny/valid.acc.ave.pth")
        pack(
            files={"asr_model_file": "exp/asr_tiny/valid.acc.ave.pth"},
            yaml_files={"asr_train_config": "exp/asr_tiny/config.yaml"},
            outpath="../packed.zip",
            option=["exp/asr_stats/train/feats_stats.npz", "conf/decode.yaml"],
        )
    return Path(folder) / "packed.zip"
