"""Character error rate with the numbers NIST sclite prints (sclite -i rm, default options).

    python -m local.report.score REF_TEXT HYP_TEXT [OUT_DIR] [--utt2spk FILE]
                                 [--durations UTT2NUM_SAMPLES]

REF_TEXT and HYP_TEXT are Kaldi `text` files (`<utt> <transcript>`), read by
Kaldi's rules (fileio.kaldi_table: any white space after the id, a UTF-8 BOM,
blank lines; another encoding is refused with its file and line). Spaces and
invisible characters (zero-width spaces, byte order marks: local.data.text_norm's
visible) are removed and every character is a token. Ids sclite cannot tell apart
(case of ASCII letters, speaker and utterance joined alike) or that hold a '(' are
refused. OUT_DIR receives ref.trn and hyp.trn
(sclite's input format, so `sclite -r ref.trn trn -h hyp.trn trn -i rm -o all
stdout` can check us), result.txt: the summary table by speaker followed by
the alignment of every utterance, laid out as sclite's `-o sum pra` output,
analysis.md (local.report.error_analysis; durations from --durations, else from
utt2num_samples beside REF_TEXT when there) and pinyin.txt: the same texts scored
as pinyin syllables, without and with tones, beside the CER (local.report.pinyin
says how), which shows how many errors are homophones; the three rates are also
printed after the table. Files in OUT_DIR are replaced only
when they are earlier outputs of this scorer: its mark .written_by (written first,
so that an interrupted run is resumed) or, from before the mark, its result.txt.
Scored utterances whose references are all empty are an error (there is no CER),
not 0 %.

What sclite does, and so do we:
- alignment costs 0 (correct), 4 (substitution), 3 (insertion, deletion); when
  several moves into a cell cost the same, the diagonal wins, then insertion
  (this settles the Sub/Del/Ins split and even the error count);
- ASCII letters are compared case-insensitively;
- percentages are num/den*100 rounded half away from zero to one decimal;
- with -i rm the speaker of `(spk-utt)` is the text before the first '-' (else
  the first '_'; else the previous utterance's speaker);
- reference utterances without a hypothesis are not scored (we say how many);
  a hypothesis without a reference is an error.
Unlike sclite, characters that sclite's input format reserves ('@', ';', '\\',
'{', a line starting with ';;' or '**') are plain characters here.
"""

import argparse
import math
import os
import sys
from pathlib import Path

from fileio.atomic import OWNER_FILE, OutputError, owner_of, write_text
from fileio.audio import SAMPLE_RATE
from fileio.kaldi_table import DataError, read_table
from local.report import error_analysis, owned, pinyin
from local.report.alignment import (
    CORRECT,
    DELETION,
    INSERTION,
    SUBSTITUTION,
    align,
    characters,
    fold_case,
    percent,
    sclite_round,
)


class Counts:
    """Correct/substituted/deleted/inserted tokens and sentence counts."""

    def __init__(self):
        self.ops = {CORRECT: 0, SUBSTITUTION: 0, DELETION: 0, INSERTION: 0}
        self.sentences = 0
        self.sentence_errors = 0

    def add(self, path):
        for op, _, _ in path:
            self.ops[op] += 1
        self.sentences += 1
        self.sentence_errors += any(op != CORRECT for op, _, _ in path)

    def merge(self, other):
        for op in self.ops:
            self.ops[op] += other.ops[op]
        self.sentences += other.sentences
        self.sentence_errors += other.sentence_errors

    @property
    def words(self):
        return self.ops[CORRECT] + self.ops[SUBSTITUTION] + self.ops[DELETION]

    @property
    def errors(self):
        return self.ops[SUBSTITUTION] + self.ops[DELETION] + self.ops[INSERTION]

    def columns(self):
        """Corr, Sub, Del, Ins, Err as percentages of the reference tokens (unrounded)."""
        values = [
            self.ops[CORRECT],
            self.ops[SUBSTITUTION],
            self.ops[DELETION],
            self.ops[INSERTION],
            self.errors,
        ]
        return [percent(v, self.words) for v in values]


def mean_sd_median(values):
    if not values:
        return 0.0, 0.0, 0.0
    n = len(values)
    mean = sum(values) / n
    spread = sum((x - mean) * (x - mean) for x in values)
    ordered = sorted(values)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2] + ordered[n // 2 - 1]) / 2
    return mean, (math.sqrt(spread / (n - 1)) if spread != 0.0 else 0.0), median


def speaker_of(trn_id, previous):
    """sclite -i rm: '(spk-utt)' -> 'spk' (lower-cased ids), else up to '_', else previous."""
    for separator in "-_":
        if separator in trn_id:
            return trn_id[1 : trn_id.index(separator)]
    return previous


class Scoring:
    """All utterances of one test set, grouped by speaker in hypothesis order."""

    def __init__(self, title):
        self.title = title
        self.utterances = []  # (trn id, speaker, path)
        self.keys = []  # the utterance id of each, as in the Kaldi text
        self.speakers = {}  # speaker -> Counts, in order of first appearance
        self.total = Counts()
        self.pinyin = {}  # style -> Scoring of the pinyin syllables (score_files)

    def add(self, trn_id, path, key=None):
        previous = self.utterances[-1][1] if self.utterances else ""
        speaker = speaker_of(trn_id, previous)
        self.utterances.append((trn_id, speaker, path))
        self.keys.append(key if key is not None else trn_id)
        self.speakers.setdefault(speaker, Counts()).add(path)
        self.total.add(path)

    def keyed(self):
        """[(utterance id, speaker, path)] in hypothesis order."""
        return [(key, spk, path) for key, (_, spk, path) in zip(self.keys, self.utterances)]

    def cer(self):
        return percent(self.total.errors, self.total.words)

    # -- the summary table (sclite -o sum) --------------------------------
    def summary_rows(self):
        """The table's rows [(justification, 9 cells, separator line before it)], and
        whether some speaker has no reference tokens."""
        rows = [
            (
                "l" + "c" * 8,
                [" SPKR", " # Snt", "# Wrd", "Corr", " Sub", " Del", " Ins", " Err", "S.Err"],
                "-",
            )
        ]
        per_speaker = []
        for speaker, counts in self.speakers.items():
            if counts.words == 0:  # sclite shows counts when there is nothing to divide by
                raw = [
                    counts.ops[CORRECT],
                    counts.ops[SUBSTITUTION],
                    counts.ops[DELETION],
                    counts.ops[INSERTION],
                    counts.errors,
                ]
                cells = ["%5.0f*" % sclite_round(float(v), 0) for v in raw]
                columns = [float(v) for v in raw]
            else:
                columns = counts.columns()
                cells = ["%5.1f " % sclite_round(v) for v in columns]
            sentence_error = percent(counts.sentence_errors, counts.sentences)
            cells.append("%5.1f " % sclite_round(sentence_error))
            rows.append(
                (
                    "l" + "c" * 8,
                    [f" {speaker} ", "%5d" % counts.sentences, "%5d" % counts.words] + cells,
                    "-",
                )
            )
            per_speaker.append((counts, columns, sentence_error))
        total = self.total
        cells = [" Sum/Avg", "%5d" % total.sentences, "%5d" % total.words]
        cells += ["%5.1f " % sclite_round(v) for v in total.columns()]
        cells.append("%5.1f " % sclite_round(percent(total.sentence_errors, total.sentences)))
        rows.append(("l" + "c" * 8, cells, "="))
        statistics, has_empty = self._statistics_rows(per_speaker)
        return rows + statistics, has_empty

    @staticmethod
    def _statistics_rows(per_speaker):
        """Mean, S.D. and Median over speakers, as sclite computes them.

        Speakers without reference tokens are meant to be left out of the Corr..Err
        statistics; sclite's removal shifts the arrays in a way that can keep a wrong
        entry, and we shift the same way so that the numbers agree.
        """
        columns = [list(c) for c in zip(*[cols for _, cols, _ in per_speaker])] or [[]] * 5
        empty = [i for i, (counts, _, _) in enumerate(per_speaker) if counts.words == 0]
        n = len(per_speaker)
        for i in empty:
            for column in columns:
                column[i : n - 1] = column[i + 1 : n]
                column[n - 1] = -1000.0
        kept = n - len(empty)
        stats = [
            mean_sd_median([float(c.sentences) for c, _, _ in per_speaker]),
            mean_sd_median([float(c.words) for c, _, _ in per_speaker]),
        ]
        stats += [mean_sd_median(column[:kept]) for column in columns]
        stats.append(mean_sd_median([s for _, _, s in per_speaker]))
        mark = "+" if empty else " "
        rows = []
        for index, label in enumerate([" Mean ", " S.D. ", "Median"]):
            values = [s[index] for s in stats]
            cells = [label, "%5.1f " % sclite_round(values[0]), "%5.1f " % sclite_round(values[1])]
            cells += [("%5.1f" % sclite_round(v)) + mark for v in values[2:7]]
            cells.append("%5.1f " % sclite_round(values[7]))
            rows.append(("c" * 9, cells, "=" if index == 0 else None))
        return rows, bool(empty)

    def summary(self):
        rows, has_empty = self.summary_rows()
        lines = ["", "", "", center("SYSTEM SUMMARY PERCENTAGES by SPEAKER", 80), ""]
        lines += render_table(self.title, rows)
        if has_empty:
            lines += [
                "",
                "* No Reference words for this/these speaker(s).  Word counts supplied",
                "  rather than percents.",
                "# No Reference words for this/these speaker(s).  NCE not computable.",
                "+ Speaker(s) with no reference data is ignored",
            ]
        return "\n".join(lines) + "\n"

    # -- the alignments (sclite -o pra) ------------------------------------
    def alignments(self, line_width=1000):
        lines = [
            "",
            "",
            "\t\tDUMP OF SYSTEM ALIGNMENT STRUCTURE",
            "",
            f"System name:   {self.title}",
            "",
            "Speakers: ",
        ]
        lines += ["   %2d:  %s" % (i, s) for i, s in enumerate(self.speakers)]
        lines.append("")
        for i, (speaker, counts) in enumerate(self.speakers.items()):
            lines.append("Speaker sentences%4d:  %s   #utts: %d" % (i, speaker, counts.sentences))
            for trn_id, utt_speaker, path in self.utterances:
                if utt_speaker == speaker:
                    lines += alignment_lines(trn_id, path, line_width)
                    lines.append("")
        lines.append("")
        return "\n".join(lines) + "\n"


def width_of(text):
    """Width as sclite lays text out: in UTF-8 bytes (张三 takes 6 columns)."""
    return len(text.encode("utf-8"))


def center(text, width):
    before = (width - width_of(text)) // 2
    return " " * max(before, 0) + text + " " * max(width - width_of(text) - before, 0)


def render_table(title, rows):
    """sclite's boxed table: a title row, then 9 columns laid out as l|cc|cccccc."""
    gaps = ["|", " ", "|", " ", " ", " ", " ", " "]
    widths = [max(width_of(cells[c]) for _, cells, _ in rows) for c in range(9)]
    inner = 2 + sum(widths) + 8
    width = max(inner, 2 + width_of(title))
    indent = " " * ((80 - width) // 2) if width < 80 else ""
    spare, added, sizes = width - inner, 0, []
    for c in range(9):  # a wide title's extra room is spread over the columns
        extra = (int(sclite_round(spare / 9 * (c + 1), 0)) - added) if c < 8 else spare - added
        added += extra
        sizes.append(widths[c] + extra)

    def cell(c, text, justify):
        size, used = sizes[c], widths[c]
        before = (size - used) // 2
        body = center(text, used) if justify == "c" else text + " " * (used - width_of(text))
        return " " * before + body + " " * (size - used - before)

    title_room = width - 2
    before = (title_room - width_of(title)) // 2
    lines = [
        indent + "," + "-" * (width - 2) + ".",
        indent + "|" + " " * before + title + " " * (title_room - width_of(title) - before) + "|",
    ]
    after_title = True
    for justify, cells, separator in rows:
        if separator:
            joints = [
                ("+" if separator == "-" and not after_title and g != " " else separator)
                for g in gaps
            ]
            lines.append(
                indent
                + "|"
                + "".join(separator * sizes[c] + (joints[c] if c < 8 else "") for c in range(9))
                + "|"
            )
        lines.append(
            indent
            + "|"
            + "".join(cell(c, cells[c], justify[c]) + (gaps[c] if c < 8 else "") for c in range(9))
            + "|"
        )
        after_title = False
    lines.append(indent + "`" + "-" * (width - 2) + "'")
    return lines


def upper_ascii(token):
    return token.upper() if token.isascii() else token


def shown(token, op, other_bytes):
    """A token as sclite's pra shows it: '*' for a gap (as wide as the other side),
    ASCII in lower case when correct and in upper case when wrong."""
    if token is None:
        return "*" * other_bytes
    if op != CORRECT:
        return upper_ascii(token)
    return token.lower() if token.isascii() else token


def alignment_lines(trn_id, path, line_width):
    """One utterance as sclite's pra block: id, scores, REF/HYP/Eval rows (byte widths)."""
    counts = {
        op: sum(1 for o, _, _ in path if o == op)
        for op in (CORRECT, SUBSTITUTION, DELETION, INSERTION)
    }
    lines = [f"id: {trn_id}", "Scores: (#C #S #D #I) %d %d %d %d" % tuple(counts.values())]
    items = []
    for op, ref, hyp in path:
        ref_bytes = 1 if ref is None else width_of(ref)
        hyp_bytes = 1 if hyp is None else width_of(hyp)
        width = max(ref_bytes, hyp_bytes)
        shown_ref = shown(ref, op, hyp_bytes)
        shown_hyp = shown(hyp, op, ref_bytes)

        def pad(text, width=width):
            return text + " " * (width - width_of(text)) + " "

        items.append((width, pad(shown_ref), pad(shown_hyp), pad("" if op == CORRECT else op)))
    done = 0
    while done < len(items):
        length, end = (9 if done else 6), done
        while length < line_width and end < len(items):
            length += 1 + items[end][0]
            end += 1
        if end < len(items):
            end -= 1  # the item that crossed the limit starts the next pass
        end = max(end, done + 1)
        prefix = ">> " if done else ""
        if done:
            lines.append("")
        for label, index in (("REF:  ", 1), ("HYP:  ", 2), ("Eval: ", 3)):
            lines.append(prefix + label + "".join(item[index] for item in items[done:end]))
        done = end
    return lines


def trn_line(tokens, trn_id):
    return " ".join(tokens + [trn_id]) + "\n"


RESULT_MARK = "SYSTEM SUMMARY PERCENTAGES by SPEAKER"  # in result.txt's first lines
OUTPUTS = ("analysis.md", "ref.trn", "hyp.trn", "pinyin.txt", "result.txt")  # in the order written


def read_reference(ref_path):
    """{utt: text} of a reference file (Kaldi's rules: fileio.kaldi_table)."""
    refs = read_table(ref_path, allow_empty_value=True)
    if not refs:
        raise DataError(f"{ref_path}: no reference utterance in the file")
    return refs


def read_hypotheses(hyp_path, refs, ref_path):
    """{utt: text} of a hypothesis file, in the reference's order; a hypothesis without
    a reference is an error. (sclite gives an id without a speaker the previous line's
    speaker: in the reference's order, every system of a test set gets the same.)"""
    hyps = read_table(hyp_path, allow_empty_value=True)
    if not hyps:
        raise DataError(f"{hyp_path}: no hypothesis utterance in the file")
    unknown = [u for u in hyps if u not in refs]
    if unknown:
        raise DataError(
            f"{hyp_path}: {len(unknown)} utterances have no reference in {ref_path}, "
            f"e.g. '{unknown[0]}'"
        )
    return {u: hyps[u] for u in refs if u in hyps}


def read_texts(ref_path, hyp_path, utt2spk_path=None):
    """References, hypotheses ({utt: text}) and speakers ({utt: spk})."""
    refs = read_reference(ref_path)
    hyps = read_hypotheses(hyp_path, refs, ref_path)
    utt2spk = read_table(utt2spk_path) if utt2spk_path else {}
    without = [u for u in hyps if utt2spk_path and u not in utt2spk]
    if without:
        raise DataError(
            f"{utt2spk_path}: no speaker for {len(without)} scored utterances, e.g. '{without[0]}'"
        )
    return refs, hyps, utt2spk


def trn_ids_of(refs, utt2spk, ref_path="the reference"):
    """The trn id of every utterance: `(spk-utt)` with a speaker, else `(utt)`. Two
    utterances whose ids sclite cannot tell apart (it ignores the case of ASCII
    letters; `(a-b-c)` is speaker a-b's utterance c and speaker a's b-c), and ids
    with a '(' (sclite takes the id from the last one) are refused: sclite would
    pair or count their sentences wrongly."""
    trn_ids, seen = {}, {}
    for utt in refs:
        trn_ids[utt] = f"({utt2spk[utt]}-{utt})" if utt in utt2spk else f"({utt})"
        if "(" in trn_ids[utt][1:]:  # sclite reads the id from the line's last '('
            whose = f"utterance '{utt}'" + (
                f" of speaker '{utt2spk[utt]}'" if utt in utt2spk else ""
            )
            raise DataError(f"{ref_path}: {whose}: an id with '(' cannot be scored by sclite")
        other = seen.setdefault(sclite_id(trn_ids[utt]), utt)
        if other != utt:
            raise DataError(
                f"{ref_path}: utterances '{other}' and '{utt}' have the same sclite id "
                f"{sclite_id(trn_ids[utt])}: sclite cannot tell them apart; rename one"
            )
    return trn_ids


def sclite_id(trn_id):
    """The id as sclite keeps it: ASCII letters in lower case, no other letter."""
    return "".join(map(fold_case, trn_id))


def scoring_of(refs, hyps, trn_ids, title, tokens=characters):
    """The Scoring of hypotheses {utt: text} against references {utt: text}, each
    text made tokens by tokens(text) (default: its characters)."""
    scoring = Scoring(title)
    for utt, text in hyps.items():
        scoring.add(sclite_id(trn_ids[utt]), align(tokens(refs[utt]), tokens(text)), utt)
    return scoring


def pinyin_scorings(refs, hyps, trn_ids):
    """{style: Scoring} of the texts as pinyin syllables (local.report.pinyin.STYLES)."""
    return {
        name: scoring_of(
            refs, hyps, trn_ids, f"pinyin {name}", lambda t, tones=tones: pinyin.syllables(t, tones)
        )
        for name, tones in pinyin.STYLES.items()
    }


def error_line(label, scoring):
    """`CER 4.1 % [ 41 / 1000, 30 sub, 6 del, 5 ins ]`, as printed after the table."""
    total = scoring.total
    return (
        f"{label} {sclite_round(scoring.cer()):.1f} % [ {total.errors} / {total.words}, "
        f"{total.ops[SUBSTITUTION]} sub, {total.ops[DELETION]} del, "
        f"{total.ops[INSERTION]} ins ]"
    )


def check_reference(scoring, refs, ref_path, hyp_path):
    """A CER needs reference characters: refuse when the scored utterances have none."""
    if scoring.total.words:
        return
    if not any(characters(text) for text in refs.values()):
        raise DataError(f"{ref_path}: every reference is empty; there is no CER to compute")
    raise DataError(
        f"{hyp_path}: the references of its {scoring.total.sentences} utterances "
        f"are all empty in {ref_path}; there is no CER to compute"
    )


def read_durations(path):
    """{utt: seconds} from a utt2num_samples table (16 kHz samples)."""
    durations = {}
    for utt, value in read_table(path).items():
        try:
            durations[utt] = int(value) / SAMPLE_RATE
        except ValueError:
            raise DataError(f"{path}: '{utt}' has '{value}', not a number of samples") from None
    return durations


def default_durations(ref_path):
    """utt2num_samples beside the reference (a dumped data folder), or None."""
    beside = Path(ref_path).parent / "utt2num_samples"
    return beside if beside.is_file() else None


def our_result(out_dir):
    """Whether out_dir/result.txt is an earlier output of this scorer (sclite's
    summary title in its first lines)."""
    try:
        with open(Path(out_dir) / "result.txt", encoding="utf-8") as f:
            return any(RESULT_MARK in f.readline() for _ in range(5))
    except (OSError, UnicodeDecodeError):
        return False


our_analysis = owned.starts_with(error_analysis.TITLE)


SCORER = "local.report.score"  # the mark's tool name (as fileio.atomic's markers)


def our_folder(out_dir):
    """Whether out_dir's ref.trn, hyp.trn and result.txt are an earlier output of this
    scorer: its owner marker (written before them, so an interrupted run resumes) or,
    from before the marker, its result.txt (written last). Our analysis.md alone
    proves nothing about the other files."""
    return owner_of(out_dir) == SCORER or our_result(out_dir)


def check_out_dir(out_dir):
    """Refuse (OutputError) an OUT_DIR whose files this scorer did not write: they are
    replaced only when the folder holds an earlier output of the scorer."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"{out_dir}: exists and is not a folder")
    for name in OUTPUTS:
        path = out_dir / name
        ours = our_analysis(path) if name == "analysis.md" else our_folder(out_dir)
        if os.path.lexists(path) and not (path.is_file() and ours):
            raise OutputError(
                f"{path}: exists and was not written by local/score.sh; not overwritten "
                "(move it away or choose another OUT_DIR)"
            )


def score_files(
    ref_path, hyp_path, out_dir=None, utt2spk_path=None, title=None, durations_path=None
):
    """Score two Kaldi text files; write analysis.md, ref.trn, hyp.trn, pinyin.txt and
    result.txt to out_dir. Returns the Scoring (its .pinyin: {style: Scoring} of the
    pinyin syllables) and the number of references without hypothesis."""
    refs, hyps, utt2spk = read_texts(ref_path, hyp_path, utt2spk_path)
    durations = read_durations(durations_path) if durations_path else None
    if out_dir:
        check_out_dir(out_dir)
    trn_ids = trn_ids_of(refs, utt2spk, ref_path)
    title = title or (str(Path(out_dir) / "hyp.trn") if out_dir else str(hyp_path))
    scoring = scoring_of(refs, hyps, trn_ids, title)
    check_reference(scoring, refs, ref_path, hyp_path)
    scoring.pinyin = pinyin_scorings(refs, hyps, trn_ids)
    missing = len(refs) - len(hyps)
    if out_dir:
        out_dir = Path(out_dir)
        if owner_of(out_dir) is None:  # never another tool's marker
            write_text(out_dir / OWNER_FILE, SCORER + "\n")
        ours = lambda path: our_folder(out_dir)
        analysis = error_analysis.render(
            scoring.keyed(), f"{hyp_path} against {ref_path}", durations
        )
        write_text(out_dir / "analysis.md", analysis, owned=our_analysis)
        refs_trn = "".join(trn_line(characters(refs[u]), trn_ids[u]) for u in refs)
        write_text(out_dir / "ref.trn", refs_trn, owned=ours)
        hyps_trn = "".join(trn_line(characters(hyps[u]), trn_ids[u]) for u in hyps)
        write_text(out_dir / "hyp.trn", hyps_trn, owned=ours)
        syllables = pinyin.render(scoring, scoring.pinyin, f"{hyp_path} against {ref_path}")
        write_text(out_dir / "pinyin.txt", syllables + "\n", owned=ours)
        write_text(out_dir / "result.txt", scoring.summary() + scoring.alignments(), owned=ours)
    return scoring, missing


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("ref", help="reference Kaldi text file")
    parser.add_argument("hyp", help="hypothesis Kaldi text file")
    parser.add_argument("out_dir", nargs="?", help="where ref.trn, hyp.trn, result.txt go")
    parser.add_argument(
        "--utt2spk", help="speakers for the per-speaker rows (ids become (spk-utt))"
    )
    parser.add_argument(
        "--durations",
        help="utt2num_samples (16 kHz) for the CER by duration in OUT_DIR/analysis.md "
        "[utt2num_samples beside REF_TEXT, when there]",
    )
    args = parser.parse_args(argv)
    try:
        durations = args.durations or (default_durations(args.ref) if args.out_dir else None)
        scoring, missing = score_files(
            args.ref, args.hyp, args.out_dir, args.utt2spk, durations_path=durations
        )
    except (DataError, OutputError) as e:
        sys.exit(f"score: error: {e}")
    except OSError as e:
        sys.exit(f"score: error: {e.filename}: {e.strerror}")
    sys.stdout.write(scoring.summary())
    print("\n" + error_line("CER", scoring))
    for name, syllables in scoring.pinyin.items():
        print(error_line(f"pinyin syllable error rate {name}:", syllables))
    if missing:
        print(
            f"WARNING: {missing} reference utterances have no hypothesis and are not scored "
            "(as sclite does)",
            file=sys.stderr,
        )


if __name__ == "__main__":
    main()
