"""How many utterances the SSL feature statistics need: sampled against full pass.

    python bench/ssl_stats_sample.py [--sizes 50,100,200,300,500,1000] [--draws 20]

The mini corpus's training set with speed perturbation 0.9/1.0/1.1 (as stage 6
sees it), through the weighted-sum frontend (uniform layer weights, as in the
statistics step) of a tiny HuBERT-LARGE-type model: the mean and standard
deviation of the features over every utterance (the full pass), then over random
samples of each size (--draws seeds each): the relative L2 difference of the
mean and of the std from the full pass, the worst over the draws. Prints one line
per size; the last line: `smallest=<smallest size under 1 %> worst_err=<its error>
default=<the driver's --ssl_stats_utts> default_err=<its worst error>`. The driver's
default (500) is about twice the error margin of the smallest size that passes.
"""

import argparse
import io
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
MINI = ROOT / "egs2/mini_zh/asr1/corpus/data_aishell/wav"
SPEEDS = (0.9, 1.0, 1.1)
DRIVER_DEFAULT = 500  # local/asr.sh --ssl_stats_utts


def training_audio(limit=None):
    """{utt: float32 samples} of the mini corpus's training split."""
    import soundfile

    audio = {}
    for archive in sorted(MINI.glob("*.tar.gz")):
        with tarfile.open(archive) as tar:
            for member in tar:
                if member.isfile() and member.name.startswith("train/"):
                    data = tar.extractfile(member).read()
                    samples, _ = soundfile.read(io.BytesIO(data), dtype="float32")
                    audio[Path(member.name).stem] = samples
                    if limit and len(audio) >= limit:
                        return audio
    return audio


def per_utterance_sums(frontend, audio, batch=16):
    """{utt: (count, sum, sum of squares)} of the frontend's features."""
    import torch

    from fileio.audio import change_speed

    items = [
        (f"sp{s}-{utt}", change_speed(wav, 16000, s)) for utt, wav in audio.items() for s in SPEEDS
    ]
    items.sort(key=lambda item: len(item[1]))
    sums = {}
    with torch.no_grad():
        for start in range(0, len(items), batch):
            part = items[start : start + batch]
            wavs = [torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)) for _, w in part]
            lengths = torch.tensor([len(w) for w in wavs])
            padded = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
            feats, feats_lens = frontend(padded, lengths)
            for (utt, _), f, n in zip(part, feats.double().numpy(), feats_lens.tolist()):
                f = f[:n]
                sums[utt] = (n, f.sum(0), (f**2).sum(0))
    return sums


def mean_std(sums, utts):
    count = sum(sums[u][0] for u in utts)
    total = sum(sums[u][1] for u in utts)
    squares = sum(sums[u][2] for u in utts)
    mean = total / count
    return mean, np.sqrt(np.maximum(squares / count - mean**2, 1e-20))


def relative(a, b):
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def sampling_errors(sums, sizes, draws):
    """{size: worst relative difference (mean or std) over `draws` random samples}."""
    utts = sorted(sums)
    full_mean, full_std = mean_std(sums, utts)
    worst = {}
    for size in sizes:
        errors = []
        for seed in range(draws):
            sample = np.random.default_rng(seed).choice(len(utts), min(size, len(utts)), False)
            mean, std = mean_std(sums, [utts[i] for i in sample])
            errors.append(max(relative(mean, full_mean), relative(std, full_std)))
        worst[size] = max(errors)
    return worst


def tiny_frontend():
    from frontend.espnet_frontend import WeightedSumFrontend
    from frontend.make_tiny_models import make

    folder = make("hubert", "large", tempfile.mkdtemp(prefix="tiny_ssl_"), seed=1)
    return WeightedSumFrontend(str(folder)).eval()


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="50,100,200,300,500,1000,2000")
    parser.add_argument("--draws", type=int, default=20)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    audio = training_audio()
    sums = per_utterance_sums(tiny_frontend(), audio)
    frames = sum(s[0] for s in sums.values())
    print(f"{len(sums)} utterances ({len(audio)} x {len(SPEEDS)} speeds), {frames} frames")
    sizes = [int(s) for s in args.sizes.split(",")]
    worst = sampling_errors(sums, sizes, args.draws)
    for size, err in worst.items():
        print(f"sample {size:5d}: worst relative difference over {args.draws} draws {err:.4f}")
    smallest = next((s for s in sizes if worst[s] < 0.01), sizes[-1])
    default = DRIVER_DEFAULT if DRIVER_DEFAULT in worst else smallest
    print(
        f"smallest={smallest} worst_err={worst[smallest]:.4f} "
        f"default={default} default_err={worst[default]:.4f}"
    )


if __name__ == "__main__":
    main()
