"""WenetSpeech preparation on a small corpus in its distributed format, bad cases
included; reading utterances from the opus recordings without a dump."""

import collections
import importlib.util
import json

import numpy as np
import pytest

from conftest import ROOT, run
from fileio.kaldi_table import read_table
from local.data.datadir import DataDir
from local.data.segments_reader import SegmentsReader
from local.data.text_norm import normalize_mandarin
from wenetspeech_corpus import WenetSpeechCorpus, mini_utterances

SCRIPT = ROOT / "egs2/wenetspeech/asr1/local/prepare_wenetspeech.py"
spec = importlib.util.spec_from_file_location("prepare_wenetspeech", SCRIPT)
prepare_wenetspeech = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prepare_wenetspeech)


def test_text_normalization_mixed_chinese_and_english():
    assert normalize_mandarin("我 爱 iPhone 和 Mac Book\u3000真的") == "我爱IPHONE和MAC BOOK真的"
    assert normalize_mandarin("hello   world 你好") == "HELLO WORLD你好"
    assert normalize_mandarin("怎么样\u00a0这些日子") == "怎么样这些日子"
    assert normalize_mandarin("it's 5 点 OK") == "IT'S 5点OK"
    assert normalize_mandarin(" \u3000 ") == ""
    assert normalize_mandarin("\U00030edd \U00030edd 面") == "\U00030edd\U00030edd面"  # CJK ext. G
    assert normalize_mandarin("你\u200b好\ufeff吗\x00") == "你好吗"  # invisible
    # a word is letters, digits and apostrophes: a space stays only between two words
    assert normalize_mandarin("rock 'n' roll 很 好") == "ROCK 'N' ROLL很好"
    assert normalize_mandarin("OK ! 好 , 吗 ?") == "OK!好,吗?"


@pytest.fixture(scope="module")
def utterances():
    return mini_utterances()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, utterances):
    c = WenetSpeechCorpus(tmp_path_factory.mktemp("wenetspeech"))
    train = utterances["S0001"]
    c.add_audio("Y0000000000_aaaa", "train", train[:8], ["S", "M", "L"])
    c.add_audio("X0000000001_pod", "train", train[8:12], ["M", "L"], source="podcast")
    mixed = c.add_audio(
        "Y0000000002_mix",
        "train",
        train[12:17],
        [["S", "M", "L", "W"], ["W"], ["S", "XYZ"], ["S"], ["S"]],
        texts=[train[12][0], train[13][0], train[14][0], "  ", "我 爱 iPhone 和 Mac Book\u3000"],
    )
    mixed["segments"][0]["end_time"] = mixed["duration"] + 5.0  # past the end
    c.add_audio("Y0000000003_gone", "train", train[17:19], ["S"], write=False)  # missing
    broken = c.add_audio("Y0000000004_bad", "train", train[19:21], ["S"], write=False)
    (c.root / broken["path"]).parent.mkdir(parents=True, exist_ok=True)
    (c.root / broken["path"]).write_bytes(b"OggS not really")  # unreadable
    twin = c.add_audio("Y0000000005_dup", "train", train[21:22], ["S"])
    twin["segments"][0]["sid"] = "Y0000000000_aaaa_S00001"  # duplicate sid
    c.add_audio("DEV_T0000000000", "dev", utterances["S0010"][:4], ["DEV"], source="third_party")
    c.add_audio("TEST_NET_Y0000000000_net", "test_net", utterances["S0012"][:3], ["TEST_NET"])
    c.add_audio(
        "TEST_MEETING_T0000000001",
        "test_meeting",
        utterances["S0002"][:3],
        ["TEST_MEETING"],
        source="third_party",
    )
    return c.write()


@pytest.fixture(scope="module")
def prepared(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("data")
    sizes, counts = prepare_wenetspeech.prepare(corpus, out, "S", nj=2, log=lambda _: None)
    return out, sizes, counts


def test_sets_counts_and_texts(prepared, utterances):
    out, sizes, counts = prepared
    assert {k: n for k, (n, _) in sizes.items()} == {
        "train_s": 10,
        "dev": 4,
        "test_net": 3,
        "test_meeting": 3,
    }
    assert dict(counts) == {
        "segment past the end of its audio": 1,
        "unknown subset tag": 1,
        "empty text": 1,
        "missing audio": 2,
        "unreadable audio": 2,
        "duplicate sid": 1,
    }
    train = DataDir.read(out / "train_s")
    assert list(train.text) == sorted(train.text)
    assert set(train.wav_scp) == {"Y0000000000_aaaa", "Y0000000002_mix"}
    assert "X0000000001_pod_S00000" not in train.text  # M/L only
    assert "Y0000000002_mix_S00001" not in train.text  # W only
    assert "Y0000000002_mix_S00002" in train.text  # S + unknown tag
    assert train.text["Y0000000002_mix_S00004"] == "我爱IPHONE和MAC BOOK"
    assert train.utt2spk["Y0000000000_aaaa_S00003"] == "Y0000000000_aaaa_S00003"
    expected = sum(len(s) for _, s in utterances["S0001"][:8]) / 16000
    total = sum(
        float(v.split()[2]) - float(v.split()[1])
        for k, v in train.segments.items()
        if k.startswith("Y0000000000_aaaa")
    )
    assert abs(total - expected) < 0.01 * 8
    assert set(read_table(out / "dev/segments")) == {f"DEV_T0000000000_S{i:05d}" for i in range(4)}
    dropped = (out / "local/wenetspeech/dropped.txt").read_text()
    assert "Y0000000003_gone" in dropped and "Y0000000002_mix_S00000 ends at" in dropped


def test_missing_json_is_a_clear_error(tmp_path):
    (tmp_path / "audio").mkdir()
    proc = run(["python", str(SCRIPT), str(tmp_path), str(tmp_path / "data")], check=False)
    assert proc.returncode != 0
    assert f"{tmp_path / 'WenetSpeech.json'}: not found" in proc.stderr
    assert "WENETSPEECH" in proc.stderr


def test_segments_are_read_from_the_opus_recordings(prepared, utterances):
    out, _, _ = prepared
    reader = SegmentsReader(out / "dev/segments")
    for i, (_, original) in enumerate(utterances["S0010"][:4]):
        rate, samples = reader[f"DEV_T0000000000_S{i:05d}"]
        assert rate == 16000
        assert abs(len(samples) - len(original)) <= 160  # times rounded to 10 ms
        n = min(len(samples), len(original))
        correlation = np.corrcoef(samples[:n], original[:n])[0, 1]
        assert correlation > 0.9  # opus is lossy, not different


def test_no_dump_link_and_dump_agree_on_lengths(prepared, tmp_path):
    out, _, _ = prepared
    run(
        [
            "python",
            "-m",
            "local.data.dump_audio",
            "link",
            "--filter",
            str(out / "train_s"),
            str(tmp_path / "link"),
        ]
    )
    run(
        [
            "python",
            "-m",
            "local.data.dump_audio",
            "plan",
            "--nj",
            "2",
            str(out / "train_s"),
            str(tmp_path / "flac"),
        ]
    )
    for job in ("1", "2"):
        run(["python", "-m", "local.data.dump_audio", "run", "--job", job, str(tmp_path / "flac")])
    run(["python", "-m", "local.data.dump_audio", "finish", "--filter", str(tmp_path / "flac")])
    linked = read_table(tmp_path / "link/utt2num_samples")
    dumped = read_table(tmp_path / "flac/utt2num_samples")
    assert linked.keys() == dumped.keys() and len(linked) == 10
    for utt in linked:
        assert abs(int(linked[utt]) - int(dumped[utt])) <= 1
    assert (tmp_path / "link/audio_format").read_text().strip() == "none"
    assert (tmp_path / "link/segments").exists()


def test_dump_resumes_after_an_interruption(prepared, tmp_path):
    out, _, _ = prepared
    dump = tmp_path / "flac"
    run(["python", "-m", "local.data.dump_audio", "plan", str(out / "train_s"), str(dump)])
    run(["python", "-m", "local.data.dump_audio", "run", "--job", "1", str(dump)])
    job = tmp_path / "flac.tmp/data/format.1"
    complete = read_table(job / "wav.scp")
    progress = (job / "progress.jsonl").read_text().splitlines(keepends=True)
    assert len(progress) == 2  # one line per recording
    # as if stopped during the second recording: its line half written, no final tables
    (job / "progress.jsonl").write_text(progress[0] + progress[1][:20])
    for name in (".done", "wav.scp", "utt2num_samples"):
        (job / name).unlink()
    proc = run(["python", "-m", "local.data.dump_audio", "run", "--job", "1", str(dump)])
    assert "resuming after 1 finished recordings" in proc.stdout
    assert read_table(job / "wav.scp") == complete
    assert json.loads((job / "progress.jsonl").read_text().splitlines()[-1])["recording"]


def prepared_files(corpus, out, parse_jobs):
    proc = run(
        [
            "python",
            str(SCRIPT),
            str(corpus),
            str(out),
            "--set",
            "M",
            "--nj",
            "2",
            "--parse-jobs",
            parse_jobs,
            "--split-min-mb",
            "0",
        ]
    )
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}, proc.stdout


def test_parsing_the_json_in_parts_gives_the_same_data(corpus, tmp_path):
    outputs = {jobs: prepared_files(corpus, tmp_path / f"jobs{jobs}", jobs) for jobs in "123"}
    files = {jobs: files for jobs, (files, _) in outputs.items()}
    assert files["2"] == files["1"] and files["3"] == files["1"]
    assert "WenetSpeech.json: read in 1 part\n" in outputs["1"][1]
    assert "WenetSpeech.json: read in 2 parts" in outputs["2"][1]


@pytest.mark.parametrize("layout", ["aid not first", "entry key in segments"])
def test_other_json_layouts_give_the_same_data(corpus, tmp_path, layout):
    """The event parser takes over from the block reader, with the same result."""
    expected, _ = prepared_files(corpus, tmp_path / "distributed", "2")
    document = json.loads((corpus / "WenetSpeech.json").read_text(encoding="utf-8"))
    for audio in document["audios"]:
        if layout == "aid not first":
            audio["aid"] = audio.pop("aid")
        else:
            audio["segments"] = [{"aid": audio["aid"], **s} for s in audio["segments"]]
    other = tmp_path / "corpus"
    other.mkdir()
    (other / "audio").symlink_to(corpus / "audio")
    (other / "WenetSpeech.json").write_text(
        json.dumps(document, ensure_ascii=False), encoding="utf-8"
    )
    files, log = prepared_files(other, tmp_path / "other", "2")
    assert "read by the event parser" in log
    assert files == expected  # wav.scp paths are resolved through the audio/ link


def segment(sid, begin=0.0, end=1.0, text="你好", subsets=("S",)):
    return {
        "sid": sid,
        "begin_time": begin,
        "end_time": end,
        "text": text,
        "confidence": 1.0,
        "subsets": list(subsets) if isinstance(subsets, tuple) else subsets,
    }


def audio(aid, segments, **fields):
    return {
        "aid": aid,
        "path": f"audio/{aid}.opus",
        "duration": 100.0,
        "segments": segments,
        **fields,
    }


BAD_FIELDS = [
    audio(
        "GOOD",
        [
            segment(f"GOOD_{i}", subsets=(tag,))
            for i, tag in enumerate(["S", "DEV", "TEST_NET", "TEST_MEETING"])
        ]
        + [segment("GOOD_NEG_ZERO", begin=-0.0), segment("GOOD_TWICE", subsets=("S", "S"))],
    ),
    audio(
        "TIMES",
        [
            segment("T_EQUAL", 1, 1),
            segment("T_NEG", -1, 2),
            segment("T_STR", "1", "2"),
            segment("T_ROUNDED_EQUAL", 1.0001, 1.0004),
            segment("T_BOOL", True, 2),
            segment("T_REVERSED", 2, 1),
            segment("T_NULL", None, 1),
        ],
    ),
    audio(
        "SEGS",
        [
            segment("S_TEXT_NULL", text=None),
            segment("S_TEXT_NUM", text=123),
            segment("S TAB", text="x"),
            segment("", text="x"),
            segment(None),
            segment("S_TAGS_NESTED", subsets=[["S"]]),
            segment("S_TAGS_STR", subsets="S"),
            segment("S_NO_TAGS", subsets=[]),
            None,
            "text",
        ],
    ),
    audio("A SPACE", [segment("A1")]),
    {"aid": "NO_PATH", "duration": 5.0, "segments": [segment("P1")]},
    {"aid": "PATH_NUM", "path": 5, "duration": 5.0, "segments": [segment("P2")]},
    {"aid": "SEGS_NULL", "path": "a", "duration": 5.0, "segments": None},
    {"aid": "DURATION_STR", "path": "a", "duration": "abc", "segments": [segment("D1")]},
    audio("SHORT", [segment("SHORT_PAST", 0, 50)], duration=0),
    audio("NO_DURATION", [segment("NO_DURATION_1", 0, 50)], duration=None),
    None,
    5,
    [],
]


@pytest.mark.parametrize("indent", [None, 2])
def test_bad_fields_are_counted_never_fatal(tmp_path, indent):
    corpus = tmp_path / "corpus"
    (corpus / "audio").mkdir(parents=True)
    document = {"dataset": "WenetSpeech", "audios": BAD_FIELDS}
    (corpus / "WenetSpeech.json").write_bytes(
        b"\xef\xbb\xbf" + json.dumps(document, ensure_ascii=False, indent=indent).encode()
    )
    outputs = []
    for jobs in ("1", "3"):
        out = tmp_path / f"out{jobs}"
        run(
            [
                "python",
                str(SCRIPT),
                str(corpus),
                str(out),
                "--check-audio",
                "false",
                "--parse-jobs",
                jobs,
                "--split-min-mb",
                "0",
            ]
        )
        outputs.append({p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()})
    assert outputs[0] == outputs[1]
    out = tmp_path / "out1"
    assert list(read_table(out / "train_s/segments")) == [
        "GOOD_0",
        "GOOD_NEG_ZERO",
        "GOOD_TWICE",
        "NO_DURATION_1",
    ]
    assert read_table(out / "train_s/segments")["GOOD_NEG_ZERO"] == "GOOD 0.000 1.000"
    assert list(read_table(out / "dev/text")) == ["GOOD_1"]
    reasons = collections.Counter(
        line.split("\t")[0]
        for line in (out / "local/wenetspeech/dropped.txt").read_text().splitlines()
    )
    assert reasons == {
        "bad segment times": 7,
        "malformed segment": 9,
        "no subset tag": 1,
        "malformed audio entry": 8,
        "segment past the end of its audio": 1,
    }


def test_an_empty_set_writes_no_set(corpus, tmp_path):
    """All sets or none: a rerun that cannot make one set leaves every earlier set."""
    out = tmp_path / "data"
    prepare_wenetspeech.prepare(corpus, out, "S", nj=2, log=lambda _: None)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "local" not in p.parts}
    other = tmp_path / "no_dev"
    other.mkdir()
    (other / "audio").symlink_to(corpus / "audio")
    document = json.loads((corpus / "WenetSpeech.json").read_text(encoding="utf-8"))
    document["audios"] = [a for a in document["audios"] if not a["aid"].startswith("DEV")]
    (other / "WenetSpeech.json").write_text(
        json.dumps(document, ensure_ascii=False), encoding="utf-8"
    )
    with pytest.raises(prepare_wenetspeech.DataError, match="no usable segment for dev"):
        prepare_wenetspeech.prepare(other, out, "S", nj=2, log=lambda _: None)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and "local" not in p.parts}
    assert after == before
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no work folder left
