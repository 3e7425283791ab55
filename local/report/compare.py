"""Compare ASR systems on one test set: CER with a bootstrap confidence interval
for each, and NIST's matched-pair test (MAPSSWE) for each pair.

    local/compare.sh REF_TEXT HYP_A HYP_B [HYP_C ...] [--utt2spk FILE]
                     [--names "a b c"] [--resamples 1000] [--seed 0]

REF_TEXT and the hypotheses are Kaldi `text` files, read and scored as
local/score.sh does (spaces and invisible characters removed, characters compared,
sclite's alignment).
Each system is scored on the utterances it has; each pair is tested on the
utterances both have (a warning says when these differ). Reference utterances
that no system has are not scored (as sclite does); a warning says how many.

- CER interval: 95 % bootstrap percentile interval over utterances
  (local.report.bootstrap: --resamples draws, numpy generator seeded with --seed;
  every system gets the same draws).
- Pairs: the MAPSSWE test exactly as sctk's `sc_stats -t mapsswe` computes it
  (local.report.mapsswe: segments bounded by 2 characters both systems got right,
  Z of the mean difference of segment errors, different when |Z| > 1.960), with
  the two-sided p value of Z under the standard normal.

Prints the tables, then one machine-readable line per system and per pair:
  system <name> cer=<CER %> ci95=<low>,<high>
  pair <nameA> <nameB> segments=<n> z=<Z> p=<p> better=<name or same>
<name> is the hypothesis argument as given, or its --names entry.
"""

import argparse
import sys

from fileio.atomic import OutputError
from fileio.kaldi_table import DataError, read_table
from local.report import bootstrap, mapsswe
from local.report.score import (
    check_reference,
    read_hypotheses,
    read_reference,
    scoring_of,
    trn_ids_of,
)


class System:
    """One hypothesis file: its name, its Scoring and its CER interval."""

    def __init__(self, name, path, scoring):
        self.name, self.path, self.scoring = name, path, scoring
        self.low = self.high = float("nan")

    @property
    def cer(self):
        return self.scoring.cer()


def load(ref_path, hyp_paths, names, utt2spk_path=None, warn=None):
    """[System] of the hypothesis files, scored against ref_path; warn(message) about
    the reference utterances that no system has."""
    refs = read_reference(ref_path)
    trn_ids = trn_ids_of(refs, read_table(utt2spk_path) if utt2spk_path else {}, ref_path)
    systems = []
    for name, hyp_path in zip(names, hyp_paths):
        scoring = scoring_of(refs, read_hypotheses(hyp_path, refs, ref_path), trn_ids, name)
        check_reference(scoring, refs, ref_path, hyp_path)
        systems.append(System(name, hyp_path, scoring))
    covered = {utt for system in systems for utt in system.scoring.keys}
    uncovered = [utt for utt in refs if utt not in covered]
    if warn and uncovered:
        warn(missing_message(uncovered, ref_path))
    return systems


def missing_message(uncovered, ref_path, shown=3):
    """The warning about reference utterances without a hypothesis in any system."""
    ids = ", ".join(f"'{u}'" for u in uncovered[:shown])
    more = ", ..." if len(uncovered) > shown else ""
    return (
        f"{len(uncovered)} reference utterances of {ref_path} have no hypothesis in any "
        f"system and are not scored (as sclite does): {ids}{more}"
    )


def add_intervals(systems, resamples=bootstrap.RESAMPLES, seed=bootstrap.SEED):
    for system in systems:
        errors, words = bootstrap.utterance_counts(system.scoring)
        system.low, system.high = bootstrap.interval(errors, words, resamples, seed)


def pair_test(first, second):
    """The MAPSSWE Result of two Scorings, on the sentences both scored."""
    return mapsswe.test(mapsswe.paired_sentences(first.utterances, second.utterances))


def pairs(systems, warn=None):
    """[(System, System, Result)] for every pair, in argument order."""
    found = []
    for i, first in enumerate(systems):
        for second in systems[i + 1 :]:
            result = pair_test(first.scoring, second.scoring)
            if result.sentences == 0:
                raise DataError(f"{first.path} and {second.path}: no utterance in common")
            most = max(first.scoring.total.sentences, second.scoring.total.sentences)
            if warn and result.sentences < most:
                warn(
                    f"{first.name} and {second.name} are compared on the "
                    f"{result.sentences} utterances both have (of {most})"
                )
            found.append((first, second, result))
    return found


def better_name(first, second, result):
    return "same" if result.better is None else (first, second)[result.better].name


def report(systems, tested, resamples, seed):
    """The human-readable tables, then the machine-readable lines."""
    lines = [
        "CER of each system (95 % interval: bootstrap over utterances, "
        f"{resamples} resamples, seed {seed})",
        "",
        aligned_table(
            ["system", "utterances", "characters", "errors", "CER (%)", "95 % interval"],
            [
                [
                    s.name,
                    s.scoring.total.sentences,
                    s.scoring.total.words,
                    s.scoring.total.errors,
                    f"{s.cer:.2f}",
                    f"{s.low:.2f} - {s.high:.2f}",
                ]
                for s in systems
            ],
        ),
        "",
        "Matched-pair sentence-segment word error test (MAPSSWE, as NIST sc_stats): "
        f"segments bounded by {mapsswe.MIN_GOOD} characters both systems got right; "
        f"the systems differ when |Z| > {mapsswe.Z_CRITICAL:.3f} (p < 0.05)",
        "",
        aligned_table(
            [
                "system A",
                "system B",
                "utterances",
                "segments",
                "A err (%)",
                "B err (%)",
                "mean A-B",
                "std dev",
                "Z",
                "p",
                "better",
            ],
            [
                [
                    a.name,
                    b.name,
                    r.sentences,
                    r.segments,
                    f"{r.percent1:.2f}",
                    f"{r.percent2:.2f}",
                    f"{r.mean:.3f}",
                    f"{r.std_dev:.3f}",
                    f"{r.z:.3f}",
                    f"{r.p:.4g}",
                    better_name(a, b, r),
                ]
                for a, b, r in tested
            ],
        ),
        "",
    ]
    if any(r.segments and r.std_dev == 0.0 for _, _, r in tested):
        lines += [
            "(std dev 0: every segment differs by the same count, and sc_stats then takes Z as 0)",
            "",
        ]
    lines += [f"system {s.name} cer={s.cer:.2f} ci95={s.low:.2f},{s.high:.2f}" for s in systems]
    lines += [
        f"pair {a.name} {b.name} segments={r.segments} z={r.z:.3f} p={r.p:.4g} "
        f"better={better_name(a, b, r)}"
        for a, b, r in tested
    ]
    return "\n".join(lines) + "\n"


def aligned_table(header, rows):
    """A Markdown table with its columns padded to one width, for reading in a terminal."""
    cells = [[str(c) for c in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |" for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def bounded(low, high):
    """An argparse type: a whole number from low to high."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, not {value}")
        return value

    return parse


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="local/compare.sh",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ref", help="reference Kaldi text file")
    parser.add_argument("hyps", nargs="+", help="two or more hypothesis Kaldi text files")
    parser.add_argument("--utt2spk", help="speakers (ids become (spk-utt), as in score.sh)")
    parser.add_argument("--names", help='names of the systems, e.g. "fbank hubert" [the files]')
    parser.add_argument(
        "--resamples", type=bounded(1, 100_000), default=bootstrap.RESAMPLES, help="[%(default)s]"
    )
    parser.add_argument(
        "--seed", type=bounded(0, 2**32 - 1), default=bootstrap.SEED, help="[%(default)s]"
    )
    args = parser.parse_args(argv)
    if len(args.hyps) < 2:
        parser.error("give at least two hypothesis files to compare")
    names = args.names.split() if args.names is not None else list(args.hyps)
    if len(names) != len(args.hyps):
        parser.error(f"--names has {len(names)} names for {len(args.hyps)} hypothesis files")
    if any(len(name.split()) != 1 for name in names):
        parser.error("a system name has white space (or is empty): name the systems with --names")
    if len(set(names)) != len(names):
        parser.error(f"the systems need different names: {' '.join(names)}")

    def warn(message):
        print(f"warning: {message}", file=sys.stderr)

    try:
        systems = load(args.ref, args.hyps, names, args.utt2spk, warn=warn)
        add_intervals(systems, args.resamples, args.seed)
        tested = pairs(systems, warn=warn)
    except (DataError, OutputError) as e:
        sys.exit(f"compare: error: {e}")
    except OSError as e:
        sys.exit(f"compare: error: {e.filename}: {e.strerror}")
    sys.stdout.write(report(systems, tested, args.resamples, args.seed))


if __name__ == "__main__":
    main()
