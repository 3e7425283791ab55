"""Transcripts (local.decode.transcriber.Result) as text, JSON lines, SRT or WebVTT.

    text_line(result)   # "<source>\\t<transcript>"
    json_line(result)   # one JSON object, one line
    srt(result)         # a SubRip document (the `srt` package): one cue per segment
    vtt(result)         # a WebVTT document (`webvtt-py`): one cue per segment

Reads Results, writes strings. In the text line the transcript never holds a tab
or a line break (they become spaces), so the line splits at its last tab into the
source and the transcript (a line break in a file name is written as \\n, a byte that
is not UTF-8 as \\xNN). Segments without text get no cue. WebVTT cue text has &, <
and > escaped as the format requires (`&lt;unk&gt;`); SRT has no escapes.
"""

import datetime
import html
import json

FORMATS = ("text", "json", "srt", "vtt")
EXTENSIONS = {"text": ".txt", "json": ".json", "srt": ".srt", "vtt": ".vtt"}


def one_line(text):
    return " ".join(text.replace("\t", " ").splitlines()) if text else ""


def printable_source(source):
    """A file name as UTF-8 text: bytes that are not UTF-8 (Python holds them as lone
    surrogates, which no UTF-8 output takes) written as \\xNN."""
    return source.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def text_line(result):
    source = printable_source(result.source).replace("\n", "\\n").replace("\r", "\\r")
    return f"{source}\t{one_line(result.text)}"  # one line per file


def json_line(result):
    """{"source", "text", "duration", "confidence", "segments": [{"start", "end",
    "text", "confidence", "tokens": [{"text", "start", "end", "confidence"}]}],
    "notes"} or, for a failed input, {"source", "error"}."""
    if result.error is not None:
        return json.dumps(
            {"source": printable_source(result.source), "error": result.error}, ensure_ascii=False
        )
    out = result.to_dict()
    out.pop("error")
    out["source"] = printable_source(out["source"])
    order = ("source", "text", "duration", "confidence", "segments", "notes")
    return json.dumps({k: out[k] for k in order}, ensure_ascii=False)


def _cues(result):
    return [s for s in result.segments if s.text.strip()]


def srt(result):
    import srt as srt_package

    seconds = lambda t: datetime.timedelta(seconds=t)
    return srt_package.compose(
        [
            srt_package.Subtitle(i, seconds(s.start), seconds(s.end), one_line(s.text))
            for i, s in enumerate(_cues(result), 1)
        ],
        reindex=False,
    )


def _vtt_time(t):
    millis = int(round(t * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    return f"{hours:02d}:{minutes:02d}:{millis // 1000:02d}.{millis % 1000:03d}"


def _vtt_text(text):
    """Cue text as WebVTT wants it: &, < and > as character references (a token
    such as <unk> is not a tag, and --> cannot end the cue)."""
    return html.escape(one_line(text), quote=False)


def vtt(result):
    import webvtt

    document = webvtt.WebVTT(
        captions=[
            webvtt.Caption(start=_vtt_time(s.start), end=_vtt_time(s.end), text=_vtt_text(s.text))
            for s in _cues(result)
        ]
    )
    return document.content


def render(result, form):
    """The result in format `form` (FORMATS): a line for text and json, a document
    for srt and vtt."""
    return {"text": text_line, "json": json_line, "srt": srt, "vtt": vtt}[form](result)
