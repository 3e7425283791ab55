"""Where a system errs: the error analysis of one scored test set, in Markdown.

From the alignments of every utterance (local.report.score): the most frequent
substitution pairs, the most often deleted and inserted characters, and the CER
by utterance duration (buckets of seconds, from the dump's utt2num_samples) and
by speaker. local.report.score writes it as OUT_DIR/analysis.md; RESULTS.md
includes it below each CER table.
"""

from collections import Counter

from local.report.alignment import CORRECT, DELETION, INSERTION, SUBSTITUTION, sclite_round

TITLE = "# Error analysis"  # the first line of every analysis this module writes
TOP = 10  # rows of the substitution, deletion and insertion tables
MAX_SPEAKERS = 20  # speakers listed (the worst first)
BUCKETS = [0.0, 1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 20.0]  # lower edges, seconds


class Tally:
    """Utterances, reference characters and errors of a group of utterances."""

    def __init__(self):
        self.utterances = self.characters = self.errors = 0

    def add(self, path):
        self.utterances += 1
        self.characters += sum(op != INSERTION for op, _, _ in path)
        self.errors += sum(op != CORRECT for op, _, _ in path)

    def cer(self):
        """CER (%) as sclite rounds it, '-' without reference characters."""
        if not self.characters:
            return "-"
        return f"{sclite_round(self.errors / self.characters * 100):.1f}"

    def row(self, label):
        return [label, self.utterances, self.characters, self.errors, self.cer()]


def bucket_of(seconds):
    """The label of the duration bucket holding `seconds`, e.g. '2-3'."""
    lower = max(edge for edge in BUCKETS if edge <= seconds)
    index = BUCKETS.index(lower)
    upper = BUCKETS[index + 1] if index + 1 < len(BUCKETS) else None
    return f"{lower:g}-{upper:g}" if upper is not None else f">= {lower:g}"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def counted(counter, what, none):
    if not counter:
        return [f"(no {none})"]
    return table([what, "count"], [[c, n] for c, n in counter.most_common(TOP)])


def render(utterances, title, durations=None):
    """Markdown for [(utt, speaker, path)]; durations: {utt: seconds} or None."""
    substitutions, deletions, insertions = Counter(), Counter(), Counter()
    total, by_speaker, by_duration = Tally(), {}, {}
    for utt, speaker, path in utterances:
        for op, ref, hyp in path:
            if op == SUBSTITUTION:
                substitutions[(ref, hyp)] += 1
            elif op == DELETION:
                deletions[ref] += 1
            elif op == INSERTION:
                insertions[hyp] += 1
        total.add(path)
        by_speaker.setdefault(speaker, Tally()).add(path)
        if durations is not None:
            seconds = durations.get(utt)
            label = bucket_of(seconds) if seconds is not None else "unknown"
            by_duration.setdefault(label, Tally()).add(path)
    out = [
        f"{TITLE}: {title}",
        "",
        f"{total.utterances} utterances, {total.characters} reference characters, "
        f"{total.errors} errors (CER {total.cer()} %).",
        "",
        "## Most frequent substitutions",
        "",
    ]
    if substitutions:
        out += table(
            ["reference", "hypothesis", "count"],
            [[r, h, n] for (r, h), n in substitutions.most_common(TOP)],
        )
    else:
        out.append("(no substitutions)")
    out += ["", "## Most often deleted characters", ""]
    out += counted(deletions, "deleted", "deletions")
    out += ["", "## Most often inserted characters", ""]
    out += counted(insertions, "inserted", "insertions")
    out += ["", "## CER by utterance duration", ""]
    if durations is None:
        out.append("(durations unknown: no utt2num_samples)")
    else:
        order = {bucket_of(edge): i for i, edge in enumerate(BUCKETS)}
        labels = sorted(by_duration, key=lambda b: order.get(b, len(order)))
        out += table(
            ["duration (s)", "utterances", "characters", "errors", "CER (%)"],
            [by_duration[b].row(b) for b in labels],
        )
    out += ["", "## CER by speaker", ""]
    ranked = sorted(
        by_speaker.items(),
        key=lambda item: -(item[1].errors / item[1].characters if item[1].characters else 0),
    )
    out += table(
        ["speaker", "utterances", "characters", "errors", "CER (%)"],
        [tally.row(speaker) for speaker, tally in ranked[:MAX_SPEAKERS]],
    )
    if len(ranked) > MAX_SPEAKERS:
        out += ["", f"({len(ranked) - MAX_SPEAKERS} more speakers with lower CER)"]
    return "\n".join(out) + "\n"
