"""Transcript normalization shared by the recipes (and by cross-corpus scoring).

normalize_mandarin() is the WenetSpeech recipe's rule, the one community recipes
(ESPnet's text_normalize.pl, WeNet) intend:
- every kind of space (ASCII, full-width U+3000, no-break U+00A0, zero-width
  U+200B, ...) and control character between Chinese characters is dropped;
- Latin letters are upper-cased (full-width ones too);
- consecutive English words keep exactly one space between them ("HELLO WORLD"),
  and no space is kept next to a Chinese character ("我用IPHONE手机").
Aishell transcripts only need their spaces removed, which this rule also does.
"""

import re

_CJK = re.compile(
    r"[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uff0f"
    r"\U00020000-\U0002fa1f\U00030000-\U000323af]"
)
# zero-width spaces, word joiner, byte order mark and control characters: spaces here
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\x00-\x1f\x7f-\x9f]")


def visible(text):
    """text with the invisible characters (zero-width spaces, byte order marks,
    control characters) turned into spaces."""
    return _INVISIBLE.sub(" ", text)


def _is_word_char(ch):
    """Part of an English-like word: letters and digits that are not CJK, or '."""
    return (ch.isalnum() or ch == "'") and not _CJK.match(ch)


def normalize_mandarin(text):
    words = visible(text).upper().split()  # split() splits on every Unicode space
    if len(words) <= 1:
        return words[0] if words else ""
    out = [words[0]]
    for word in words[1:]:
        if _is_word_char(out[-1][-1]) and _is_word_char(word[0]):
            out.append(" ")
        out.append(word)
    return "".join(out)
