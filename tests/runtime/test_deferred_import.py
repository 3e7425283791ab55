"""local.runtime.deferred_import: ESPnet starts without loading g2p_en and inflect, and the
deferred modules still work, through their stand-ins, when they are used."""

import json

from conftest import run

PROBE = """
import json, sys
if sys.argv[1] == "deferred":
    import local.runtime.espnet_bin  # defers g2p_en and tacotron_cleaner.cleaners
import importlib.util
from espnet2.text.cleaner import TextCleaner
import espnet2.text.phoneme_tokenizer
loaded_at_start = sorted(m for m in ("inflect", "g2p_en.g2p", "tacotron_cleaner.numbers")
                         if m in sys.modules)
found = importlib.util.find_spec("g2p_en") is not None
cleaned = TextCleaner(["tacotron"])("Mr. Smith paid $5 for 2 books")
import g2p_en
print(json.dumps({"loaded_at_start": loaded_at_start, "found": found, "cleaned": cleaned,
                  "g2p_class": g2p_en.G2p.__name__, "inflect_now": "inflect" in sys.modules}))
"""


def probe(mode):
    return json.loads(run(["python", "-c", PROBE, mode]).stdout.strip().splitlines()[-1])


def test_espnet_starts_without_g2p_and_the_modules_still_work():
    deferred, plain = probe("deferred"), probe("plain")
    assert plain["loaded_at_start"] == ["g2p_en.g2p", "inflect", "tacotron_cleaner.numbers"]
    assert deferred["loaded_at_start"] == []
    assert deferred["found"] and deferred["g2p_class"] == "G2p" and deferred["inflect_now"]
    assert deferred["cleaned"] == plain["cleaned"] == "MISTER SMITH PAID FIVE DOLLARS FOR TWO BOOKS"
