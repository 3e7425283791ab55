"""Cross-corpus decoding and the seed's tables, on an Aishell-layout and a
WenetSpeech-format mini recipe: each recipe trains a tiny model, decodes its own
test sets and the other corpus's (imported through --test_sets PATH), and
local.report.seed_tables puts every number in the right table."""

import pytest

from conftest import run, tool
from fileio.kaldi_table import read_table
from local.report import significance
from local.report.results import sum_avg
from recipe import make_recipe, mini_subset
from wenetspeech_corpus import WenetSpeechCorpus, mini_utterances

COMMON = [
    "--use_lm",
    "false",
    "--asr_config",
    "conf/train_asr_tiny.yaml",
    "--asr_args",
    "--max_epoch 1",
    "--inference_config",
    "conf/decode_tiny.yaml",
    "--inference_asr_model",
    "valid.acc.ave.pth",
    "--nj",
    "2",
    "--inference_nj",
    "2",
]

pytestmark = pytest.mark.slow  # two recipes end to end


def wenetspeech_corpus(root):
    speech = mini_utterances(("S0001", "S0002", "S0010", "S0012"))
    corpus = WenetSpeechCorpus(root)
    corpus.add_audio("Y0000000000_aaaa", "train", speech["S0001"][:14], ["S", "M", "L"])
    corpus.add_audio(
        "X0000000001_bbbb", "train", speech["S0002"][:14], ["S", "M", "L"], source="podcast"
    )
    corpus.add_audio("DEV_T0000000000", "dev", speech["S0010"][:4], ["DEV"])
    corpus.add_audio("TEST_NET_Y0000000000_cccc", "test_net", speech["S0012"][:3], ["TEST_NET"])
    corpus.add_audio(
        "TEST_MEETING_T0000000001", "test_meeting", speech["S0012"][3:6], ["TEST_MEETING"]
    )
    return corpus.write()


@pytest.fixture(scope="module")
def recipes(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cross")
    aishell, aishell_env = make_recipe(
        tmp / "egs2/aishell/asr1",
        mini_subset(tmp / "aishell_corpus", {"S0003": 20, "S0004": 20, "S0011": 5, "S0013": 5}),
    )
    wenet, wenet_env = make_recipe(
        tmp / "egs2/wenetspeech/asr1",
        wenetspeech_corpus(tmp / "wenetspeech_corpus"),
        "wenetspeech",
        "WENETSPEECH",
    )
    aishell_args = ["--train_set", "train", "--valid_set", "dev"]
    wenet_args = [
        "--train_set",
        "train_s",
        "--valid_set",
        "dev",
        "--local_data_opts",
        "--set S --nj 2",
        "--audio_format",
        "none",
    ]
    # each recipe's own data first, then every stage with the other's test sets
    run(
        ["./asr.sh", *aishell_args, *COMMON, "--test_sets", "dev test", "--stop_stage", "1"],
        cwd=aishell,
        **aishell_env,
    )
    run(
        ["./asr.sh", *wenet_args, *COMMON, "--test_sets", "dev", "--stop_stage", "1"],
        cwd=wenet,
        **wenet_env,
    )
    procs = {
        "aishell": run(
            [
                "./asr.sh",
                *aishell_args,
                *COMMON,
                "--test_sets",
                "dev test ../../wenetspeech/asr1/data/test_net "
                "../../wenetspeech/asr1/data/test_meeting",
                "--stop_stage",
                "9",
            ],
            cwd=aishell,
            **aishell_env,
        ),
        "wenetspeech": run(
            [
                "./asr.sh",
                *wenet_args,
                *COMMON,
                "--test_sets",
                "dev test_net test_meeting ../../aishell/asr1/data/test",
                "--stop_stage",
                "9",
            ],
            cwd=wenet,
            **wenet_env,
        ),
    }
    return aishell, wenet, procs


def test_imported_test_sets_are_decoded_and_scored(recipes):
    aishell, wenet, procs = recipes
    assert "import_test_set" in procs["aishell"].stderr
    imported = read_table(aishell / "data/wenetspeech_test_net/text")
    source = read_table(wenet / "data/test_net/text")
    assert imported == source and len(imported) == 3
    assert (aishell / "data/wenetspeech_test_net/segments").exists()
    decode = aishell / "exp/asr_train_asr_tiny/decode_tiny_valid.acc.ave"
    for dset in ("dev", "test", "wenetspeech_test_net", "wenetspeech_test_meeting"):
        assert "Sum/Avg" in (decode / dset / "score_cer/result.txt").read_text(), dset
    decode = wenet / "exp/asr_train_asr_tiny/decode_tiny_valid.acc.ave"
    assert len(read_table(decode / "aishell_test/text", allow_empty_value=True)) == 5
    # the WenetSpeech recipe trained without a dump, reading segments from the opus files
    log = (wenet / "exp/asr_train_asr_tiny/log/train.log").read_text()
    assert "1epoch results" in log and "segments_sound" in log
    assert "Stage 5" not in procs["wenetspeech"].stderr  # no LM
    for dset in ("train_s", "dev", "test_net", "test_meeting"):
        assert (wenet / f"dump/raw/{dset}/audio_format").read_text().strip() == "none"
        assert not list((wenet / f"dump/raw/{dset}").glob("data/**/*.flac"))
    summary = (wenet / "exp/summary.md").read_text()
    assert "|dev|test_net|test_meeting|aishell_test|" in summary.replace(" ", "")


def expected_cell(recipe, dset, published=None):
    """A seed-table cell computed from the scored decoding: `CER ±half / seed (diff)`."""
    result = next((recipe / "exp/asr_train_asr_tiny").glob(f"decode_*/{dset}/score_cer/result.txt"))
    cer = float(sum_avg(result)[6])
    ours = f"{cer:.1f} ±{significance.half_width(result):.1f}"
    return ours if published is None else f"{ours} / {published} ({cer - published:+.1f})"


def test_seed_tables_put_every_number_in_its_table(recipes):
    aishell, wenet, _ = recipes
    out = aishell.parent.parent / "tables.md"
    proc = tool(
        "local.report.seed_tables", "--aishell", aishell, "--wenetspeech", wenet, "--out", out
    )
    aishell_table, wenet_table = proc.stdout.split("## WenetSpeech")

    def row(table, experiment):
        return next(
            line.split("|")
            for line in table.splitlines()
            if line.startswith("|fbank|") and line.split("|")[3] == experiment
        )

    own = row(aishell_table, "aishell/asr_train_asr_tiny")
    assert own[2] == "Aishell 178h"  # the full training set of egs2/aishell: compared
    assert own[5:7] == [expected_cell(aishell, "dev", 4.4), expected_cell(aishell, "test", 4.7)]
    cross = row(aishell_table, "wenetspeech/asr_train_asr_tiny")
    assert cross[2] == "WenetSpeech 100h"
    assert cross[5:7] == ["-", expected_cell(wenet, "aishell_test")]  # dev was not imported
    assert "|hubert-large|Aishell 178h|not trained|-|- / 3.1|- / 3.3|" in aishell_table
    own = row(wenet_table, "wenetspeech/asr_train_asr_tiny")
    assert own[5:8] == [
        expected_cell(wenet, "dev", 17.4),
        expected_cell(wenet, "test_net", 22.6),
        expected_cell(wenet, "test_meeting", 32.7),
    ]
    cross = row(wenet_table, "aishell/asr_train_asr_tiny")
    assert cross[5:8] == [
        "-",
        expected_cell(aishell, "wenetspeech_test_net"),
        expected_cell(aishell, "wenetspeech_test_meeting"),
    ]
    assert out.read_text() == proc.stdout
