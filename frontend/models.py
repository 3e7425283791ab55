"""Find an SSL model: a Hugging Face folder, or a fairseq checkpoint converted once.

    python -m frontend.models LOCATION CACHE_DIR    # prints the Hugging Face folder to use

LOCATION (a db.sh entry) is either a folder with config.json, preprocessor_config.json
and the weights (pytorch_model.bin or model.safetensors), or a fairseq checkpoint
(.pt). A checkpoint is converted to CACHE_DIR/<name> the first time, under a lock
so that parallel jobs convert it once; the conversion is redone only when the
checkpoint changes (size or modification time). CACHE_DIR/<name> is replaced only
when it is an earlier conversion (frontend.convert_fairseq's rule): a folder of
other files there is an error. Nothing is ever downloaded.
"""

import argparse
import fcntl
import json
import sys
from pathlib import Path

from fileio.atomic import OutputError, make_folder
from frontend.checkpoint import CheckpointError

WEIGHT_FILES = (
    "model.safetensors",
    "pytorch_model.bin",
    "model.safetensors.index.json",
    "pytorch_model.bin.index.json",
)
WHERE_TO_GET = (
    "the models are at https://huggingface.co/TencentGameMate (chinese-wav2vec2-base, "
    "chinese-wav2vec2-large, chinese-hubert-base, chinese-hubert-large: the folder, or "
    "its chinese-*-fairseq-ckpt.pt); set its location in db.sh"
)


class ModelError(Exception):
    pass


def check_hf_folder(folder, weights=True):
    """Raise ModelError naming what a Hugging Face model folder lacks (the weights
    only when `weights`)."""
    folder = Path(folder)
    missing = [
        name
        for name in ("config.json", "preprocessor_config.json")
        if not (folder / name).is_file()
    ]
    if weights and not any((folder / name).is_file() for name in WEIGHT_FILES):
        missing.append("pytorch_model.bin or model.safetensors")
    if missing:
        raise ModelError(
            f"{folder}: not a complete Hugging Face model folder, missing "
            f"{', '.join(missing)} ({WHERE_TO_GET})"
        )


def resolve(location, cache_dir):
    """The Hugging Face folder for a model location (converting a fairseq .pt once)."""
    location = Path(location)
    if location.is_dir():
        check_hf_folder(location)
        return location.resolve()
    if not location.is_file():
        raise ModelError(
            f"{location}: no such model folder or checkpoint; expected a Hugging "
            "Face folder (config.json, preprocessor_config.json, "
            f"pytorch_model.bin or model.safetensors) or a fairseq .pt ({WHERE_TO_GET})"
        )
    from frontend.convert_fairseq import ConversionError, convert

    cache_dir = Path(cache_dir)
    try:
        make_folder(cache_dir)
    except OutputError as e:  # a file in the way, named
        raise ModelError(str(e)) from None
    except OSError as e:
        raise ModelError(f"{cache_dir}: cannot hold converted models ({e.strerror or e})") from None
    target = cache_dir / location.name.removesuffix(".pt")
    stamp = {"size": location.stat().st_size, "mtime_ns": location.stat().st_mtime_ns}
    with open(cache_dir / ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one conversion at a time; others wait and reuse it
        stamp_file = target / "source_stamp.json"
        if target.is_dir() and stamp_file.is_file() and json.loads(stamp_file.read_text()) == stamp:
            return target.resolve()
        try:
            convert(
                location,
                target,
                log=lambda m: print(m, file=sys.stderr),
                extra_files={stamp_file.name: json.dumps(stamp) + "\n"},
            )
        except (ConversionError, CheckpointError) as e:
            raise ModelError(str(e)) from None
    return target.resolve()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("location", help="Hugging Face folder or fairseq .pt")
    parser.add_argument("cache_dir", help="where converted checkpoints go")
    args = parser.parse_args(argv)
    try:
        print(resolve(args.location, args.cache_dir))
    except ModelError as e:
        sys.exit(f"frontend.models: error: {e}")
    except OSError as e:
        sys.exit(f"frontend.models: error: {e.filename or args.cache_dir}: {e.strerror or e}")


if __name__ == "__main__":
    main()
