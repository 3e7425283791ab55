"""One figure with the learned layer weights of every SSL experiment of a recipe.

    python -m local.report.layer_weights_figure exp [--out exp/layer_weights.png]

Reads exp/asr_*/layer_weights.txt (written by `python -m frontend.layer_weights`
at stage 8: `layer <i>  <weight>` lines, layer 0 the transformer's input) and
draws one bar chart per experiment, side by side (two per row) on a shared
weight axis, with the uniform weight dashed. Prints the experiments it drew; writes nothing when
no experiment has layer weights. Replaces only a figure it made itself.
"""

import argparse
import math
import sys
import textwrap
from pathlib import Path

from fileio.atomic import OutputError, atomic_file
from fileio.kaldi_table import DataError, read_lines
from local.report import owned
from local.report.experiments import experiment_folders

TOOL = "local.report.layer_weights_figure"
COLUMNS = 2  # panels per row


def read_weights(path):
    """[weight of layer 0, 1, ...] from a layer_weights.txt."""
    weights = []
    for number, line in read_lines(path):
        fields = line.split()
        if not fields:
            continue
        try:
            if fields[0] != "layer" or int(fields[1]) != len(weights):
                raise ValueError
            weights.append(float(fields[2]))
        except (ValueError, IndexError):
            raise DataError(
                f"{path}:{number}: not a `layer {len(weights)} <weight>` line"
            ) from None
    if not weights:
        raise DataError(f"{path}: no layer weights in the file")
    return weights


def collect(expdir):
    """[(experiment name, weights)] of the experiments with layer weights."""
    return [
        (exp.name[len("asr_") :], read_weights(exp / "layer_weights.txt"))
        for exp in experiment_folders(expdir)
        if (exp / "layer_weights.txt").is_file()
    ]


def plot(experiments, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = min(COLUMNS, len(experiments))
    rows = math.ceil(len(experiments) / columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(5.5 * columns, 2.8 * rows), sharey=True, squeeze=False
    )
    for index, (name, weights) in enumerate(experiments):
        ax = axes[index // columns][index % columns]
        ax.bar(range(len(weights)), weights, color="#4477aa")
        ax.axhline(1.0 / len(weights), color="gray", linestyle="--", linewidth=0.8)
        ax.set_xticks(range(0, len(weights), 1 if len(weights) <= 13 else 2))
        ax.set_xlabel("layer (0 = transformer input)", fontsize=8)
        ax.set_title("\n".join(textwrap.wrap(name, width=60)), fontsize=9)
        ax.tick_params(labelsize=7, labelleft=True)
    for index in range(len(experiments), rows * columns):
        axes[index // columns][index % columns].axis("off")
    for row in axes:
        row[0].set_ylabel("softmax weight", fontsize=8)
    figure.tight_layout()
    with atomic_file(out, "wb", owned=owned.png_of(TOOL)) as f:
        figure.savefig(f, format="png", dpi=100, metadata=owned.png_metadata(TOOL))
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("expdir", help="a recipe's exp folder")
    parser.add_argument("--out", help="the figure [EXPDIR/layer_weights.png]")
    args = parser.parse_args(argv)
    out = Path(args.out or Path(args.expdir) / "layer_weights.png")
    try:
        if not Path(args.expdir).is_dir():
            raise DataError(f"{args.expdir}: no such folder")
        experiments = collect(args.expdir)
        if experiments:
            plot(experiments, out)
    except (DataError, OutputError) as e:
        sys.exit(f"layer_weights_figure: error: {e}")
    except OSError as e:
        sys.exit(f"layer_weights_figure: error: {e.filename}: {e.strerror}")
    if not experiments:
        print(f"{args.expdir}: no experiment with layer weights (no SSL frontend)")
        return
    print(f"{out}: layer weights of {', '.join(name for name, _ in experiments)}")


if __name__ == "__main__":
    main()
