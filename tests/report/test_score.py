"""The scorer against sclite's rules and against the real sclite binary."""

import random
import subprocess

import pytest

from conftest import ROOT, run
from local.report.alignment import percent
from local.report.score import align, characters, sclite_round, score_files


def ops(ref, hyp):
    return "".join(op for op, _, _ in align(list(ref), list(hyp)))


def test_ties_prefer_diagonal_then_insertion():
    # a b -> b a: the delete/insert tie at the last cell goes to the insertion
    assert ops("ab", "ba") == "DCI"
    # three substitutions cost as much as four gaps; sclite keeps its greedy choice
    assert ops("aaabbbcb", "bbaccbc") == "DDDCCISCCI"
    # with repeated letters the deletion/insertion sits at the start
    assert ops("aaa", "aa") == "DCC"
    assert ops("aa", "aaa") == "ICC"


def test_case_insensitive_ascii_only():
    assert ops("ABC", "abc") == "CCC"
    assert ops("É", "é") == "S"


def test_characters_drop_all_whitespace():
    assert characters("我 爱\u3000北京 ab") == ["我", "爱", "北", "京", "a", "b"]


def test_rounding_is_half_away_from_zero_after_division():
    assert sclite_round(1 / 16 * 100) == 6.3
    assert sclite_round(23 / 80 * 100) == 28.7
    # below zero too (differences): away from zero, then C's truncation toward zero
    assert sclite_round(-1 / 16 * 100) == -6.3 and sclite_round(-0.04) == 0.0
    assert percent(5, 0) == 0.0  # an empty reference: no error rate, not a division error


def write_text(path, table):
    path.write_text(
        "".join(f"{k} {v}\n" if v else f"{k}\n" for k, v in table.items()), encoding="utf-8"
    )


def random_pair(rng, alphabet):
    ref = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 14)))
    hyp = list(ref)
    for _ in range(rng.randint(0, 6)):
        kind = rng.random()
        pos = rng.randint(0, len(hyp))
        if kind < 0.4 and hyp:
            hyp[min(pos, len(hyp) - 1)] = rng.choice(alphabet)
        elif kind < 0.7 and hyp:
            del hyp[min(pos, len(hyp) - 1)]
        else:
            hyp.insert(pos, rng.choice(alphabet))
    return ref, "".join(hyp)


# speakers that sclite tells apart by ASCII case only and lays out in UTF-8 bytes
UNICODE_SPEAKERS = ["Äb", "äb", "张三", "Ｘ", "ß", "s01", "S01", "İx"]


@pytest.mark.parametrize("seed", range(10))
def test_same_output_as_sclite(tmp_path, sclite, seed):
    """Whole `-o sum pra` output equal to sclite's, byte for byte, on random sets;
    seeds 6-9 with non-ASCII speakers and an output folder named in Chinese."""
    rng = random.Random(seed)
    alphabet = "我爱北京天安门aAbB" if seed % 2 else "甲乙丙丁"
    refs, hyps, utt2spk = {}, {}, {}
    for i in range(rng.randint(1, 40)):
        spk = rng.choice(UNICODE_SPEAKERS) if seed >= 6 else f"S{rng.randint(1, 5):02d}"
        utt = f"{spk}W{i:04d}"
        refs[utt], hyps[utt] = random_pair(rng, alphabet)
        utt2spk[utt] = spk
    write_text(tmp_path / "ref", refs)
    write_text(tmp_path / "hyp", hyps)
    (tmp_path / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s in utt2spk.items()))
    use_spk = seed % 3 != 0
    out = tmp_path / ("score" if seed < 6 else "结果" * (seed - 5))
    _scoring, missing = score_files(
        tmp_path / "ref", tmp_path / "hyp", out, tmp_path / "utt2spk" if use_spk else None
    )
    expected = subprocess.run(
        sclite
        + [
            "-r",
            str(out / "ref.trn"),
            "trn",
            "-h",
            str(out / "hyp.trn"),
            "trn",
            "-i",
            "rm",
            "-o",
            "sum",
            "pra",
            "stdout",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert missing == 0
    assert (out / "result.txt").read_text(encoding="utf-8") == expected


def test_score_sh_prints_the_sum_line(tmp_path):
    write_text(tmp_path / "ref", {"u1": "今天 天气 好", "u2": "你好"})
    write_text(tmp_path / "hyp", {"u1": "今天天汽好", "u2": "你好吗"})
    proc = run(
        [
            "bash",
            str(ROOT / "local/score.sh"),
            str(tmp_path / "ref"),
            str(tmp_path / "hyp"),
            str(tmp_path / "out"),
        ]
    )
    sum_line = next(line for line in proc.stdout.splitlines() if "Sum/Avg" in line)
    # 7 reference characters: 1 substitution, 1 insertion -> Err 28.6 %
    assert sum_line.split("|")[2].split() == ["2", "7"]
    assert sum_line.split("|")[3].split() == ["85.7", "14.3", "0.0", "14.3", "28.6", "100.0"]
    assert "CER 28.6 %" in proc.stdout
    assert (tmp_path / "out" / "result.txt").exists()


def test_unknown_hypothesis_is_an_error(tmp_path):
    write_text(tmp_path / "ref", {"u1": "你好"})
    write_text(tmp_path / "hyp", {"u1": "你好", "u9": "好"})
    proc = run(
        ["bash", str(ROOT / "local/score.sh"), str(tmp_path / "ref"), str(tmp_path / "hyp")],
        check=False,
    )
    assert proc.returncode != 0
    assert "u9" in proc.stderr
