"""local/compare.sh against NIST sctk's sc_stats (MAPSSWE) on random systems, and its
bootstrap intervals, output lines and errors."""

import os
import random
import re
import subprocess

import numpy as np
import pytest

from conftest import ROOT, run
from local.report import bootstrap, mapsswe
from local.report.compare import add_intervals, load, pairs
from local.report.score import align, score_files

ALPHABETS = ["甲乙", "甲乙丙丁", "我爱北京天安门aAbB", "ab"]


# --- random test sets ------------------------------------------------------------


def mutate(rng, ref, rate, end_insertions):
    """A hypothesis of `ref` with about `rate` errors per character."""
    alphabet = sorted(set(ref)) or ["甲"]
    hyp = []
    for char in ref:
        draw = rng.random()
        if draw < rate / 3:
            hyp.append(rng.choice(alphabet + ["乙", "x"]))  # substitution (maybe none)
        elif draw < 2 * rate / 3:
            pass  # deletion
        elif draw < rate:
            hyp += [char, rng.choice(alphabet)]  # insertion after
        else:
            hyp.append(char)
    if end_insertions and rng.random() < 0.5:
        hyp.insert(0, rng.choice(alphabet))
    if end_insertions and rng.random() < 0.5:
        hyp.append(rng.choice(alphabet))
    return "".join(hyp)


def random_case(seed):
    """(refs, [hyps...], utt2spk or None) with 2-4 systems that may be close, far
    apart, identical, empty, missing utterances, with insertions at the ends."""
    rng = random.Random(seed)
    alphabet = rng.choice(ALPHABETS)
    separator = rng.choice(["-", "_", ""])  # "": sclite takes the previous speaker
    refs, utt2spk = {}, {}
    for i in range(rng.randint(1, 30)):
        spk = f"S{rng.randint(1, 4)}"
        utt = f"{spk}{separator}U{i:03d}"
        length = 0 if rng.random() < 0.08 else rng.randint(1, 20)
        refs[utt] = " ".join(rng.choice(alphabet) for _ in range(length))
        utt2spk[utt] = spk
    if not any(refs.values()):
        refs[next(iter(refs))] = alphabet[0]
    systems = []
    for _ in range(rng.randint(2, 4)):
        kind = rng.random()
        if systems and kind < 0.15:
            hyps = dict(systems[-1])  # identical: a tie
        elif systems and kind < 0.3:
            hyps = dict(systems[-1])  # close: one utterance differs
            utt = rng.choice(list(hyps))
            hyps[utt] = mutate(rng, refs[utt].replace(" ", ""), 0.3, True)
        else:
            rate = rng.choice([0.0, 0.03, 0.1, 0.25, 0.5, 0.9])
            ends = rng.random() < 0.5
            hyps = {u: mutate(rng, r.replace(" ", ""), rate, ends) for u, r in refs.items()}
        # one utterance with a reference is decoded by every system: each has a CER and
        # each pair an utterance in common
        first = next(u for u, r in refs.items() if r)
        for utt in list(hyps):
            if rng.random() < 0.05:
                hyps[utt] = ""  # an empty hypothesis
            elif rng.random() < 0.04 and utt != first:
                del hyps[utt]  # not decoded
        systems.append(hyps)
    return refs, systems, (utt2spk if rng.random() < 0.5 else None)


def write_text(path, table):
    path.write_text(
        "".join(f"{k} {v}\n" if v else f"{k}\n" for k, v in table.items()), encoding="utf-8"
    )


# --- sctk -----------------------------------------------------------------------

SC_STATS_LINE = re.compile(
    r"MTCH_PR_RESULTS \(systems: (\S+) (\S+)\) \(# segs: (\d+)\) \(Seg per Sent: (\S+)\) "
    r"\(% Error: +(\S+) +(\S+)\) \(mean: +(\S+)\) \(std dev: +(\S+)\) \(Z Stat: +(\S+)\) "
    r"\(Stat Diff: (Yes|No)\)"
)


def sgml_of(sclite, folder, name):
    """sclite's SGML alignments of the system scored into folder/<name>."""
    subprocess.run(
        sclite
        + ["-r", "ref.trn", "trn", "-h", "hyp.trn", "trn", name]
        + ["-i", "rm", "-o", "sgml", "-O", "."],
        cwd=folder / name,
        capture_output=True,
        check=True,
    )
    return (folder / name / "hyp.trn.sgml").read_text(encoding="utf-8")


def sc_stats(sclite, sgml):
    """sctk's MTCH_PR_RESULTS line for two systems' SGML, as a regex match; None when
    sc_stats crashes (it does when no segment has an error: 0 / 0 in its mean). Its
    report may cut a character's bytes apart: read as UTF-8 with replacements."""
    proc = subprocess.run(
        [sclite[0], "sc_stats", "-p", "-t", "mapsswe", "-v", "-n", "-"],
        input="".join(sgml).encode("utf-8"),
        capture_output=True,
    )
    stdout, stderr = (out.decode("utf-8", "replace") for out in (proc.stdout, proc.stderr))
    if proc.returncode != 0 or "Segmentation fault" in stderr:
        return None
    (match,) = [m for m in map(SC_STATS_LINE.search, stdout.splitlines()) if m]
    return match


def check_against_sc_stats(sclite, folder, seed):
    """Our numbers for every pair of a random case equal sc_stats' (run on each pair)."""
    refs, systems, utt2spk = random_case(seed)
    write_text(folder / "ref", refs)
    if utt2spk:
        write_text(folder / "utt2spk", utt2spk)
    names = [f"sys{i}" for i in range(len(systems))]
    sgml = {}
    for name, hyps in zip(names, systems):
        write_text(folder / f"{name}.txt", hyps)
        score_files(
            folder / "ref",
            folder / f"{name}.txt",
            folder / name,
            folder / "utt2spk" if utt2spk else None,
        )
        sgml[name] = sgml_of(sclite, folder, name)
    ours = pairs(
        load(
            folder / "ref",
            [folder / f"{n}.txt" for n in names],
            names,
            folder / "utt2spk" if utt2spk else None,
        )
    )
    assert len(ours) == len(names) * (len(names) - 1) // 2
    for a, b, r in ours:
        m = sc_stats(sclite, [sgml[a.name], sgml[b.name]])
        if m is None:  # sctk crashes without segments; we say 0 segments, Z 0, same
            assert r.segments == 0 and r.z == 0.0 and r.better is None, f"seed {seed}"
            continue
        where = f"seed {seed}: {a.name} {b.name}: {m.group(0)}"
        assert (m[1], m[2]) == (a.name, b.name), where
        assert int(m[3]) == r.segments, where
        assert m[9] == "%.3f" % r.z, where
        assert (m[10] == "Yes") == r.differ, where
        assert (m[5], m[6]) == ("%.2f" % r.percent1, "%.2f" % r.percent2), where
        assert (m[7], m[8]) == ("%.3f" % r.mean, "%.3f" % r.std_dev), where
        assert m[4] == "%.3f" % (r.segments / r.sentences), where
        if r.differ:  # sctk's winner: the first system when the mean difference is < 0
            assert r.better == (0 if float(m[7]) < 0 else 1), where
    return ours


@pytest.mark.parametrize("seed", range(40))
def test_same_numbers_as_sc_stats(tmp_path, sclite, seed):
    check_against_sc_stats(sclite, tmp_path, seed)


def test_same_numbers_as_sc_stats_on_fresh_inputs(tmp_path, sclite):
    """Inputs no earlier run has seen: seeds drawn now (MAPSSWE_SEED=<n> repeats one)."""
    first = int(os.environ.get("MAPSSWE_SEED", random.SystemRandom().randrange(10**9)))
    decisions = set()
    for seed in range(first, first + 30):
        folder = tmp_path / str(seed)
        folder.mkdir()
        decisions |= {r.differ for _, _, r in check_against_sc_stats(sclite, folder, seed)}
    assert decisions  # something was compared


def test_random_cases_cover_ties_differences_and_both_decisions(tmp_path):
    """The generator makes the cases the comparison is meant to cover."""
    seen = set()
    for seed in range(40):
        refs, systems, _ = random_case(seed)
        folder = tmp_path / str(seed)
        folder.mkdir()
        write_text(folder / "ref", refs)
        names = []
        for i, hyps in enumerate(systems):
            write_text(folder / f"s{i}", hyps)
            names.append(f"s{i}")
            seen.add("empty hypothesis" if "" in hyps.values() else "no empty hypothesis")
        for _, _, r in pairs(load(folder / "ref", [folder / n for n in names], names)):
            seen.add("differ" if r.differ else "same")
            seen.add("no segment" if r.segments == 0 else "segments")
            seen.add("zero spread" if r.segments > 1 and r.std_dev == 0 else "spread")
    assert seen >= {"differ", "same", "no segment", "segments", "empty hypothesis"}


# --- the segmentation on small cases ------------------------------------------------


def path(ref, hyp):
    return align(list(ref), list(hyp))


def test_segments_bounded_by_two_correct_characters():
    # errors at 2 (A) and 5 (B): both correct at 3, 4 -> two segments, sharing 3..4
    found = mapsswe.segments(path("abcdefg", "abxdefg"), path("abcdefg", "abcdexg"))
    assert [(s.errors1, s.errors2) for s in found] == [(1, 0), (0, 1)]
    # one correct character between the errors does not separate them
    found = mapsswe.segments(path("abcdefg", "abxdefg"), path("abcdefg", "abcdxfg"))
    assert [(s.errors1, s.errors2) for s in found] == [(1, 1)]


def test_insertions_at_the_end_of_either_system_make_a_segment():
    for first, second in (("abcdx", "abcd"), ("abcd", "abcdx")):
        found = mapsswe.segments(path("abcd", first), path("abcd", second))
        assert len(found) == 1 and found[0].errors1 + found[0].errors2 == 1


def test_equal_systems_have_no_segment_and_z_zero():
    result = mapsswe.test([(path("abc", "abx"), path("abc", "abx"))] * 3)
    assert result.segments == 3 and result.z == 0.0 and not result.differ
    none = mapsswe.test([(path("abc", "abc"), path("abc", "abc"))])
    # without segments sc_stats crashes; ours reports the empty comparison as no difference
    assert (none.segments, none.percent1, none.percent2, none.z, none.p) == (0, 0.0, 0.0, 0.0, 1.0)
    assert not none.differ and none.better is None


def test_different_references_are_refused():
    with pytest.raises(ValueError, match="not of the same reference"):
        mapsswe.segments(path("abc", "abc"), path("abd", "abd"))


def test_p_value_is_two_sided_normal():
    assert mapsswe.two_sided_p(0.0) == 1.0
    assert abs(mapsswe.two_sided_p(1.959964) - 0.05) < 1e-6
    assert mapsswe.two_sided_p(-3.0) == mapsswe.two_sided_p(3.0)


# --- the bootstrap --------------------------------------------------------------------


def test_bootstrap_interval_is_fixed_by_the_seed_and_narrows_with_more_data():
    rng = random.Random(1)
    words = [rng.randint(5, 15) for _ in range(400)]
    errors = [rng.randint(0, w // 3) for w in words]
    cer = sum(errors) / sum(words) * 100
    low, high = bootstrap.interval(errors, words)
    assert low < cer < high
    assert (low, high) == bootstrap.interval(errors, words)
    assert (low, high) != bootstrap.interval(errors, words, seed=1)
    small = bootstrap.interval(errors[:40], words[:40])
    assert small[1] - small[0] > high - low
    # every utterance alike: no spread
    assert bootstrap.interval([1] * 10, [10] * 10) == (10.0, 10.0)


def test_bootstrap_interval_is_the_documented_percentile_interval(monkeypatch):
    """1000 draws of n utterances from numpy's generator seeded with 0, the 2.5th and
    97.5th percentiles of their CERs; the same when the draws are made in chunks."""
    rng = random.Random(2)
    words = np.array([rng.randint(0, 12) for _ in range(60)])  # some without characters
    errors = np.array([rng.randint(0, w) for w in words])
    draws = np.random.default_rng(0).integers(0, len(words), size=(1000, len(words)))
    cers = errors[draws].sum(axis=1) / words[draws].sum(axis=1) * 100.0
    expected = tuple(np.percentile(cers, [2.5, 97.5]))
    assert bootstrap.interval(errors, words) == pytest.approx(expected, abs=1e-12)
    monkeypatch.setattr(bootstrap, "_CHUNK", 7 * len(words))  # 7 draws at a time
    assert bootstrap.interval(errors, words) == pytest.approx(expected, abs=1e-12)
    # draws without reference characters are left out; a set without any has no interval
    errors, words = np.array([0, 2]), np.array([1, 0])  # the second: 2 insertions
    draws = np.random.default_rng(0).integers(0, 2, size=(1000, 2))
    drawn = words[draws].sum(axis=1)
    cers = errors[draws].sum(axis=1)[drawn > 0] / drawn[drawn > 0] * 100.0
    expected = tuple(np.percentile(cers, [2.5, 97.5]))
    assert bootstrap.interval(errors, words) == pytest.approx(expected, abs=1e-12)
    assert np.isnan(bootstrap.interval([0, 0], [0, 0])).all()
    # one utterance, one resample: valid, no spread; nothing to draw: refused
    assert bootstrap.interval([1], [5]) == (20.0, 20.0)
    low, high = bootstrap.interval([1, 2, 3], [5, 5, 5], resamples=1)
    assert low == high and 20.0 <= low <= 60.0  # one draw: its CER
    for bad in (dict(errors=[], words=[]), dict(errors=[1], words=[5], resamples=0)):
        with pytest.raises(ValueError, match="needs utterances and at least one resample"):
            bootstrap.interval(**bad)


# --- the command ----------------------------------------------------------------------


def test_compare_sh_prints_tables_then_machine_lines(tmp_path):
    write_text(tmp_path / "ref", {f"u{i}": "今天 天气 很好" for i in range(30)})
    write_text(tmp_path / "good", {f"u{i}": "今天天气很好" for i in range(30)})
    write_text(tmp_path / "bad", {f"u{i}": "今天天汽很好" if i % 3 else "天气" for i in range(30)})
    proc = run(
        ["bash", str(ROOT / "local/compare.sh"), str(tmp_path / "ref"), str(tmp_path / "good")]
        + [str(tmp_path / "bad"), "--resamples", "200", "--names", "good bad"]
    )
    lines = proc.stdout.splitlines()
    machine = [line for line in lines if line.startswith(("system ", "pair "))]
    assert lines.index(machine[0]) > 5 and lines[-3:] == machine  # tables first
    assert machine[0] == "system good cer=0.00 ci95=0.00,0.00"
    # 20 utterances with 1 substitution, 10 with 4 deletions: 60 errors / 180
    bad = re.fullmatch(r"system bad cer=33\.33 ci95=(\d+\.\d\d),(\d+\.\d\d)", machine[1])
    assert bad and float(bad[1]) < 33.33 < float(bad[2])
    # one segment per substitution; 天气 for 今天天气很好 makes two (its 2 correct in the middle)
    pair = re.fullmatch(r"pair good bad segments=40 z=-\d+\.\d{3} p=(\S+) better=good", machine[2])
    assert pair and float(pair[1]) < 0.05


def test_names_default_to_the_arguments_and_pairs_follow_their_order(tmp_path):
    write_text(tmp_path / "ref", {"u1": "甲乙丙丁", "u2": "甲乙"})
    for name, text in (("a", "甲乙丙丁"), ("b", "甲丙丁"), ("c", "乙")):
        write_text(tmp_path / name, {"u1": text, "u2": "甲乙"})
    proc = run(
        ["bash", str(ROOT / "local/compare.sh"), "ref", "a", "b", "c", "--seed", "3"],
        cwd=tmp_path,
    )
    pairs_ = [line.split()[1:3] for line in proc.stdout.splitlines() if line.startswith("pair")]
    assert pairs_ == [["a", "b"], ["a", "c"], ["b", "c"]]
    assert "system a cer=0.00 ci95=0.00,0.00" in proc.stdout


def test_kaldi_variants_compare_as_the_clean_files(tmp_path):
    refs = {"u1": "今天 天气 很好", "u2": "你好"}
    write_text(tmp_path / "ref", refs)
    write_text(tmp_path / "a", {"u1": "今天天汽很好", "u2": "你好吗"})
    write_text(tmp_path / "b", {"u1": "今天天气", "u2": "你"})
    (tmp_path / "ref_kaldi").write_text(
        "\ufeffu1\t今天 天气 很好\r\n\nu2\u3000你好\n\n", encoding="utf-8"
    )
    clean = load(tmp_path / "ref", [tmp_path / "a", tmp_path / "b"], ["a", "b"])
    kaldi = load(tmp_path / "ref_kaldi", [tmp_path / "a", tmp_path / "b"], ["a", "b"])
    add_intervals(clean), add_intervals(kaldi)
    assert [(s.cer, s.low, s.high) for s in clean] == [(s.cer, s.low, s.high) for s in kaldi]
    assert [r for _, _, r in pairs(clean)] == [r for _, _, r in pairs(kaldi)]


@pytest.mark.parametrize("seed", range(5))
def test_the_order_of_a_hypothesis_file_changes_nothing(tmp_path, seed):
    """Ids without a speaker take the previous line's (sclite's rule): taken in the
    reference's order, a shuffled hypothesis file gives the same numbers and the same
    sentences in common."""
    refs, systems, _ = random_case(seed)
    rename = {u: f"x_{i}" if i % 3 else f"y{i}" for i, u in enumerate(refs)}  # y: no speaker
    write_text(tmp_path / "ref", {rename[u]: text for u, text in refs.items()})
    systems = [{rename[u]: text for u, text in hyps.items()} for hyps in systems]
    names = []
    for n, hyps in enumerate(systems[:2]):
        for order in ("sorted", "shuffled"):
            if order == "shuffled":
                keys = list(hyps)
                random.Random(seed).shuffle(keys)
                hyps = {k: hyps[k] for k in keys}
            write_text(tmp_path / f"{order}{n}", hyps)
        names.append(n)
    runs = {}
    for order in ("sorted", "shuffled"):
        systems_ = load(tmp_path / "ref", [tmp_path / f"{order}{n}" for n in names], ["a", "b"])
        add_intervals(systems_)
        (result,) = [r for _, _, r in pairs(systems_)]
        runs[order] = ([(s.cer, s.low, s.high) for s in systems_], result)
    assert runs["sorted"] == runs["shuffled"]
    assert runs["sorted"][1].sentences == len(set(systems[0]) & set(systems[1]))


def test_references_no_system_has_are_named_in_a_warning(tmp_path):
    write_text(tmp_path / "ref", {f"u{i}": "你好" for i in range(6)})
    write_text(tmp_path / "a", {"u0": "你好", "u1": "你", "u2": "好"})
    write_text(tmp_path / "b", {"u0": "你", "u2": "你好"})  # u1: a has it
    proc = run(["bash", str(ROOT / "local/compare.sh"), "ref", "a", "b"], cwd=tmp_path)
    warnings = [line for line in proc.stderr.splitlines() if "no hypothesis" in line]
    assert warnings == [
        "warning: 3 reference utterances of ref have no hypothesis in any system and are "
        "not scored (as sclite does): 'u3', 'u4', 'u5'"
    ]
    assert "system a cer=" in proc.stdout
    write_text(tmp_path / "ref", {f"u{i}": "你好" for i in range(3)})  # all covered
    proc = run(["bash", str(ROOT / "local/compare.sh"), "ref", "a", "b"], cwd=tmp_path)
    assert "no hypothesis" not in proc.stderr
    write_text(tmp_path / "ref", {f"u{i}": "你好" for i in range(9)})  # a few ids, then ...
    proc = run(["bash", str(ROOT / "local/compare.sh"), "ref", "a", "b"], cwd=tmp_path)
    assert "6 reference utterances of ref have no hypothesis" in proc.stderr
    assert "'u3', 'u4', 'u5', ...\n" in proc.stderr


@pytest.mark.parametrize(
    "case, args, message",
    [
        ("one hypothesis", ["ref", "a"], "at least two"),
        ("names", ["ref", "a", "b", "--names", "x"], "--names has 1 names"),
        ("same names", ["ref", "a", "b", "--names", "x x"], "different names"),
        ("resamples", ["ref", "a", "b", "--resamples", "0"], "must be from 1 to"),
        ("space in a name", ["ref", "a", "my b"], "white space"),
        ("missing file", ["ref", "a", "nothere"], "nothere: no such file"),
        ("unknown utterance", ["ref", "a", "extra"], "extra: 1 utterances have no reference"),
        ("GBK", ["ref", "a", "gbk"], "gbk:1: not UTF-8"),
        ("empty references", ["empty_ref", "a", "b"], "every reference is empty"),
        ("no utterance", ["ref", "a", "blank"], "blank: no hypothesis utterance"),
    ],
)
def test_bad_input_is_one_line_without_traceback(tmp_path, case, args, message):
    write_text(tmp_path / "ref", {"u1": "你好", "u2": "再见"})
    write_text(tmp_path / "empty_ref", {"u1": "", "u2": ""})
    write_text(tmp_path / "a", {"u1": "你好", "u2": "再见"})
    write_text(tmp_path / "b", {"u1": "你", "u2": "再见"})
    write_text(tmp_path / "my b", {"u1": "你", "u2": "再见"})
    write_text(tmp_path / "extra", {"u1": "你", "u9": "再见"})
    (tmp_path / "gbk").write_bytes("u1 你好\n".encode("gbk"))
    (tmp_path / "blank").write_text("\n\n", encoding="utf-8")
    proc = run(["bash", str(ROOT / "local/compare.sh"), *args], cwd=tmp_path, check=False)
    assert proc.returncode != 0, case
    assert message in proc.stderr, (case, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
