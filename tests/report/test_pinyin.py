"""The pinyin syllable error rate beside the CER: homophones, tones, other characters,
and its counts against the real sclite."""

import random
import subprocess

import pytest

from conftest import ROOT, run
from local.report import pinyin
from local.report.score import score_files, scoring_of, trn_ids_of

# every member of a group has the same syllable and tone in the carrier sentences
HOMOPHONES = ["是事市试世", "在再", "做作坐座", "他她它", "以已"]
SAME_BUT_TONE = [("买", "卖"), ("妈", "马"), ("汤", "糖")]  # mai3/mai4, ma1/ma3, tang1/tang2
CARRIERS = ["我{}老师", "今天{}好天气", "明{}早上见", "这{}一本书"]


def write_text(path, table):
    path.write_text("".join(f"{k} {v}\n" for k, v in table.items()), encoding="utf-8")


def test_syllables_one_per_character_other_characters_as_themselves():
    assert pinyin.syllables("他是 老师") == ["ta", "shi", "lao", "shi"]
    assert pinyin.syllables("他是老师", tones=True) == ["ta1", "shi4", "lao3", "shi1"]
    assert pinyin.syllables("的", tones=True) == ["de5"]  # the neutral tone as 5
    # Latin letters and digits stay themselves, one token per character as in the CER
    assert pinyin.syllables("我有3个iPhone") == ["wo", "you", "3", "ge", *"iPhone"]
    assert pinyin.syllables("绿") == ["lv"]
    # read in the sentence: 行 is hang in 银行, xing in 行走
    assert pinyin.syllables("银行") == ["yin", "hang"]
    assert pinyin.syllables("行走") == ["xing", "zou"]


def generated_set(seed, n=40):
    """References and hypotheses with homophones, tone-only and other substitutions;
    (refs, hyps, number of each kind)."""
    rng = random.Random(seed)
    refs, hyps, made = {}, {}, {"homophone": 0, "tone": 0, "other": 0}
    for i in range(n):
        group = rng.choice(HOMOPHONES)
        right, wrong = rng.sample(group, 2)
        ref = hyp = rng.choice(CARRIERS).format(right)
        kind = rng.choice(["homophone", "tone", "other", "none"])
        if kind == "homophone":
            hyp = ref.replace(right, wrong)
        elif kind in ("tone", "other"):
            a, b = rng.choice(SAME_BUT_TONE)
            ref = ref + a
            hyp = hyp + (b if kind == "tone" else "书")
        if kind != "none":
            made[kind] += 1
        refs[f"u{i:03d}"], hyps[f"u{i:03d}"] = ref, hyp
    return refs, hyps, made


@pytest.mark.parametrize("seed", range(3))
def test_homophones_are_character_errors_but_no_syllable_errors(tmp_path, seed):
    refs, hyps, made = generated_set(seed)
    assert min(made.values()) > 0
    write_text(tmp_path / "ref", refs)
    write_text(tmp_path / "hyp", hyps)
    scoring, _ = score_files(tmp_path / "ref", tmp_path / "hyp", tmp_path / "out")
    words = sum(len(r) for r in refs.values())
    character_errors = made["homophone"] + made["tone"] + made["other"]
    assert (scoring.total.errors, scoring.total.words) == (character_errors, words)
    toneless, toned = scoring.pinyin["without tones"], scoring.pinyin["with tones"]
    # a homophone is right without tones and with them; 买/卖 is right only without tones
    assert (toneless.total.errors, toneless.total.words) == (made["other"], words)
    assert (toned.total.errors, toned.total.words) == (made["tone"] + made["other"], words)
    assert scoring.cer() > toneless.cer()
    text = (tmp_path / "out/pinyin.txt").read_text(encoding="utf-8")
    assert text.startswith(pinyin.TITLE)
    assert f"| characters (CER) | {words} | {character_errors} | {character_errors} |" in text
    assert f"| pinyin without tones | {words} | {made['other']} | {made['other']} |" in text


def test_only_homophones_give_a_syllable_error_rate_of_zero(tmp_path):
    refs = {"a1": "他是老师", "a2": "我在市场", "a3": "OK了3次"}
    hyps = {"a1": "他事老师", "a2": "我再是场", "a3": "ok了3次"}
    write_text(tmp_path / "ref", refs)
    write_text(tmp_path / "hyp", hyps)
    proc = run(
        ["bash", str(ROOT / "local/score.sh"), tmp_path / "ref", tmp_path / "hyp", tmp_path / "o"]
    )
    # 事, 再, 是: 3 of 13 characters; as syllables none (ok: ASCII case is ignored)
    assert "CER 23.1 % [ 3 / 13, 3 sub, 0 del, 0 ins ]" in proc.stdout
    for style in pinyin.STYLES:
        assert f"pinyin syllable error rate {style}: 0.0 % [ 0 / 13," in proc.stdout
    assert (tmp_path / "o/pinyin.txt").is_file()


@pytest.mark.parametrize("seed", range(4))
def test_syllable_counts_are_sclites(tmp_path, sclite, seed):
    """The syllables written as trn words and scored by sclite: the same summary."""
    refs, hyps, _ = generated_set(seed, n=25)
    rng = random.Random(seed)
    for utt in list(hyps)[::3]:  # deletions and insertions too
        text = list(hyps[utt])
        del text[rng.randrange(len(text))]
        text.insert(rng.randrange(len(text) + 1), rng.choice("是他好a"))
        hyps[utt] = "".join(text)
    trn_ids = trn_ids_of(refs, {})
    for style, tones in pinyin.STYLES.items():
        for name, texts in (("ref", refs), ("hyp", hyps)):
            lines = [" ".join(pinyin.syllables(t, tones) + [trn_ids[u]]) for u, t in texts.items()]
            (tmp_path / f"{name}.trn").write_text("\n".join(lines) + "\n", encoding="utf-8")
        hyp_trn = str(tmp_path / "hyp.trn")
        ours = scoring_of(
            refs, hyps, trn_ids, hyp_trn, lambda t, tones=tones: pinyin.syllables(t, tones)
        )
        expected = subprocess.run(
            sclite
            + ["-r", str(tmp_path / "ref.trn"), "trn", "-h", hyp_trn, "trn"]
            + ["-i", "rm", "-o", "sum", "stdout"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert ours.summary() == expected, style
