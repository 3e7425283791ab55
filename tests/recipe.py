"""A throw-away recipe folder for end-to-end tests: the shared driver, the mini
recipe's data preparation, tiny configs, and a few utterances of the mini corpus."""

import tarfile
from pathlib import Path

from aishell_corpus import AishellCorpus
from conftest import ROOT, run

MINI = ROOT / "egs2/mini_zh/asr1"
MINI_CORPUS = MINI / "corpus/data_aishell"


def mini_subset(root, per_speaker):
    """A corpus with the first `per_speaker[spk]` utterances of some mini-corpus speakers."""
    texts = dict(
        line.split(" ", 1)
        for line in (MINI_CORPUS / "transcript/aishell_transcript_v0.8.txt")
        .read_text("utf-8")
        .splitlines()
    )
    corpus = AishellCorpus(root)
    for number, (spk, count) in enumerate(per_speaker.items()):
        with tarfile.open(MINI_CORPUS / f"wav/{spk}.tar.gz") as tar:
            members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
            for member in members[:count]:
                split, _, name = member.name.split("/")
                utt = name[: -len(".wav")]
                corpus.add(
                    split,
                    spk,
                    utt,
                    texts[utt],
                    audio=tar.extractfile(member).read(),
                    packed=number == 0,
                )  # one speaker stays packed
    return corpus.write()


def make_recipe(folder, corpus, recipe="mini_zh", corpus_variable="MINI_ZH"):
    """Recipe folder with the shared pieces, the data preparation of egs2/<recipe>
    and the tiny test configs; returns (folder, environment)."""
    folder = Path(folder)
    (folder / "local").mkdir(parents=True)
    for name in ("path.sh", "db.sh", "cmd.sh"):
        (folder / name).symlink_to(ROOT / name)
    (folder / "asr.sh").symlink_to(ROOT / "local/asr.sh")
    (folder / "local/data.sh").symlink_to(ROOT / f"egs2/{recipe}/asr1/local/data.sh")
    (folder / "conf").symlink_to(ROOT / "tests/conf")
    return folder, {corpus_variable: str(corpus)}


# The options of the tiny test recipe; a test changes or adds some by keyword.
DRIVER_OPTIONS = {
    "train_set": "train",
    "valid_set": "dev",
    "test_sets": "dev test",
    "speed_perturb_factors": "0.9 1.0 1.1",
    "asr_config": "conf/train_asr_tiny.yaml",
    "lm_config": "conf/train_lm_tiny.yaml",
    "inference_config": "conf/decode_tiny.yaml",
    "inference_asr_model": "valid.acc.ave_2best.pth",
    "nj": 2,
    "inference_nj": 2,
}


def driver_command(**options):
    """./asr.sh with the test recipe's options, `options` (name=value) changed or added."""
    merged = {**DRIVER_OPTIONS, **options}
    return ["./asr.sh"] + [
        word for name, value in merged.items() for word in (f"--{name}", str(value))
    ]


def asr_sh(folder, env, check=True, **options):
    """Run the driver in a test recipe folder; the CompletedProcess."""
    return run(driver_command(**options), cwd=folder, check=check, **env)
