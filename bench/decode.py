"""Benchmark: our batched decoding against ESPnet's asr_inference, in one run.

    python bench/decode.py [--utts 100] [--batch_size 16] [--threads 1]

Model: the mini recipe's trained model and LM (egs2/mini_zh/asr1/exp, after
./run.sh), or, when there is none, random models of the same shape (config of
the mini recipe, token list of its corpus). Data: the mini test set as dumped by
the recipe, or read from the shipped corpus. Decoding: the mini recipe's
inference config (beam 10, CTC weight 1.0, LM weight 0.3) unless --config.

Both decoders load the same model in this process and decode the same
utterances, on CPU:
- espnet: espnet2.bin.asr_inference's Speech2Text, one utterance at a time, as
  its program does for every key (encoder, then BatchBeamSearch);
- ours: local.decode.batch_inference's BatchDecoder, --batch_size utterances searched
  together after per-utterance encoding.
Model loading and process start-up are not timed (the same for both programs).
Prints times, hypothesis agreement, both CERs; last line
`ratio=<our time / espnet time>` (goal <= 0.5, with >= 98 % equal hypotheses and
CERs within 0.1).
"""

import argparse
import logging
import os
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import kaldialign
import numpy as np
import soundfile
import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MINI = ROOT / "egs2/mini_zh/asr1"


def trained_model():
    asr, lm = MINI / "exp/asr_train_asr_fbank_sp", MINI / "exp/lm_train_lm"
    files = dict(
        asr_train_config=asr / "config.yaml",
        asr_model_file=asr / "valid.acc.ave.pth",
        lm_train_config=lm / "config.yaml",
        lm_file=lm / "valid.loss.ave.pth",
    )
    return files if all(p.exists() for p in files.values()) else None


def random_model(workdir, texts):
    """Randomly initialised ASR model and LM of the mini recipe's shape."""
    from espnet2.tasks.asr import ASRTask
    from espnet2.tasks.lm import LMTask
    from espnet2.utils.yaml_no_alias_safe_dump import yaml_no_alias_safe_dump

    torch.manual_seed(0)
    chars = sorted({c for text in texts for c in text})
    token_list = workdir / "tokens.txt"
    token_list.write_text(
        "\n".join(["<blank>", "<unk>", *chars, "<sos/eos>"]) + "\n", encoding="utf-8"
    )
    stats = workdir / "feats_stats.npz"
    np.savez(stats, count=np.array(1), sum=np.zeros(60), sum_square=np.ones(60))
    files = {}
    for name, task, config, extra in (
        ("asr", ASRTask, "train_asr_fbank.yaml", ["--normalize_conf", f"stats_file={stats}"]),
        ("lm", LMTask, "train_lm.yaml", []),
    ):
        args = task.get_parser().parse_args(
            [
                "--config",
                str(MINI / "conf" / config),
                "--token_list",
                str(token_list),
                "--token_type",
                "char",
                "--output_dir",
                str(workdir / name),
                *extra,
            ]
        )
        model = task.build_model(args)
        (workdir / name).mkdir()
        with open(workdir / name / "config.yaml", "w", encoding="utf-8") as f:
            yaml_no_alias_safe_dump(vars(args), f, indent=4, sort_keys=False)
        torch.save(model.state_dict(), workdir / name / "model.pth")
        files[f"{name}_train_config"] = workdir / name / "config.yaml"
        files[f"{name}_model_file" if name == "asr" else "lm_file"] = workdir / name / "model.pth"
    return files


def test_set(workdir):
    """[(key, samples)] and {key: text} of the mini test set."""
    dumped = MINI / "dump/raw/test"
    if (dumped / "wav.scp").exists() and (dumped / "text").exists():
        texts = dict(
            line.split(maxsplit=1) for line in (dumped / "text").read_text("utf-8").splitlines()
        )
        audio = [
            (key, soundfile.read(path, dtype="float32")[0])
            for key, path in (
                line.split(maxsplit=1) for line in (dumped / "wav.scp").read_text().splitlines()
            )
        ]
        return audio, texts
    corpus = MINI / "corpus/data_aishell"
    transcript = dict(
        line.split(" ", 1)
        for line in (corpus / "transcript/aishell_transcript_v0.8.txt")
        .read_text("utf-8")
        .splitlines()
    )
    audio, texts = [], {}
    for archive in sorted((corpus / "wav").glob("*.tar.gz")):
        with tarfile.open(archive) as tar:
            for member in sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name):
                if member.name.startswith("test/"):
                    key = Path(member.name).stem
                    audio.append((key, soundfile.read(tar.extractfile(member), dtype="float32")[0]))
                    texts[key] = transcript[key].replace(" ", "").strip()
    return audio, texts


def cer(hyps, texts):
    errors = sum(
        kaldialign.edit_distance(list(texts[k].replace(" ", "")), list(h))["total"]
        for k, h in hyps.items()
    )
    return 100.0 * errors / sum(len(texts[k].replace(" ", "")) for k in hyps)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--utts", type=int, default=0, help="first N test utterances (0: all)")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="torch threads, for both")
    parser.add_argument("--config", default=str(MINI / "conf/decode_asr.yaml"))
    parser.add_argument("--random_model", action="store_true", help="even if a trained one exists")
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    torch.set_num_threads(args.threads)

    from espnet2.bin.asr_inference import Speech2Text

    from local.decode.batch_beam_search import BatchBeamSearch
    from local.decode.batch_inference import BatchDecoder, hypothesis_outputs

    with tempfile.TemporaryDirectory() as tmp:
        audio, texts = test_set(Path(tmp))
        if args.utts:
            audio = audio[: args.utts]
        files = None if args.random_model else trained_model()
        kind = "trained mini model"
        if files is None:
            kind = "random model of the mini shape"
            all_text = (
                MINI / "corpus/data_aishell/transcript/aishell_transcript_v0.8.txt"
            ).read_text("utf-8")
            files = random_model(
                Path(tmp),
                [line.split(" ", 1)[1].replace(" ", "") for line in all_text.splitlines()],
            )
        options = yaml.safe_load(Path(args.config).read_text())
        options = {
            k: v
            for k, v in options.items()
            if k
            in ("beam_size", "ctc_weight", "lm_weight", "penalty", "maxlenratio", "minlenratio")
        }
        os.chdir(MINI)  # the trained model's config names its statistics relative to the recipe
        speech2text = Speech2Text(
            **{k: str(v) for k, v in files.items()}, device="cpu", nbest=1, **options
        )
        print(
            f"{kind}, {len(audio)} utterances ({sum(len(a) for _, a in audio) / 16000:.0f} s), "
            f"{options}, {args.threads} thread(s)"
        )

        started = time.perf_counter()
        espnet = {}
        for key, samples in audio:
            espnet[key] = speech2text(samples)[0][2]  # token ids
        espnet_seconds = time.perf_counter() - started

        decoder = BatchDecoder(speech2text, BatchBeamSearch.from_espnet(speech2text.beam_search))
        started = time.perf_counter()
        ours = {}
        ordered = sorted(audio, key=lambda item: -len(item[1]))
        for start in range(0, len(ordered), args.batch_size):
            batch = ordered[start : start + args.batch_size]
            encoded = [decoder.encode(torch.from_numpy(samples)) for _, samples in batch]
            for (key, _), hyps in zip(
                batch, decoder.search(encoded, speech2text.maxlenratio, speech2text.minlenratio)
            ):
                ours[key] = hypothesis_outputs(speech2text, hyps[0])[2]
        our_seconds = time.perf_counter() - started

    equal = sum(ours[k] == espnet[k] for k in espnet)
    as_text = lambda ids: "".join(speech2text.converter.ids2tokens(ids))
    espnet_cer = cer({k: as_text(v) for k, v in espnet.items()}, texts)
    our_cer = cer({k: as_text(v) for k, v in ours.items()}, texts)
    print(f"espnet asr_inference: {espnet_seconds:.2f} s  CER {espnet_cer:.2f}")
    print(f"ours (batch {args.batch_size}): {our_seconds:.2f} s  CER {our_cer:.2f}")
    print(
        f"equal hypotheses: {equal}/{len(espnet)} ({100.0 * equal / len(espnet):.1f} %), "
        f"CER difference {abs(our_cer - espnet_cer):.2f}"
    )
    ok = equal >= 0.98 * len(espnet) and abs(our_cer - espnet_cer) <= 0.1
    print("agreement: " + ("ok" if ok else "NOT OK"))
    print(f"ratio={our_seconds / espnet_seconds:.3f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
