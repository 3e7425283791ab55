"""Training steps of the real-size hubert-large Aishell config on one device, with the
frozen upstream in float32, float16 and bfloat16, and with ESPnet's stock
S3prlFrontend in its place (run by bench/gpu_check.sh; see there).

For each variant: time per training step (forward, backward, Adam step; after one
warm-up step), audio seconds per second, peak GPU memory, and the relative L2
difference of the frontend's features from the float32 upstream's on the same
batch. Random weights (nothing is downloaded); the batch is synthetic audio with
Aishell's length distribution (log-normal, median 4.3 s, 1.5-12 s), as many
utterances as --batch_seconds holds. --tiny shrinks the upstream and the Conformer
(the CPU check in CI). Writes --out (JSON) and prints a table; the last line:
`s3prl_ratio=<ours/stock step time> fp16_err=<rel. diff.> bf16_err=<rel. diff.>`.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CONFIG = ROOT / "egs2/aishell/asr1/conf/train_asr_conformer_hubert_large.yaml"
AISHELL_VOCAB = 4234  # characters of Aishell-1's training transcripts, + specials


def aishell_lengths(total_seconds, seed=0):
    """Utterance lengths (s) drawn like Aishell-1's until total_seconds is filled."""
    rng = np.random.default_rng(seed)
    lengths = []
    while sum(lengths) < total_seconds:
        lengths.append(float(np.clip(rng.lognormal(np.log(4.3), 0.3), 1.5, 12.0)))
    return lengths


def upstream_folder(out, tiny):
    """A random-weight HuBERT-LARGE Hugging Face folder (real size unless tiny)."""
    if tiny:
        from frontend.make_tiny_models import make

        return make("hubert", "large", out)
    from bench.random_models import hubert_folder

    return hubert_folder(Path(out) / "hubert-large", "hubert-large")


def build_model(folder, tokens, tiny, stock=False, dtype="float32", config_file=CONFIG):
    """The ESPnet ASR model of an Aishell config (random weights): an SSL config with
    `folder` as its upstream (or ESPnet's stock S3PRL frontend), or FBank (folder None)."""
    import importlib

    import yaml

    importlib.import_module("local.runtime.espnet_bin")  # first: registers ssl_weighted_sum
    from espnet2.tasks.asr import ASRTask

    config = yaml.safe_load(Path(config_file).read_text())
    config["normalize"] = None
    if tiny:
        config["encoder_conf"].update(output_size=32, linear_units=64, num_blocks=2)
        config["encoder_conf"]["attention_heads"] = 2
        config["decoder_conf"].update(linear_units=64, num_blocks=1, attention_heads=2)
    if folder is None:
        pass
    elif stock:
        config["frontend"] = "s3prl"
        config["frontend_conf"] = {
            "frontend_conf": {"upstream": "hf_hubert_custom", "path_or_url": str(folder)},
            "multilayer_feature": True,
        }
    else:
        config["frontend_conf"] = {"model_path": str(folder), "upstream_dtype": dtype}
    if folder is not None:
        hidden = json.loads((Path(folder) / "config.json").read_text())["hidden_size"]
        config["preencoder_conf"]["input_size"] = hidden
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(config, f)
    parser = ASRTask.get_parser()
    args = parser.parse_args(
        ["--config", f.name, "--token_list", str(tokens), "--token_type", "char"]
        + ["--non_linguistic_symbols", "none", "--cleaner", "none", "--g2p", "none"]
    )
    model = ASRTask.build_model(args)
    model.args = args  # for writing a config.yaml beside the model (bench/stages.py)
    for name, p in model.named_parameters():
        if name.startswith("frontend.upstream"):
            p.requires_grad_(False)
    return model


def make_batch(lengths, vocab, device):
    import torch

    g = torch.Generator().manual_seed(1)
    samples = [int(s * 16000) for s in lengths]
    speech = torch.zeros(len(samples), max(samples))
    for i, n in enumerate(samples):
        speech[i, :n] = 0.1 * torch.randn(n, generator=g)
    chars = [max(1, int(s * 3.5)) for s in lengths]  # Aishell: ~3.5 characters per second
    text = torch.full((len(chars), max(chars)), -1, dtype=torch.long)
    for i, n in enumerate(chars):
        text[i, :n] = torch.randint(2, vocab - 1, (n,), generator=g)
    return {
        "speech": speech.to(device),
        "speech_lengths": torch.tensor(samples, device=device),
        "text": text.to(device),
        "text_lengths": torch.tensor(chars, device=device),
    }


def synchronize(device):
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def train_steps(model, batch, steps, device):
    """(seconds per step, peak GPU memory in GB or None) of `steps` steps after a warm-up."""
    import torch

    model.to(device).train()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-4)

    def step():
        loss = model(**batch)[0]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()
    synchronize(device)
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    seconds = (time.perf_counter() - start) / steps
    peak = torch.cuda.max_memory_allocated() / 1e9 if device.startswith("cuda") else None
    return seconds, peak


def features(model, batch):
    import torch

    model.eval()
    with torch.no_grad():
        feats, lens = model.frontend(batch["speech"], batch["speech_lengths"])
    return feats.float().cpu(), lens.cpu()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch_seconds", type=float, default=187.5)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--out", default="gpu_check.json")
    args = parser.parse_args()
    import torch

    torch.manual_seed(0)
    work = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    vocab = 50 if args.tiny else AISHELL_VOCAB
    tokens = work / "tokens.txt"
    tokens.write_text(
        "\n".join(["<blank>", "<unk>"] + [f"t{i}" for i in range(vocab - 3)]) + "\n<sos/eos>\n"
    )
    folder = upstream_folder(work, args.tiny)
    lengths = aishell_lengths(args.batch_seconds)
    batch = make_batch(lengths, vocab, args.device)
    audio = sum(lengths)
    print(f"{len(lengths)} utterances, {audio:.1f} s of audio per step, device {args.device}")
    results, reference = {}, None
    for name, stock, dtype in (
        ("float32", False, "float32"),
        ("float16", False, "float16"),
        ("bfloat16", False, "bfloat16"),
        ("s3prl", True, "float32"),
    ):
        try:
            model = build_model(folder, tokens, args.tiny, stock, dtype).to(args.device)
            feats, lens = features(model, batch)
            seconds, peak = train_steps(model, batch, args.steps, args.device)
        except RuntimeError as e:  # e.g. float16 kernels a CPU lacks
            results[name] = {"error": str(e).splitlines()[0][:200]}
            print(f"{name:9s} not run: {results[name]['error']}")
            continue
        finally:
            model = None
            if args.device.startswith("cuda"):
                torch.cuda.empty_cache()
        if reference is None:
            reference, ref_lens = feats, lens
        frames = min(feats.shape[1], reference.shape[1])  # s3prl may give one frame less
        mask = torch.arange(frames)[None, :, None] < torch.minimum(lens, ref_lens)[:, None, None]
        diff = float(
            ((feats[:, :frames] - reference[:, :frames]) * mask).norm()
            / (reference[:, :frames] * mask).norm()
        )
        results[name] = {
            "step_s": seconds,
            "audio_s_per_s": audio / seconds,
            "peak_gpu_gb": peak,
            "feature_rel_diff": diff,
        }
        print(
            f"{name:9s} step {seconds:7.3f} s  {audio / seconds:8.1f} audio s/s  peak GPU "
            f"{'n/a' if peak is None else f'{peak:.1f} GB'}  features vs float32 {diff:.2e}"
        )
    Path(args.out).write_text(
        json.dumps(
            {
                "utterances": len(lengths),
                "audio_s": audio,
                "device": args.device,
                "steps": args.steps,
                "results": results,
            },
            indent=1,
        )
        + "\n"
    )

    def get(name, key):
        value = results.get(name, {}).get(key)
        return "n/a" if value is None else f"{value:.4g}"

    ratio = (
        f"{results['float32']['step_s'] / results['s3prl']['step_s']:.3f}"
        if "step_s" in results.get("float32", {}) and "step_s" in results.get("s3prl", {})
        else "n/a"
    )
    print(
        f"s3prl_ratio={ratio} fp16_err={get('float16', 'feature_rel_diff')} "
        f"bf16_err={get('bfloat16', 'feature_rel_diff')}"
    )
    if "step_s" not in results.get("float32", {}):
        sys.exit("gpu_check: the float32 run failed")


if __name__ == "__main__":
    main()
