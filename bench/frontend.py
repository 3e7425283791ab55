"""Benchmark: the weighted-sum SSL frontend against a plain transformers forward and
against ESPnet's stock S3prlFrontend (through s3prl), on CPU, in one run.

    python bench/frontend.py [--reps 2] [--threads 2]

HuBERT LARGE and BASE architectures with random weights (nothing is downloaded),
8 utterances of 2 to 12 s as one padded batch. Every method runs in its own
process (so peak memory is its own): time per batch (best of --reps after a
warm-up) and peak resident memory, and what the model alone takes. One line per
comparison; the last line is `ratio=<ours/plain time>` of the slower size (goal <= 1.0
for each size), with each size's ratio after it.
With --bf16, also the effect of running the frozen model in bfloat16.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.random_models import HUBERT_ARCHITECTURES, hubert_folder  # noqa: E402

LENGTHS_S = [2.0, 3.5, 5.0, 6.5, 8.0, 9.5, 11.0, 12.0]


def make_model(folder, arch):
    hubert_folder(folder, arch)


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def batch():
    import torch

    g = torch.Generator().manual_seed(1)
    lengths = torch.tensor([int(s * 16000) for s in LENGTHS_S])
    wavs = [0.1 * torch.randn(int(n), generator=g) for n in lengths]
    return torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True), lengths


def build(method, folder, dtype="float32"):
    """A callable (padded, lengths) -> features for one method."""
    import torch

    if method == "ours":
        from frontend.espnet_frontend import WeightedSumFrontend

        frontend = WeightedSumFrontend(folder, upstream_dtype=dtype).eval()
        return lambda wav, lens: frontend(wav, lens)[0]
    if method == "plain":
        from transformers import AutoModel

        model = AutoModel.from_pretrained(folder).eval()
        use_mask = model.config.feat_extract_norm == "layer"

        def plain(wav, lens):
            mask = (torch.arange(wav.shape[1])[None] < lens[:, None]).long() if use_mask else None
            with torch.no_grad():
                return model(wav, attention_mask=mask, output_hidden_states=True).hidden_states

        return plain
    if method == "s3prl":
        from espnet2.asr.frontend.s3prl import S3prlFrontend

        frontend = S3prlFrontend(
            frontend_conf={"upstream": "hf_hubert_custom", "path_or_url": folder},
            multilayer_feature=True,
        ).eval()

        def stock(wav, lens):
            with torch.no_grad():
                return frontend(wav, lens)[0]

        return stock
    raise ValueError(method)


def worker(method, folder, reps, dtype):
    import torch

    wav, lens = batch()
    run = build(method, folder, dtype)
    loaded = rss_mb()
    out = run(wav, lens)  # warm-up
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        out = run(wav, lens)
        times.append(time.perf_counter() - start)
    result = {"time": min(times), "peak_mb": rss_mb(), "model_mb": loaded}
    if method == "ours":
        torch.save(out, Path(folder) / f"features-{dtype}.pt")
    print(json.dumps(result))


def measure(method, folder, reps, threads, dtype="float32"):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [
            sys.executable,
            __file__,
            "--worker",
            method,
            folder,
            "--reps",
            str(reps),
            "--dtype",
            dtype,
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.exit(f"{method} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--worker", nargs=2, metavar=("METHOD", "FOLDER"), help=argparse.SUPPRESS)
    parser.add_argument("--dtype", default="float32", help=argparse.SUPPRESS)
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="also measure the upstream in bfloat16 (slow on CPUs without "
        "bf16 instructions: over 10 minutes for hubert-large here)",
    )
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker, args.reps, args.dtype)
        return

    import torch

    audio = sum(LENGTHS_S)
    print(f"8 utterances, {audio:.0f} s of audio, {args.threads} threads, best of {args.reps}")
    ratios = {}
    with tempfile.TemporaryDirectory() as tmp:
        for arch in HUBERT_ARCHITECTURES:
            folder = str(Path(tmp) / arch)
            make_model(folder, arch)
            results = {
                m: measure(m, folder, args.reps, args.threads) for m in ("plain", "ours", "s3prl")
            }
            ours, plain = results["ours"], results["plain"]
            ratios[arch] = ours["time"] / plain["time"]
            for other in ("plain", "s3prl"):
                o = results[other]
                print(
                    f"{arch}: ours {ours['time']:.2f} s, peak {ours['peak_mb']:.0f} MB "
                    f"(model {ours['model_mb']:.0f} MB) | {other} {o['time']:.2f} s, peak "
                    f"{o['peak_mb']:.0f} MB (model {o['model_mb']:.0f} MB) | time ratio "
                    f"{ours['time'] / o['time']:.3f}, "
                    f"peak ratio {ours['peak_mb'] / o['peak_mb']:.3f}",
                    flush=True,
                )
            if not args.bf16:
                continue
            half = measure("ours", folder, args.reps, args.threads, dtype="bfloat16")
            exact = torch.load(Path(folder) / "features-float32.pt")
            approx = torch.load(Path(folder) / "features-bfloat16.pt")
            relative = ((exact - approx).norm() / exact.norm()).item()
            print(
                f"{arch}: bfloat16 upstream {half['time']:.2f} s (float32 {ours['time']:.2f} s), "
                f"features' relative difference {relative:.4f}, max abs "
                f"{(exact - approx).abs().max().item():.4f}"
            )
    sizes = " ".join(f"{arch}={r:.3f}" for arch, r in ratios.items())
    print(f"ratio={max(ratios.values()):.3f} {sizes}")


if __name__ == "__main__":
    main()
