"""Print the learned layer weights of an SSL-frontend experiment and plot them.

    python -m frontend.layer_weights exp/asr_X [--model valid.acc.ave_10best.pth]

Reads the weighted-sum parameters (`frontend.featurizer.weights`, as written by
the ssl_weighted_sum frontend and ESPnet's S3PRL frontend) from the model file,
prints the softmax weight of every layer (0 = the transformer's input) and
writes exp/asr_X/layer_weights.png and layer_weights.txt. Exits with status 2
when the model has no weighted-sum frontend (e.g. FBank).
"""

import argparse
import sys
import textwrap
from pathlib import Path

import torch

from fileio.atomic import atomic_file, write_text

PARAMETER = "frontend.featurizer.weights"


def layer_weights(model_file):
    """Softmax layer weights of a model file, or None without a weighted-sum frontend."""
    state = torch.load(model_file, map_location="cpu", weights_only=True)
    for name, tensor in state.items():
        if name.endswith(PARAMETER):
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
    with atomic_file(png, mode="wb") as f:
        fig.savefig(f, format="png", dpi=100)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("exp", help="experiment folder (exp/asr_X)")
    parser.add_argument("--model", default="valid.acc.ave.pth", help="model file in the folder")
    args = parser.parse_args(argv)
    exp = Path(args.exp)
    weights = layer_weights(exp / args.model)
    if weights is None:
        print(f"{exp / args.model}: no weighted-sum SSL frontend ({PARAMETER})", file=sys.stderr)
        sys.exit(2)
    lines = [f"layer {i:2d}  {w:.4f}  {'#' * round(w * 100)}" for i, w in enumerate(weights)]
    write_text(exp / "layer_weights.txt", "\n".join(lines) + "\n")
    plot(weights, f"{exp.name} ({args.model})", exp / "layer_weights.png")
    print("\n".join(lines))
    print(f"plot: {exp / 'layer_weights.png'}")


if __name__ == "__main__":
    main()
