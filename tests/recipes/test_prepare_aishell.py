"""Aishell-1 data preparation on corpora with bad input."""

import importlib.util

import pytest

from aishell_corpus import AishellCorpus, tone, wav_bytes
from conftest import ROOT, run
from fileio.kaldi_table import DataError, read_table
from local.data.datadir import DataDir

SCRIPT = ROOT / "egs2/aishell/asr1/local/prepare_aishell.py"
spec = importlib.util.spec_from_file_location("prepare_aishell", SCRIPT)
prepare_aishell = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prepare_aishell)


def messy_corpus(root):
    c = AishellCorpus(root)
    # train speaker S0002 still packed, as in data_aishell.tgz
    c.add("train", "S0002", "BAC009S0002W0122", "而 对 楼市 成交", packed=True)
    c.add("train", "S0002", "BAC009S0002W0123", "抑制 作用\u3000最 大", packed=True)
    c.add("train", "S0003", "BAC009S0003W0001", "的 限 购")
    c.add("train", "S0003", "BAC009S0003W0002", None)  # audio without text
    c.transcript_line("BAC009S0003W0009 没有 音频")  # text without audio
    c.add("train", "S0003", "BAC009S0003W0003", "")  # empty text
    c.add("train", "S0003", "BAC009S0003W0004", "坏 文件", audio=b"RIFF0000garbage")  # corrupt
    c.add(
        "train",
        "S0003",
        "BAC009S0003W0005",
        "八 千 赫兹",
        audio=wav_bytes(tone(rate=8000), rate=8000),
    )  # other rate: kept
    c.add("dev", "S0724", "BAC009S0724W0121", "开发 集")
    c.add("test", "S0764", "BAC009S0764W0121", "测试 集")
    return c.write()


def test_prepares_sorted_tables_and_counts_drops(tmp_path, capsys):
    corpus = messy_corpus(tmp_path / "corpus")
    counts, drops = prepare_aishell.prepare(corpus, tmp_path / "data", expected_total=141925)
    out = capsys.readouterr().out

    assert counts == {"train": 4, "dev": 1, "test": 1}
    train = DataDir.read(tmp_path / "data/train")
    assert list(train.text) == sorted(train.text)
    assert train.text["BAC009S0002W0122"] == "而对楼市成交"
    assert train.text["BAC009S0002W0123"] == "抑制作用最大"  # full-width space removed
    assert train.utt2spk["BAC009S0003W0001"] == "S0003"
    assert "BAC009S0003W0005" in train.text  # 8 kHz kept for the dump
    wav = train.wav_scp["BAC009S0002W0122"]
    assert wav.endswith("wav/train/S0002/BAC009S0002W0122.wav")  # unpacked from the archive
    assert (
        read_table(tmp_path / "data/train/spk2utt")["S0002"] == "BAC009S0002W0122 BAC009S0002W0123"
    )
    assert read_table(tmp_path / "data/dev/wav.scp").keys() == {"BAC009S0724W0121"}

    assert {k: len(v) for k, v in drops.items()} == {
        "audio without transcript": 1,
        "transcript without audio": 1,
        "empty text": 1,
        "unreadable audio": 1,
    }
    for reason in drops:
        assert f"{reason}: 1" in out
    assert "audio at 8000 Hz" in out
    assert "WARNING: 6 utterances kept, Aishell-1 has 141925" in out
    listing = (tmp_path / "data/local/aishell/dropped.txt").read_text()
    assert "BAC009S0003W0004.wav" in listing and "BAC009S0003W0009" in listing


def test_archives_are_unpacked_once(tmp_path):
    corpus = messy_corpus(tmp_path / "corpus")
    prepare_aishell.prepare(corpus, tmp_path / "data", expected_total=0)
    unpacked = corpus / "data_aishell/wav/train/S0002/BAC009S0002W0122.wav"
    unpacked.write_bytes(wav_bytes(tone(seconds=0.25)))  # a rerun must not overwrite it
    prepare_aishell.prepare(corpus, tmp_path / "data2", expected_total=0)
    assert len(unpacked.read_bytes()) == len(wav_bytes(tone(seconds=0.25)))
    assert (corpus / "data_aishell/wav/.S0002.tar.gz.unpacked").exists()
    assert read_table(tmp_path / "data/train/text") == read_table(tmp_path / "data2/train/text")


def test_missing_transcript_is_a_clear_error(tmp_path):
    c = AishellCorpus(tmp_path / "corpus")
    c.add("train", "S0002", "BAC009S0002W0122", "你好")
    corpus = c.write(transcript=False)
    with pytest.raises(DataError, match="aishell_transcript_v0.8.txt"):
        prepare_aishell.prepare(corpus, tmp_path / "data")
    proc = run(["python", str(SCRIPT), str(corpus), str(tmp_path / "data")], check=False)
    assert proc.returncode != 0
    assert "transcript/aishell_transcript_v0.8.txt: not found" in proc.stderr
    assert not (tmp_path / "data" / "train").exists()


def test_missing_corpus_names_the_folder(tmp_path):
    proc = run(
        ["python", str(SCRIPT), str(tmp_path / "nowhere"), str(tmp_path / "data")], check=False
    )
    assert proc.returncode != 0
    assert f"{tmp_path / 'nowhere' / 'data_aishell'}: not found" in proc.stderr
    assert "AISHELL" in proc.stderr


def test_bad_transcript_encoding_names_the_line(tmp_path):
    c = AishellCorpus(tmp_path / "corpus")
    c.add("train", "S0002", "BAC009S0002W0122", "你好")
    corpus = c.write()
    path = corpus / "data_aishell/transcript/aishell_transcript_v0.8.txt"
    path.write_bytes(path.read_bytes() + b"BAC009S0002W0123 \xff\xfe\n")
    with pytest.raises(DataError, match=r"aishell_transcript_v0.8.txt:2: not UTF-8"):
        prepare_aishell.prepare(corpus, tmp_path / "data")


def test_data_dir_reader_names_file_and_line(tmp_path):
    (tmp_path / "wav.scp").write_text("a /x.wav\nb\n")
    with pytest.raises(DataError, match=r"wav.scp:2: 'b' has no value"):
        read_table(tmp_path / "wav.scp")
    (tmp_path / "wav.scp").write_text("a /x.wav\na /y.wav\n")
    with pytest.raises(DataError, match=r"wav.scp:2: duplicate key 'a'"):
        read_table(tmp_path / "wav.scp")


def test_corrupt_archive_is_counted_and_leaves_nothing_behind(tmp_path, capsys):
    c = AishellCorpus(tmp_path / "corpus")
    c.add("train", "S0002", "BAC009S0002W0122", "而 对", packed=True)
    c.add("train", "S0005", "BAC009S0005W0001", "楼 市", packed=True)
    c.add("train", "S0005", "BAC009S0005W0002", "成 交", packed=True)
    c.add("dev", "S0724", "BAC009S0724W0121", "开发 集")
    c.add("test", "S0764", "BAC009S0764W0121", "测试 集")
    corpus = c.write()
    archive = corpus / "data_aishell/wav/S0005.tar.gz"
    archive.write_bytes(archive.read_bytes()[: len(archive.read_bytes()) // 2])  # truncated
    before = sorted(p.relative_to(corpus) for p in corpus.rglob("*") if "S0005" in str(p))
    counts, drops = prepare_aishell.prepare(corpus, tmp_path / "data", expected_total=0)
    assert counts == {"train": 1, "dev": 1, "test": 1}
    unreadable = drops["unreadable audio"]
    assert [line.split(":")[0] for line in unreadable] == ["BAC009S0005W0001", "BAC009S0005W0002"]
    assert all(": in S0005.tar.gz (" in line for line in unreadable)
    assert "S0005.tar.gz: cannot unpack" in capsys.readouterr().out
    after = sorted(p.relative_to(corpus) for p in corpus.rglob("*") if "S0005" in str(p))
    assert after == before  # no half-unpacked folder, no marker: tried again next time
    listing = (tmp_path / "data/local/aishell/dropped.txt").read_text()
    assert "unreadable audio\tBAC009S0005W0001: in S0005.tar.gz" in listing


def test_transcript_conflicts_are_dropped_and_kaldi_spacing_accepted(tmp_path, capsys):
    c = AishellCorpus(tmp_path / "corpus")
    c.add("train", "S0002", "BAC009S0002W0122", None)
    c.add("train", "S0002", "BAC009S0002W0123", None)
    c.add("train", "S0002", "BAC009S0002W0124", None)
    c.add("dev", "S0724", "BAC009S0724W0121", "开发 集")
    c.add("test", "S0764", "BAC009S0764W0121", "测试 集")
    c.transcript_line("BAC009S0002W0122\t而 对")  # a tab after the id
    c.transcript_line("BAC009S0002W0123 楼 市")
    c.transcript_line("BAC009S0002W0123 成 交")  # the same id, another text: a conflict
    c.transcript_line("BAC009S0002W0124\u3000的 限 购")  # a full-width space after the id
    c.transcript_line("BAC009S0002W0124 的限购")  # the same text once normalized: kept
    _, drops = prepare_aishell.prepare(c.write(), tmp_path / "data", expected_total=0)
    assert "audio without transcript" not in drops  # the conflict counted once
    assert "dropped 1" in capsys.readouterr().out
    text = read_table(tmp_path / "data/train/text")
    assert text == {"BAC009S0002W0122": "而对", "BAC009S0002W0124": "的限购"}
    assert len(drops["conflicting transcripts"]) == 1
    assert "'楼市' or '成交'" in drops["conflicting transcripts"][0]
    assert len(drops["duplicate transcript line"]) == 1


def test_foreign_output_folder_is_not_replaced(tmp_path):
    corpus = messy_corpus(tmp_path / "corpus")
    mine = tmp_path / "data/dev"
    mine.mkdir(parents=True)
    (mine / "notes.txt").write_text("my own file")
    proc = run(["python", str(SCRIPT), str(corpus), str(tmp_path / "data")], check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"{mine}: holds files this tool did not write" in proc.stderr
    assert (mine / "notes.txt").read_text() == "my own file"
    assert not (tmp_path / "data/train").exists()  # all sets or none
    (mine / "notes.txt").unlink()  # an empty folder may be filled
    run(["python", str(SCRIPT), str(corpus), str(tmp_path / "data"), "--expected-total", "0"])
    run(["python", str(SCRIPT), str(corpus), str(tmp_path / "data"), "--expected-total", "0"])
    assert read_table(mine / "text") == {"BAC009S0724W0121": "开发集"}
