"""Read the entries of one big array of a JSON document in constant memory, fast,
and in byte ranges that processes can read in parallel (WenetSpeech.json's
"audios": a gigabyte, millions of segments).

The fast path needs the document laid out as WenetSpeech.json is: a top-level
object whose members before the array are plain values, the array last, and
every entry an object that begins with the same key ({"aid": ...}). The bytes
are then cut where an entry begins and each block of whole entries is parsed by
orjson, several times faster than an event parser (ijson) and than json.load.

Why a cut cannot give wrong entries: the entry pattern `{"aid":` cannot occur
inside a string (a quote there is escaped), so a false cut can only fall inside
a nested object; the block before it then has an unclosed bracket and fails to
parse (BrokenLayout) instead of yielding anything wrong. Callers fall back to
the event parser on None (layout not recognized) and on BrokenLayout.
"""

import gc
import re

import orjson

BLOCK_BYTES = 1 << 18  # parsed at a time (larger blocks measured slower: GC, caches)
_SPACE = b" \t\r\n"
# a plain JSON value: string, number, true/false/null
_SCALAR = rb'(?:"(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*|true|false|null)'


class BrokenLayout(ValueError):
    """A block between two cuts is not a list of whole entries."""


def _entry_start(first_key):
    return re.compile(rb'\{\s*"' + re.escape(first_key.encode()) + rb'"\s*:')


def array_span(path, member, first_key, head_bytes=1 << 16):
    """(start, stop) of the bytes between `member`'s brackets, from its first entry
    to the end of its last; None when the layout is not the one described above."""
    bom, member_before = rb"(?:\xef\xbb\xbf)?", rb'"(?:[^"\\]|\\.)*"\s*:\s*' + _SCALAR + rb"\s*,\s*"
    head_pattern = re.compile(
        bom
        + rb"\s*\{\s*(?:"
        + member_before
        + rb')*"'
        + re.escape(member.encode())
        + rb'"\s*:\s*\[\s*'
    )
    with open(path, "rb") as f:
        head = f.read(head_bytes)
        found = head_pattern.match(head)
        if found is None or not _entry_start(first_key).match(head, found.end()):
            return None
        f.seek(0, 2)
        size = f.tell()
        tail_start = max(found.end(), size - 4096)
        f.seek(tail_start)
        tail = f.read().rstrip(_SPACE)  # ... } ] }
        if not tail.endswith(b"}"):
            return None
        inner = tail[:-1].rstrip(_SPACE)
        if not inner.endswith(b"]"):
            return None  # something follows the array: not this layout
        stop = tail_start + len(inner[:-1].rstrip(_SPACE))
    return (found.end(), stop) if found.end() < stop else None


def split_span(path, span, parts, first_key, window=1 << 22):
    """`span` cut into at most `parts` spans of whole entries, near equal in bytes;
    each but the last stops before the comma that separates it from the next."""
    start, stop = span
    entry = _entry_start(first_key)
    starts = [start]
    with open(path, "rb") as f:
        for k in range(1, parts):
            guess = start + (stop - start) * k // parts
            if guess <= starts[-1]:
                continue
            f.seek(guess)
            hit = entry.search(f.read(min(window, stop - guess)))
            if hit is not None:
                starts.append(guess + hit.start())
        spans = []
        for a, b in zip(starts, starts[1:] + [None]):
            if b is None:
                spans.append((a, stop))
                continue
            low = max(a, b - 64)
            f.seek(low)
            spans.append((a, low + len(_before_comma(f.read(b - low), path, b))))
    return spans


def read_span(path, span, first_key, block=BLOCK_BYTES):
    """The entries in `span` (from array_span or split_span), parsed a block of
    whole entries at a time."""
    key = b'"' + first_key.encode() + b'"'
    entry = _entry_start(first_key)
    start, stop = span
    with open(path, "rb") as f:
        f.seek(start)
        left, buffer, offset = stop - start, bytearray(), start
        while left > 0 or buffer:
            data = f.read(min(block, left)) if left > 0 else b""
            left = left - len(data) if data else 0
            searched = max(0, len(buffer) - len(key) - 64)  # no cut before: look at new bytes
            buffer += data
            cut = _last_entry_start(buffer, key, entry, searched) if left > 0 else len(buffer)
            if cut is None:  # one entry longer than the block so far: read on
                continue
            piece, buffer = bytes(buffer[:cut]), buffer[cut:]
            if buffer:  # more entries follow
                piece = _before_comma(piece, path, offset + cut)
            try:
                entries = _parse_without_gc(b"[" + piece + b"]")
            except orjson.JSONDecodeError as e:
                raise BrokenLayout(f"{path}: bytes {offset}-{offset + cut}: {e}") from None
            offset += cut
            yield from entries


def _before_comma(data, path, entry_at):
    """data (the bytes before an entry) without the comma and white space that end it."""
    data = data.rstrip(_SPACE)
    if not data.endswith(b","):
        raise BrokenLayout(f"{path}: no comma before the entry at byte {entry_at}")
    return data[:-1]


def _parse_without_gc(data):
    """orjson.loads with the cycle collector paused: parsed JSON holds no cycles, and
    collections triggered while building thousands of dicts cost time for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return orjson.loads(data)
    finally:
        if enabled:
            gc.enable()


def _last_entry_start(buffer, key, entry, searched=0):
    """Offset of the last entry beginning in buffer after its first byte (and whose
    key lies after `searched`), or None."""
    position = len(buffer)
    while True:
        position = buffer.rfind(key, searched, position)
        if position <= 0:
            return None
        brace = position - 1
        while brace > 0 and buffer[brace] in _SPACE:
            brace -= 1
        if brace > 0 and entry.match(buffer, brace):
            return brace
