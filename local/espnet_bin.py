"""Run an espnet2.bin entry point with this project's additions registered.

    python -m local.espnet_bin asr_train --config conf/x.yaml ...
    python -m local.espnet_bin asr_inference ...

Registers, before the command parses its options:
- the frontend `ssl_weighted_sum` (frontend.espnet_frontend) in the ASR task, so
  that configs, trained models and packed models that use it train, decode and load;
- the data type `segments_sound` (local.segments_reader): utterances read from long
  recordings through a Kaldi segments file (the no-dump WenetSpeech setup).
Registration happens at import, so processes that ESPnet spawns (distributed
training, data loader workers) get it too.
"""
import importlib
import sys

from espnet2.tasks.asr import ASRTask

from frontend.espnet_frontend import WeightedSumFrontend
from local import segments_reader


def register():
    choices = next(c for c in ASRTask.class_choices_list if c.name == "frontend")
    choices.classes.setdefault("ssl_weighted_sum", WeightedSumFrontend)
    segments_reader.register()


register()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0].startswith("-"):
        sys.exit("usage: python -m local.espnet_bin ENTRY_POINT [options]  (e.g. asr_train)")
    entry = importlib.import_module(f"espnet2.bin.{argv[0]}")
    sys.argv = [f"espnet2.bin.{argv[0]}"] + argv[1:]
    entry.main()


if __name__ == "__main__":
    main()
