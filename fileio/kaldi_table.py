"""Kaldi tables: text files of `<key> <value>` lines (wav.scp, text, utt2spk, ...).

Read as Kaldi reads them: the key is the first word, the value the rest of the
line without the white space around it (any white space separates them: spaces,
tabs, the full-width space U+3000); blank lines are ignored and a UTF-8 byte
order mark at the start is dropped. A file that is not UTF-8 is refused with the
line that is not. Written sorted by key (byte order), the order Kaldi and ESPnet
expect.
"""

from pathlib import Path

from fileio.atomic import atomic_file


class DataError(Exception):
    """Malformed input, with the file (and line) that is wrong."""


def read_lines(path):
    """(line number, line) of a UTF-8 text file, without the line ends and the BOM."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as e:
                    raise DataError(
                        f"{path}:{number}: not UTF-8 text (byte {e.start}: "
                        f"{raw[e.start : e.start + 4]!r}); convert the file, e.g. "
                        "`iconv -f GBK -t UTF-8`"
                    ) from None
                if number == 1:
                    line = line.removeprefix("\ufeff")
                line = line.rstrip("\r\n")
                if "\r" in line:
                    raise DataError(
                        f"{path}:{number}: a carriage return inside the line "
                        "(old Mac line ends?); convert the file, e.g. `mac2unix`"
                    )
                if line.startswith("\ufeff"):
                    raise DataError(
                        f"{path}:{number}: a byte order mark inside the file "
                        "(files joined with cat?); remove it"
                    )
                yield number, line
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a table file") from None
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except NotADirectoryError:
        raise DataError(f"{path}: no such file (a part of the path is a file)") from None
    except OSError as e:  # no permission, an I/O error
        raise DataError(f"{path}: cannot read ({e.strerror})") from None


def read_table(path, allow_empty_value=False):
    """Read `<key> <value>` lines into an ordered dict; reject bad lines by number."""
    table = {}
    for number, line in read_lines(path):
        fields = line.split(maxsplit=1)
        if not fields:
            continue  # a blank line
        key = fields[0]
        value = fields[1].strip() if len(fields) > 1 else ""
        if not value and not allow_empty_value:
            raise DataError(f"{path}:{number}: '{key}' has no value")
        if key in table:
            raise DataError(f"{path}:{number}: duplicate key '{key}'")
        table[key] = value
    return table


def write_table(path, table):
    """Write a table sorted by key (the order Kaldi and ESPnet expect), atomically."""
    with atomic_file(path) as f:
        for key in sorted(table):
            f.write(f"{key} {table[key]}\n" if table[key] != "" else f"{key}\n")
