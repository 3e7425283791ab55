"""Run an espnet2.bin entry point with this project's additions registered.

    python -m local.runtime.espnet_bin asr_train --config conf/x.yaml ...
    python -m local.runtime.espnet_bin asr_inference ...

Registers, before the command parses its options:
- the frontend `ssl_weighted_sum` (frontend.espnet_frontend) in the ASR task, so
  that configs, trained models and packed models that use it train, decode and load;
- the data type `segments_sound` (local.data.segments_reader): utterances read from long
  recordings through a Kaldi segments file (the no-dump WenetSpeech setup).
Registration happens at import, so processes that ESPnet spawns (distributed
training, data loader workers) get it too. Import this module before espnet2:
it also puts off loading g2p_en and tacotron_cleaner (local.runtime.deferred_import),
which saves every espnet2 job their import time (bench/README.md) and nltk's
download attempts.
"""

import importlib
import importlib.util
import sys

from local.runtime.deferred_import import defer

for _module in ("g2p_en", "tacotron_cleaner.cleaners"):  # before espnet2 imports them
    defer(_module)

from espnet2.tasks.asr import ASRTask  # noqa: E402

from frontend.espnet_frontend import WeightedSumFrontend  # noqa: E402
from local.data import segments_reader  # noqa: E402


def register():
    choices = next(c for c in ASRTask.class_choices_list if c.name == "frontend")
    choices.classes.setdefault("ssl_weighted_sum", WeightedSumFrontend)
    segments_reader.register()


register()


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        return
    if not argv or argv[0].startswith("-"):
        sys.exit(
            "usage: python -m local.runtime.espnet_bin ENTRY_POINT [options]  (e.g. asr_train)"
        )
    if importlib.util.find_spec(f"espnet2.bin.{argv[0]}") is None:
        sys.exit(f"espnet_bin: error: espnet2.bin has no entry point '{argv[0]}'")
    entry = importlib.import_module(f"espnet2.bin.{argv[0]}")
    sys.argv = [f"espnet2.bin.{argv[0]}"] + argv[1:]
    entry.main()


if __name__ == "__main__":
    main()
