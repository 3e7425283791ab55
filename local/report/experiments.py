"""The scored decodings of a recipe's experiments, as rows of a comparison table.

An experiment is a folder exp/asr_<tag> with ESPnet's config.yaml; each of its
decodings with scored sets (<decoding>/<set>/score_cer/result.txt) is a row.
The row knows its frontend (fbank, or the SSL model's type and size) and its
training data, so that an SSL row can be compared with the FBank row trained on
the same data (local.report.significance).
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

from fileio.kaldi_table import DataError
from fileio.yaml_file import read_yaml


@dataclass
class Row:
    """One scored decoding of one experiment."""

    experiment: str  # as the table shows it
    decoding: str  # the decoding folder's name
    frontend: str  # fbank, hubert-large, ...
    training: str  # the training data (comparable rows share it)
    results: dict = field(default_factory=dict)  # column -> result.txt

    @property
    def is_fbank(self):
        return self.frontend == "fbank"


def read_config(exp):
    """ESPnet's config.yaml of an experiment folder, or None when there is none."""
    path = Path(exp) / "config.yaml"
    if not path.is_file():
        return None
    config = read_yaml(path)
    if not isinstance(config, dict):
        raise DataError(f"{path}: not an ESPnet config (no mapping)")
    return config


def frontend_name(config, recipe):
    """fbank, or <model>-<base|large> of a weighted-sum SSL frontend."""
    if config.get("frontend") in ("default", None):
        return "fbank"
    folder = Path(recipe) / ((config.get("frontend_conf") or {}).get("model_path") or "")
    try:
        hf = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        size = "large" if hf.get("do_stable_layer_norm") else "base"
        return f"{hf['model_type']}-{size}"
    except (OSError, KeyError, ValueError, AttributeError):
        return f"{config.get('frontend')} ({folder.name or 'unknown model'})"


def train_set(config, exp):
    """The training set's folder name (e.g. train_sp), from the training data path."""
    try:
        return Path(config["train_data_path_and_name_and_type"][0][0]).parent.name
    except (KeyError, IndexError, TypeError):
        raise DataError(
            f"{Path(exp) / 'config.yaml'}: no train_data_path_and_name_and_type"
        ) from None


def experiment_folders(expdir):
    """The asr_* folders of an exp folder, sorted."""
    return sorted(p for p in Path(expdir).glob("asr_*") if p.is_dir())
