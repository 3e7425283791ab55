"""YAML files (configs, meta.yaml) read with errors on one line that name the file
and line, as the other readers of fileio do."""

from pathlib import Path

import yaml

from fileio.kaldi_table import DataError


def parse_yaml(text, where):
    """The YAML document `text` (from `where`, for messages); DataError naming the
    line and the problem when it is no YAML."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or " ".join(str(e).split())
        raise DataError(f"{where}{line}: not valid YAML ({problem})") from None


def read_yaml(path):
    """The YAML document of file `path`; DataError (one line) when the file cannot be
    read, is not UTF-8 or is no YAML."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DataError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a YAML file") from None
    except UnicodeDecodeError as e:
        raise DataError(f"{path}: not UTF-8 text (byte {e.start})") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from None
    return parse_yaml(text, path)
