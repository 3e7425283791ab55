"""Add an experiment's results to its recipe's RESULTS.md, as an entry of its own.

    python -m local.report.results_entry exp/asr_<tag> [--out RESULTS.md]
                                         [--machine "4 x A100 80GB"] [--replace]

Run from the recipe folder (egs2/<corpus>/asr1), after stage 8. Reads the
experiment's RESULTS.md (written by stage 8, local.report.results: date, software,
git revision, machine, configs, the training and decoding commands) and its scored
sets (<decoding>/<set>/score_cer), and writes an entry in the form of icefall's
RESULTS.md: a heading per experiment, the date, revision and machine, the CER table
(one row per decoding, one column per test set, each CER with ± half its 95 %
bootstrap interval, local.report.significance), the pinyin syllable error rates
beside it, and the exact commands. --out defaults to RESULTS.md in the current
folder.

The entry goes to the top of the entries (newest first); everything else in the
file is kept as it was. An entry of the same experiment and revision is not
written twice: that is an error unless --replace, which rewrites that entry in
place. --machine names the machine that trained (the experiment records only the
one that scored it). The file is replaced atomically (fileio.atomic).
"""

import argparse
import sys
from pathlib import Path

from fileio.atomic import OutputError, write_text
from fileio.kaldi_table import DataError, read_lines
from local.report import bootstrap, pinyin, results, significance

ANCHOR = "<!-- results_entry: experiments below, newest first -->"
BEGIN = "<!-- results_entry {key} -->"
END = "<!-- end of results_entry {key} -->"
FIELDS = {  # the environment lines of an experiment's RESULTS.md: name -> key
    "date": "date",
    "python": "software",
    "git": "revision",
    "machine (stage 8)": "machine",
    "ASR config": "asr_config",
    "LM config": "lm_config",
    "inference config": "inference_config",
}


def read_experiment(results_md):
    """{field: value} of an experiment's RESULTS.md, with 'training' (a command or
    None) and 'decodings' ({decoding: [commands]})."""
    lines = [line for _, line in read_lines(results_md)]
    if not lines or not lines[0].startswith(results.TITLE):
        raise DataError(f"{results_md}:1: not a RESULTS.md of stage 8 (local.report.results)")
    found = {"name": lines[0][len(results.TITLE) :].strip(), "training": None, "decodings": {}}
    section, in_code, code = None, False, []
    for line in lines[1:]:
        if in_code:
            if line.startswith("```"):
                in_code = False
                if section == "Training":
                    found["training"] = "\n".join(code)
                elif section in found["decodings"]:
                    found["decodings"][section].append("\n".join(code))
            else:
                code.append(line)
        elif line.startswith("```sh"):
            in_code, code = True, []
        elif line.startswith("## "):
            section = line[3:].strip()
            if section not in ("Environment", "Training") and not section.startswith("Layer"):
                found["decodings"][section] = []
        elif line.startswith("- ") and section == "Environment" and ": " in line:
            name, value = line[2:].split(": ", 1)
            if name in FIELDS:
                found[FIELDS[name]] = line[2:] if name == "python" else value.strip()
    for key in ("date", "revision"):
        if key not in found:
            raise DataError(f"{results_md}: no '- {key}:' line in its Environment")
    return found


def revision_of(found):
    """The git revision as the key of an entry (its first word: abc1234)."""
    return (found["revision"].split() or ["unknown"])[0]


def cer_tables(exp):
    """(CER rows, pinyin rows, test sets) of every scored decoding of an experiment."""
    scored = results.scored_sets(exp)
    if not scored:
        raise DataError(
            f"{exp}: no scored set (<decoding>/<set>/score_cer/result.txt): run stage 8"
        )
    test_sets = sorted({s for sets in scored.values() for s in sets})
    cer_rows, pinyin_rows = [], []
    for decode_dir, sets in scored.items():
        cer_rows.append(
            [decode_dir.name]
            + [
                significance.with_interval(results.sum_avg(sets[s])[6], sets[s])
                if s in sets
                else "-"
                for s in test_sets
            ]
        )
        pinyin_rows.append([decode_dir.name] + [pinyin_cell(sets.get(s)) for s in test_sets])
    return cer_rows, pinyin_rows, test_sets


def pinyin_cell(result_txt):
    """`2.9 / 3.6`: the syllable error rates without / with tones of a scored set."""
    if result_txt is None:
        return "-"
    beside = result_txt.parent / "pinyin.txt"
    if not beside.is_file():
        return "(not scored)"
    rates = results.pinyin_sum_avg(beside)
    return " / ".join(rates[style][6] for style in pinyin.STYLES)


def render_entry(exp, found, machine=None):
    """The entry's lines, between its begin and end marks."""
    key = f"{found['name']} @ {revision_of(found)}"
    cer_rows, pinyin_rows, test_sets = cer_tables(exp)
    out = [
        BEGIN.format(key=key),
        f"### {found['name']}",
        "",
        f"#### {found['date'].split()[0]}, revision {revision_of(found)}",
        "",
        f"- revision: {found['revision']}",
        f"- scored: {found['date']}",
        f"- machine: {machine or found.get('machine', 'not recorded (give --machine)')}",
        f"- {found.get('software', 'software: not recorded')}",
        f"- configs: ASR `{found.get('asr_config', '?')}`, LM `{found.get('lm_config', '?')}`, "
        f"decoding `{found.get('inference_config', '?')}`",
        "",
        f"CER (%), ± half the 95 % bootstrap interval (utterances resampled "
        f"{bootstrap.RESAMPLES} times, seed {bootstrap.SEED}):",
        "",
        results.markdown_table(["decoding", *test_sets], cer_rows),
        "",
        "Pinyin syllable error rate (%) without / with tones (an error of the CER gone "
        "without tones is a homophone):",
        "",
        results.markdown_table(["decoding", *test_sets], pinyin_rows),
        "",
        "Training:",
        "",
        "```sh",
        found["training"]
        or "# not recorded (the experiment was trained before stage 6 wrote its command)",
        "```",
        "",
    ]
    for decoding, commands in found["decodings"].items():
        out += [
            f"Decoding ({decoding}):",
            "",
            "```sh",
            *(commands or ["# not recorded"]),
            "```",
            "",
        ]
    out += [
        f"Details (sclite's columns, RTF, error analysis): `{exp}/RESULTS.md`.",
        END.format(key=key),
    ]
    return key, out


def add_entry(text, key, entry, replace=False, where="RESULTS.md"):
    """The file's text with the entry added at the top of the entries (or replacing the
    entry of the same key with replace); every other line kept."""
    lines = text.splitlines()
    begin, end = BEGIN.format(key=key), END.format(key=key)
    if begin in lines:
        if not replace:
            raise OutputError(
                f"{where}:{lines.index(begin) + 1}: already holds the entry of {key}; "
                "--replace rewrites it"
            )
        first = lines.index(begin)
        if end not in lines[first:]:
            raise DataError(f"{where}:{first + 1}: the entry of {key} has no end mark")
        last = first + lines[first:].index(end)
        return "\n".join(lines[:first] + entry + lines[last + 1 :]) + "\n"
    if ANCHOR in lines:
        at = lines.index(ANCHOR) + 1
        after = lines[at:] if lines[at:] and not lines[at].strip() else [""] + lines[at:]
        return "\n".join(lines[:at] + [""] + entry + after).rstrip("\n") + "\n"
    return "\n".join(lines + ["", ANCHOR, ""] + entry).lstrip("\n") + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m local.report.results_entry",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("exp", help="the experiment folder, exp/asr_<tag>")
    parser.add_argument("--out", default="RESULTS.md", help="the recipe's RESULTS.md [%(default)s]")
    parser.add_argument("--machine", help="the machine that trained (default: the one that scored)")
    parser.add_argument(
        "--replace",
        action="store_true",
        help="rewrite an entry of the same experiment and revision",
    )
    args = parser.parse_args(argv)
    exp, out = Path(args.exp), Path(args.out)
    try:
        if not (exp / "RESULTS.md").is_file():
            raise DataError(f"{exp}/RESULTS.md: not found (run stage 8 first)")
        found = read_experiment(exp / "RESULTS.md")
        key, entry = render_entry(exp, found, args.machine)
        if out.is_dir():
            raise OutputError(f"{out}: a folder; give the RESULTS.md file")
        text = out.read_text(encoding="utf-8") if out.exists() else ""
        write_text(out, add_entry(text, key, entry, args.replace, str(out)))
    except (DataError, OutputError) as e:
        sys.exit(f"results_entry: error: {e}")
    except UnicodeDecodeError:
        sys.exit(f"results_entry: error: {out}: not UTF-8 text")
    except OSError as e:
        sys.exit(f"results_entry: error: {e.filename}: {e.strerror}")
    print(f"{out}: the entry of {key}")


if __name__ == "__main__":
    main()
