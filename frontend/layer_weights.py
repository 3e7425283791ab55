"""Print the learned layer weights of an SSL-frontend experiment and plot them.

    python -m frontend.layer_weights exp/asr_X [--model valid.acc.ave_10best.pth]

Reads the weighted-sum parameters (`frontend.featurizer.weights`, as written by
the ssl_weighted_sum frontend and ESPnet's S3PRL frontend) from the model file,
prints the softmax weight of every layer (0 = the transformer's input) and
writes exp/asr_X/layer_weights.png and layer_weights.txt. Exits with status 2
when the model has no weighted-sum frontend (e.g. FBank). An existing
layer_weights.txt / .png is replaced only when it is an earlier output of this
command (the text's line format; the PNG's Software tag); otherwise it refuses
and names the file. A missing or unreadable model file is a one-line error.
"""

import argparse
import pickle
import re
import sys
import textwrap
from pathlib import Path

import torch

from fileio.atomic import OutputError, atomic_file, write_text

PARAMETER = "frontend.featurizer.weights"
SOFTWARE = "frontend.layer_weights"
LINE = re.compile(r"layer +\d+  \d\.\d{4}  #*")


class LayerWeightsError(Exception):
    pass


def own_text(path):
    """An earlier layer_weights.txt: every line in this command's format."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    return bool(lines) and all(LINE.fullmatch(line) for line in lines)


def own_png(path):
    """An earlier layer_weights.png: a PNG whose Software tag names this command."""
    try:
        head = Path(path).read_bytes()[:4096]
    except OSError:
        return False
    return head.startswith(b"\x89PNG") and SOFTWARE.encode() in head


def layer_weights(model_file):
    """Softmax layer weights of a model file, or None without a weighted-sum frontend."""
    model_file = Path(model_file)
    if not model_file.is_file():
        raise LayerWeightsError(f"{model_file}: no such model file")
    try:
        state = torch.load(model_file, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, OSError) as e:
        reason = str(e).splitlines()[0][:100] if str(e) else type(e).__name__
        raise LayerWeightsError(f"{model_file}: not a readable model file ({reason})") from None
    if not isinstance(state, dict):
        raise LayerWeightsError(f"{model_file}: not a model state dict")
    for name, tensor in state.items():
        if name.endswith(PARAMETER):
            if not isinstance(tensor, torch.Tensor) or tensor.dim() != 1 or not len(tensor):
                shape = tuple(tensor.shape) if isinstance(tensor, torch.Tensor) else "no tensor"
                raise LayerWeightsError(
                    f"{model_file}: {name} is {shape}, not one weight per layer"
                )
            if not torch.isfinite(tensor).all():
                raise LayerWeightsError(
                    f"{model_file}: {name} holds values that are not finite "
                    "(did the training diverge?)"
                )
            return torch.softmax(tensor.float(), dim=-1).tolist()
    return None


def plot(weights, title, png):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4.0, 0.35 * len(weights) + 1.5), 3.0))
    ax.bar(range(len(weights)), weights, color="#4477aa")
    ax.axhline(1.0 / len(weights), color="gray", linestyle="--", linewidth=0.8, label="uniform")
    ax.set_xlabel("layer (0 = transformer input)")
    ax.set_ylabel("softmax weight")
    ax.set_xticks(range(len(weights)))
    width = fig.get_figwidth()
    ax.set_title(
        "\n".join(textwrap.wrap(title, width=int(width * 13))), fontsize=9
    )  # ~13 chars/inch
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_file(png, mode="wb", owned=own_png) as f:
        fig.savefig(f, format="png", dpi=100, metadata={"Software": SOFTWARE})
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("exp", help="experiment folder (exp/asr_X)")
    parser.add_argument("--model", default="valid.acc.ave.pth", help="model file in the folder")
    args = parser.parse_args(argv)
    exp = Path(args.exp)
    if not exp.is_dir():
        sys.exit(f"frontend.layer_weights: error: {exp}: no such experiment folder")
    try:
        weights = layer_weights(exp / args.model)
    except LayerWeightsError as e:
        sys.exit(f"frontend.layer_weights: error: {e}")
    if weights is None:
        print(f"{exp / args.model}: no weighted-sum SSL frontend ({PARAMETER})", file=sys.stderr)
        sys.exit(2)
    lines = [f"layer {i:2d}  {w:.4f}  {'#' * round(w * 100)}" for i, w in enumerate(weights)]
    try:
        write_text(exp / "layer_weights.txt", "\n".join(lines) + "\n", owned=own_text)
        plot(weights, f"{exp.name} ({args.model})", exp / "layer_weights.png")
    except OutputError as e:
        sys.exit(f"frontend.layer_weights: error: {e}")
    except OSError as e:
        sys.exit(f"frontend.layer_weights: error: {e.filename or exp}: {e.strerror or e}")
    print("\n".join(lines))
    print(f"plot: {exp / 'layer_weights.png'}")


if __name__ == "__main__":
    main()
