"""Recognize the report files a tool wrote earlier, so that it replaces only those
(fileio.atomic.write_text(..., owned=...)): a text file by its first line, a
PNG figure by the text chunk the tool puts into it.
"""

from pathlib import Path

PNG_KEY = "Source"  # the PNG text chunk (matplotlib's savefig metadata) naming the tool


def first_line(path):
    """The first line of a UTF-8 text file ('' when it cannot be read as one)."""
    try:
        with open(path, encoding="utf-8") as f:
            return f.readline()
    except (OSError, UnicodeDecodeError):
        return ""


def starts_with(prefix):
    """owned= for text files whose first line starts with prefix."""
    return lambda path: first_line(path).startswith(prefix)


def png_metadata(tool):
    """savefig(metadata=...) that marks a figure as the tool's."""
    return {PNG_KEY: tool}


def png_of(tool):
    """owned= for PNG figures marked by png_metadata(tool)."""
    chunk = f"{PNG_KEY}\0{tool}".encode()

    def owned(path):
        try:
            data = Path(path).read_bytes()
        except OSError:
            return False
        return data.startswith(b"\x89PNG\r\n\x1a\n") and chunk in data

    return owned
