"""The decoding-weight grid of the tuning stage: table, plot and the best setting.

    python -m local.report.tune_table TUNE_DIR SET

TUNE_DIR/beam<B>_ctc<C>_lm<L>/SET/score_cer/result.txt are the scored decodings
of the tuning set, one per setting. Writes TUNE_DIR/grid.md (CER %, one row per
beam and CTC weight, one column per LM weight, the best in bold), TUNE_DIR/grid.png
(CER against LM weight, one line per beam and CTC weight) and TUNE_DIR/best
(`beam ctc_weight lm_weight cer`); prints the best line. Ties go to the smaller
beam, then the smaller LM weight, then the smaller CTC weight.
"""

import argparse
import re
import sys
from pathlib import Path

from fileio.atomic import OutputError, atomic_file, write_text
from fileio.kaldi_table import DataError
from local.report import owned
from local.report.results import markdown_table, sum_avg

SETTING = re.compile(r"^beam(\d+)_ctc([^_/]+)_lm([^_/]+)$")
TOOL = "local.report.tune_table"
TITLE = "CER (%) on "  # the first line of grid.md
our_grid = owned.starts_with(TITLE)
our_best = lambda path: re.fullmatch(r"\d+ \S+ \S+ \S+\n?", owned.first_line(path)) is not None


def our_png(path):
    """The tool's figure: marked as ours, or (made before the mark) a matplotlib PNG
    beside our grid.md."""
    path = Path(path)
    if owned.png_of(TOOL)(path):
        return True
    with open(path, "rb") as f:
        head = f.read(4096)
    grid_md = path.parent / "grid.md"
    return (
        head.startswith(b"\x89PNG\r\n\x1a\n")
        and b"Software\x00Matplotlib" in head
        and grid_md.is_file()
        and our_grid(grid_md)
    )


OUTPUTS = {"grid.md": our_grid, "grid.png": our_png, "best": our_best}


def check_outputs(tune_dir):
    """Refuse (OutputError) before writing anything when an output is not the tool's."""
    for name, ours in OUTPUTS.items():
        path = Path(tune_dir) / name
        if path.exists() and not (path.is_file() and ours(path)):
            raise OutputError(f"{path}: exists and was not written by this tool; not overwritten")


def grid(tune_dir, dset):
    """{(beam, ctc weight, lm weight): CER} of every scored setting."""
    found, folders = {}, {}
    for result in sorted(Path(tune_dir).glob(f"*/{dset}/score_cer/result.txt")):
        folder = result.parents[2]
        match = SETTING.match(folder.name)
        if not match:
            continue
        try:
            setting = int(match[1]), float(match[2]), float(match[3])
        except ValueError:
            raise DataError(f"{folder}: the weights in its name are not numbers") from None
        if setting in folders:
            raise DataError(f"{folders[setting]} and {folder}: the same setting twice")
        folders[setting] = folder
        found[setting] = float(sum_avg(result)[6])
    return found


def best_setting(cers):
    return min(cers, key=lambda k: (cers[k], k[0], k[2], k[1]))


def table(cers, best):
    lm_weights = sorted({k[2] for k in cers})
    rows = []
    for beam, ctc in sorted({(k[0], k[1]) for k in cers}):
        row = [beam, ctc]
        for lm in lm_weights:
            cer = cers.get((beam, ctc, lm))
            text = "-" if cer is None else f"{cer:.1f}"
            row.append(f"**{text}**" if (beam, ctc, lm) == best else text)
        rows.append(row)
    return markdown_table(["beam", "ctc weight"] + [f"lm {w}" for w in lm_weights], rows)


def plot(cers, path, dset):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6, 4))
    for beam, ctc in sorted({(k[0], k[1]) for k in cers}):
        points = sorted((k[2], v) for k, v in cers.items() if k[:2] == (beam, ctc))
        axes.plot(*zip(*points), marker="o", label=f"beam {beam}, ctc {ctc}")
    axes.set_xlabel("LM weight")
    axes.set_ylabel(f"CER on {dset} (%)")
    axes.legend(fontsize="small")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    with atomic_file(path, "wb", owned=our_png) as f:
        figure.savefig(f, format="png", dpi=100, metadata=owned.png_metadata(TOOL))
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("tune_dir")
    parser.add_argument("set")
    args = parser.parse_args(argv)
    tune_dir = Path(args.tune_dir)
    try:
        cers = grid(tune_dir, args.set)
        if not cers:
            raise DataError(f"{tune_dir}: no scored setting (beam*_ctc*_lm*/{args.set}/score_cer)")
        check_outputs(tune_dir)
        best = best_setting(cers)
        text = f"{TITLE}{args.set} for each decoding setting\n\n" + table(cers, best)
        write_text(tune_dir / "grid.md", text + "\n\n![grid](grid.png)\n", owned=our_grid)
        plot(cers, tune_dir / "grid.png", args.set)
        line = f"{best[0]} {best[1]} {best[2]} {cers[best]}"
        write_text(tune_dir / "best", line + "\n", owned=our_best)
    except (DataError, OutputError) as e:
        sys.exit(f"tune_table: error: {e}")
    except OSError as e:
        sys.exit(f"tune_table: error: {e.filename}: {e.strerror}")
    print(line)


if __name__ == "__main__":
    main()
