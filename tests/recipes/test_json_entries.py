"""json_entries (egs2/wenetspeech/asr1/local): the entries of a big JSON array
read in blocks and byte spans give exactly json.load's entries, or refuse (None /
BrokenLayout) rather than give anything else."""

import json
import random

import pytest

import json_entries


def document(n_audios=40, seed=0, **dump_args):
    rng = random.Random(seed)
    audios = []
    for a in range(n_audios):
        segments = [
            {
                "sid": f"A{a:04d}_S{s:03d}",
                "begin_time": s * 2.0,
                "end_time": s * 2.0 + 1.5,
                "text": rng.choice(["你好", '{"aid": 1}', 'say "hi", ok', "逗号,括号]"]),
                "subsets": rng.choice([["S", "M"], ["L"], ["DEV"]]),
            }
            for s in range(rng.randint(0, 30))
        ]
        audios.append(
            {
                "aid": f"A{a:04d}",
                "duration": 70.0,
                "path": f"audio/A{a:04d}.opus",
                "segments": segments,
            }
        )
    return {"dataset": "WenetSpeech", "version": "v1.0", "audios": audios}


def write(tmp_path, doc, **dump_args):
    path = tmp_path / "WenetSpeech.json"
    path.write_text(json.dumps(doc, ensure_ascii=False, **dump_args), encoding="utf-8")
    return path


def read_all(path, parts, block):
    span = json_entries.array_span(path, "audios", "aid")
    assert span is not None
    spans = json_entries.split_span(path, span, parts, "aid")
    return [e for s in spans for e in json_entries.read_span(path, s, "aid", block=block)], spans


@pytest.mark.parametrize(
    "dump_args", [{}, {"indent": 1}, {"indent": "\t", "separators": (" , ", " : ")}]
)
@pytest.mark.parametrize("parts,block", [(1, 1 << 18), (3, 64), (7, 1000)])
def test_blocks_and_spans_give_json_loads_entries(tmp_path, dump_args, parts, block):
    doc = document()
    path = write(tmp_path, doc, **dump_args)
    entries, spans = read_all(path, parts, block)
    assert entries == doc["audios"]
    assert len(spans) == parts  # 40 entries: enough to cut anywhere
    assert all(a < b for a, b in spans)


def test_layouts_it_does_not_know_are_left_to_the_event_parser(tmp_path):
    doc = document(5)
    moved = {"audios": doc["audios"], "dataset": "x"}  # a member after the array
    assert json_entries.array_span(write(tmp_path, moved), "audios", "aid") is None
    nested = {"meta": {"n": 1}, "audios": doc["audios"]}  # an object before it
    assert json_entries.array_span(write(tmp_path, nested), "audios", "aid") is None
    reordered = {"audios": [{"duration": 1.0, **a} for a in doc["audios"]]}  # aid not first
    assert json_entries.array_span(write(tmp_path, reordered), "audios", "aid") is None
    assert json_entries.array_span(write(tmp_path, {"audios": []}), "audios", "aid") is None


def test_a_false_cut_inside_an_entry_is_refused(tmp_path):
    doc = document(6)
    for audio in doc["audios"]:  # segments that begin with the entry key
        audio["segments"] = [{"aid": audio["aid"], **s} for s in audio["segments"]] or [
            {"aid": audio["aid"], "sid": "x"}
        ]
    path = write(tmp_path, doc)
    with pytest.raises(json_entries.BrokenLayout):
        read_all(path, 1, 64)


def test_invalid_json_is_refused_with_its_bytes(tmp_path):
    path = write(tmp_path, document(8))
    data = path.read_bytes()
    cut = data.index(b'"A0005"')
    path.write_bytes(data[:cut] + b"}" + data[cut:])
    with pytest.raises(json_entries.BrokenLayout, match=r"WenetSpeech.json: bytes \d+-\d+"):
        read_all(path, 1, 1 << 18)
