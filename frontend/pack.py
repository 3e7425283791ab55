"""Prepare a trained model's config for a self-contained pack (stage 10).

    python -m frontend.pack exp/asr_X/config.yaml exp/asr_X/pack_files/asr
    python -m frontend.pack exp/lm_Y/config.yaml exp/asr_X/pack_files/lm

Writes OUT_DIR/config.yaml: the config with every absolute path made relative to
the current folder (the recipe folder, from which espnet2.bin.pack names the
archive's members), and `dist_init_method` back to env://. For the weighted-sum
SSL frontend it also writes OUT_DIR/ssl_upstream/config.json and
preprocessor_config.json (copied from frontend_conf.model_path, the SSL model
folder the experiment was trained with) and points frontend_conf.model_path at
that config.json: a model built from the pack creates the upstream from this
configuration and takes its weights from the ASR checkpoint (which holds the
frozen upstream too), so the SSL folder is not needed to decode.

Pack the written files with `--option`: espnet2's unpack (and espnet_model_zoo's)
rewrites every config value that names an archive member to where it was unpacked,
so the packed model decodes from any folder. OUT_DIR is written atomically and
replaced only when it is an earlier output of this command.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

import yaml

from fileio.atomic import OutputError, atomic_dir
from fileio.kaldi_table import DataError
from fileio.yaml_file import read_yaml

TOOL = "frontend.pack"
UPSTREAM_FILES = ("config.json", "preprocessor_config.json")


class PackError(Exception):
    pass


def relative_paths(value, cwd):
    """The config with every absolute path (a string starting with '/') relative to cwd."""
    if isinstance(value, dict):
        return {k: relative_paths(v, cwd) for k, v in value.items()}
    if isinstance(value, list):
        return [relative_paths(v, cwd) for v in value]
    if isinstance(value, str) and value.startswith("/"):
        return os.path.relpath(value, cwd)
    return value


def ssl_model_folder(config):
    """The SSL model folder of a weighted-sum frontend config, or None."""
    if config.get("frontend") != "ssl_weighted_sum":
        return None
    location = Path((config.get("frontend_conf") or {}).get("model_path") or "")
    return location.parent if location.name == "config.json" else location


def prepare(config_file, out_dir, cwd=None):
    """Write OUT_DIR/config.yaml (and ssl_upstream/); return the files written."""
    cwd = Path(cwd or os.getcwd())
    config_file = Path(config_file)
    try:
        config = read_yaml(config_file)
    except DataError as e:
        raise PackError(f"the training config {e}") from None
    if not isinstance(config, dict):
        raise PackError(f"{config_file}: not a training config (a YAML mapping)")
    folder = ssl_model_folder(config)
    if folder is not None:
        missing = [name for name in UPSTREAM_FILES if not (folder / name).is_file()]
        if missing:
            raise PackError(
                f"{folder}: the SSL model folder of {config_file} lacks {', '.join(missing)}"
            )
    if str(config.get("dist_init_method", "")).startswith("file://"):
        config["dist_init_method"] = "env://"
    out_dir = Path(out_dir)
    with atomic_dir(out_dir, TOOL) as tmp:
        written = [out_dir / "config.yaml"]
        if folder is not None:
            (tmp / "ssl_upstream").mkdir()
            for name in UPSTREAM_FILES:
                shutil.copyfile(folder / name, tmp / "ssl_upstream" / name)
                written.append(out_dir / "ssl_upstream" / name)
            # named as espnet2.bin.pack names the member (resolved, relative to cwd)
            upstream = (out_dir / "ssl_upstream/config.json").resolve()
            if upstream.is_relative_to(cwd.resolve()):
                upstream = upstream.relative_to(cwd.resolve())
            config["frontend_conf"] = dict(config["frontend_conf"], model_path=str(upstream))
        config = relative_paths(config, cwd)
        with open(tmp / "config.yaml", "w", encoding="utf-8") as f:
            yaml.safe_dump(config, f, indent=4, sort_keys=False, allow_unicode=True)
    return written


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m frontend.pack",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", help="the experiment's config.yaml")
    parser.add_argument("out_dir", help="folder for the packed config (and ssl_upstream/)")
    args = parser.parse_args(argv)
    try:
        for path in prepare(args.config, args.out_dir):
            print(path)
    except (PackError, OutputError) as e:
        sys.exit(f"frontend.pack: error: {e}")


if __name__ == "__main__":
    main()
