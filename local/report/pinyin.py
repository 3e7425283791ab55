"""Transcripts as pinyin syllables: how much of a CER is homophones.

Each token of the CER (local.report.alignment.characters: every visible character)
becomes one token here: a Chinese character its pinyin syllable as pypinyin reads it
in its sentence (its phrase readings: 银行 yin hang, 行走 xing zou), any other
character (a Latin letter, a digit) itself. So a set has as many syllables as
characters, and scored as the CER (local.report.score, sclite's alignment) the two
error rates share their denominator. Two spellings, STYLES:

- `without tones` (pypinyin's NORMAL style: 是, 事 and 市 are all `shi`): an error
  left here is not a homophone;
- `with tones` (TONE3, the neutral tone as 5: `shi4`, `de5`).

A Latin a, e or o and the tone-less syllable of 啊, 饿 or 哦 are the same token.
"""

from importlib import metadata

from pypinyin import Style, lazy_pinyin

from local.report.alignment import DELETION, INSERTION, SUBSTITUTION, characters, sclite_round

STYLES = {"without tones": False, "with tones": True}  # name -> with tones


def as_themselves(text):
    """pypinyin's errors= callback: characters without pinyin stay, one token each."""
    return list(text)


def syllables(text, tones=False):
    """The tokens of a transcript: one per character, Chinese ones as pinyin."""
    chars = characters(text)
    found = convert("".join(chars), tones)
    if len(found) != len(chars):  # never seen; each character alone keeps the count
        found = [(convert(c, tones) + [c])[0] for c in chars]
    return found


def convert(text, tones):
    if tones:
        return lazy_pinyin(
            text, style=Style.TONE3, neutral_tone_with_five=True, errors=as_themselves
        )
    return lazy_pinyin(text, style=Style.NORMAL, errors=as_themselves)


def version():
    """pypinyin's version (its readings may change with it)."""
    return metadata.version("pypinyin")


TITLE = "# Pinyin syllable errors"  # the first line of every pinyin.txt
HEADING = "## pinyin "  # + a STYLES name: the sclite summary of that spelling


def error_row(label, scoring):
    """A row of the overview: tokens, errors by kind and the error rate (%)."""
    ops = scoring.total.ops
    return (
        f"| {label} | {scoring.total.words} | {scoring.total.errors} | {ops[SUBSTITUTION]} | "
        f"{ops[DELETION]} | {ops[INSERTION]} | {sclite_round(scoring.cer()):.1f} |"
    )


def render(cer, by_style, title):
    """pinyin.txt: the CER's Scoring and those of STYLES ({name: Scoring}) side by side,
    then each spelling's sclite summary by speaker."""
    out = [
        f"{TITLE}: {title}",
        "",
        "Every character is one token, as in the CER (result.txt): a Chinese character as",
        f"its pinyin syllable (pypinyin {version()}, read in its sentence), any other",
        "character as itself; aligned and counted as sclite counts words. Without tones",
        "是, 事 and 市 are one syllable: an error left there is not a homophone.",
        "",
        "| tokens | Wrd | Err | Sub | Del | Ins | error rate (%) |",
        "|---|---|---|---|---|---|---|",
        error_row("characters (CER)", cer),
    ]
    out += [error_row(f"pinyin {name}", by_style[name]) for name in STYLES]
    for name in STYLES:
        out += ["", f"{HEADING}{name}", by_style[name].summary().strip("\n"), ""]
    return "\n".join(out)
