"""Write an experiment's RESULTS.md: environment, commands, configs and CER tables.

    python -m local.report.results --exp exp/asr_X --asr_config conf/a.yaml ... \
        --out exp/asr_X/RESULTS.md

Reads every exp/asr_X/<decode>/<set>/score_cer/result.txt (written by
local/score.sh) and the LM perplexity, and puts the exact command of each
decoding above its table; beside the CER table, the pinyin syllable error rates
without and with tones (the scorer's pinyin.txt: how much of the CER is
homophones); below them, each set's error analysis (the scorer's analysis.md:
frequent substitutions, deletions and insertions, CER by duration and by
speaker). Replaces only a RESULTS.md it wrote (by its first line).
"""

import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from fileio.atomic import OutputError, write_text
from fileio.kaldi_table import DataError, read_lines
from local.report import owned, pinyin

COLUMNS = ["Snt", "Wrd", "Corr", "Sub", "Del", "Ins", "Err", "S.Err"]
TITLE = "# RESULTS: "  # the first line of every RESULTS.md


def sum_avg(result_txt):
    """The 8 numbers of the Sum/Avg row of a sclite-style result.txt."""
    for number, line in read_lines(result_txt):
        if "Sum/Avg" in line:
            return sum_avg_cells(line, f"{result_txt}:{number}")
    raise DataError(f"{result_txt}: no Sum/Avg row (not a result.txt of local/score.sh)")


def sum_avg_cells(line, where):
    cells = line.split("|")
    numbers = cells[2].split() + cells[3].split() if len(cells) > 3 else []
    if len(numbers) != len(COLUMNS):
        raise DataError(f"{where}: not sclite's Sum/Avg row")
    return numbers


def pinyin_sum_avg(pinyin_txt):
    """{style: the 8 Sum/Avg numbers} of a scorer's pinyin.txt (local.report.pinyin)."""
    found, style = {}, None
    for number, line in read_lines(pinyin_txt):
        if line.startswith(pinyin.HEADING):
            style = line[len(pinyin.HEADING) :].strip()
        elif "Sum/Avg" in line and style in pinyin.STYLES and style not in found:
            found[style] = sum_avg_cells(line, f"{pinyin_txt}:{number}")
    missing = [s for s in pinyin.STYLES if s not in found]
    if missing:
        raise DataError(f"{pinyin_txt}: no Sum/Avg row of pinyin {missing[0]}")
    return {style: found[style] for style in pinyin.STYLES}


def pinyin_table(sets):
    """The CER and the pinyin syllable error rates of {set: result.txt}, as rows."""
    rows = []
    for dset, result in sets.items():
        beside = result.parent / "pinyin.txt"
        if not beside.is_file():
            rows.append([dset, "(none: score the set again with stage 8)"] + [""] * 8)
            continue
        rows.append([dset, "characters (CER)"] + sum_avg(result))
        rows += [
            [dset, f"pinyin {style}"] + numbers for style, numbers in pinyin_sum_avg(beside).items()
        ]
    return markdown_table(["dataset", "tokens"] + COLUMNS, rows)


def scored_sets(exp):
    """{decode dir: {set: result.txt}} for every scored decoding of an experiment."""
    found = {}
    for result in sorted(Path(exp).glob("*/*/score_cer/result.txt")):
        found.setdefault(result.parents[2], {})[result.parents[1].name] = result
    return found


def rtf(decode_set_dir):
    """The real-time factor local.decode.rtf wrote for a decoded set, '-' when unknown."""
    path = Path(decode_set_dir) / "rtf"
    if not path.exists():
        return "-"
    for number, line in read_lines(path):
        fields = line.split()
        if fields and fields[0] == "rtf":
            if len(fields) != 2:
                raise DataError(f"{path}:{number}: not an `rtf <value>` line")
            return fields[1]
    return "-"


def perplexity(ppl):
    """The number in an LM's perplexity file."""
    lines = [line.split() for _, line in read_lines(ppl)]
    try:
        return float(lines[0][0])
    except (IndexError, ValueError):
        raise DataError(f"{ppl}:1: not a perplexity") from None


def version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_revision():
    root = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        return rev + (" (with local changes)" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine():
    """This machine in one line: architecture, CPU cores, memory, GPUs (nvidia-smi)."""
    parts = [platform.machine() or "unknown architecture", f"{os.cpu_count()} CPU cores"]
    try:
        with open("/proc/meminfo") as f:
            kib = int(next(line for line in f if line.startswith("MemTotal:")).split()[1])
        parts.append(f"{kib / 2**20:.0f} GiB")
    except (OSError, StopIteration, ValueError, IndexError):
        pass
    gpus = []
    if shutil.which("nvidia-smi"):
        found = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
        )
        gpus = [line.strip() for line in found.stdout.splitlines() if line.strip()]
    if gpus:
        parts += [f"{gpus.count(name)} x {name}" for name in dict.fromkeys(gpus)]
    else:
        parts.append("no GPU")
    return ", ".join(parts)


def markdown_table(header, rows):
    lines = ["|" + "|".join(header) + "|", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["|" + "|".join(str(c) for c in row) + "|" for row in rows]
    return "\n".join(lines)


def render(args):
    exp = Path(args.exp)
    out = [
        f"{TITLE}{exp.name}",
        "",
        "## Environment",
        "",
        f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"- python: {platform.python_version()}, torch: {version('torch')}, "
        f"espnet: {version('espnet')}, s3prl: {version('s3prl')}, "
        f"transformers: {version('transformers')}",
        f"- git: {git_revision()}",
        f"- machine (stage 8): {machine()}",
        f"- ASR config: {args.asr_config}",
        f"- LM config: {args.lm_config if args.use_lm == 'true' else 'none (no LM)'}",
        f"- inference config: {args.inference_config}",
        "",
    ]
    if args.use_lm == "true":
        for ppl in sorted(Path(args.lm_exp).glob("perplexity_*/ppl")):
            out += [
                f"- LM perplexity on {ppl.parent.name[len('perplexity_') :]}: "
                f"{perplexity(ppl):.2f}",
                "",
            ]
    train_command = exp / "train_command"
    if train_command.is_file():  # written by stage 6
        out += ["## Training", "", "```sh", train_command.read_text().strip(), "```", ""]
    weights = exp / "layer_weights.txt"
    if weights.exists():
        out += [
            "## Layer weights of the SSL frontend",
            "",
            "![layer weights](layer_weights.png)",
            "",
            "```",
            weights.read_text().rstrip(),
            "```",
            "",
        ]
    for decode_dir, sets in scored_sets(exp).items():
        out += [f"## {decode_dir.name}", ""]
        commands = {
            (decode_dir / s / "command").read_text().strip()
            for s in sets
            if (decode_dir / s / "command").exists()
        }
        for command in sorted(commands):
            out += ["```sh", command, "```", ""]
        grid = decode_dir / "grid.md"
        if grid.exists():  # the tuning stage's search, kept beside its decoding
            out += [
                "### Tuning grid",
                "",
                grid.read_text(encoding="utf-8")
                .strip()
                .replace("](grid.png)", f"]({decode_dir.name}/grid.png)"),
                "",
            ]
        out += [
            "### CER",
            "",
            markdown_table(
                ["dataset"] + COLUMNS + ["RTF"],
                [[s] + sum_avg(r) + [rtf(decode_dir / s)] for s, r in sets.items()],
            ),
            "",
            "### Pinyin syllable error rate",
            "",
            "Each character one token, Chinese ones as pinyin syllables (`pinyin.txt` beside",
            "`result.txt`): an error of the CER that is gone without tones is a homophone.",
            "",
            pinyin_table(sets),
            "",
        ]
        for dset, result in sets.items():
            out += error_analysis(dset, result.parent / "analysis.md")
    return "\n".join(out)


def error_analysis(dset, analysis_md):
    """The lines of a set's error analysis (written by the scorer), as a subsection."""
    lines = [f"### Error analysis: {dset}", ""]
    if not analysis_md.is_file():
        return lines + ["(none: score the set again with stage 8)", ""]
    text = analysis_md.read_text(encoding="utf-8").strip().splitlines()[1:]  # no title
    while text and not text[0].strip():
        text.pop(0)
    return lines + [("##" + line if line.startswith("## ") else line) for line in text] + [""]


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--exp", required=True)
    parser.add_argument("--asr_config", required=True)
    parser.add_argument("--lm_config", default="none")
    parser.add_argument("--inference_config", required=True)
    parser.add_argument("--use_lm", default="true")
    parser.add_argument("--lm_exp", default="")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        if not Path(args.exp).is_dir():
            raise DataError(f"{args.exp}: no such experiment folder")
        text = render(args)
        write_text(args.out, text, owned=owned.starts_with(TITLE))
    except (DataError, OutputError) as e:
        sys.exit(f"results: error: {e}")
    except OSError as e:
        sys.exit(f"results: error: {e.filename}: {e.strerror}")
    print(text)


if __name__ == "__main__":
    main()
