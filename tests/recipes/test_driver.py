"""The stage driver's own logic, in seconds: its decoding of a test set (jobs balanced
by audio length, merged outputs, the real-time factor with its job count) run with
a stand-in decoder, and its option checks. The real decoders are compared with
ESPnet elsewhere (test_batch_beam_search, the end-to-end tests)."""

import textwrap

import pytest

from conftest import ROOT, run
from fileio.kaldi_table import read_table
from local.data.split_keys import main as split_main
from local.decode.merge_decode import main as merge_main
from local.decode.rtf import main as rtf_main

# A stand-in for the decoding program: takes the options the driver gives
# local.decode.batch_inference, "decodes" each key of --key_file into its own id
# (so that every output line says which job wrote it) and writes ESPnet's layout.
STUB_DECODER = textwrap.dedent("""\
    import argparse, pathlib, time
    p = argparse.ArgumentParser()
    p.add_argument("--key_file"); p.add_argument("--output_dir")
    args, _ = p.parse_known_args()
    keys = [line.split()[0] for line in open(args.key_file) if line.strip()]
    out = pathlib.Path(args.output_dir) / "1best_recog"
    out.mkdir(parents=True, exist_ok=True)  # a decoding run again overwrites, as ESPnet
    job = args.key_file.rsplit(".", 2)[-2]
    # an utterance decoded to nothing is a key alone on its line, as ESPnet writes it
    (out / "text").write_text("".join(f"{k}\\n" if k == "utt00" else f"{k} job{job}\\n"
                                      for k in keys))
    time.sleep(0.3)
""")


DRIVER_PRELUDE = f"""
    set -euo pipefail
    . {ROOT}/path.sh
    tools={ROOT}/local
    . {ROOT}/local/asr_lib.sh
    dumpdir=dump inference_nj=3 driver_args=(--test)
    asr_exp=exp/asr_x inference_asr_model=model.pth inference_config=decode.yaml
    decode_job=(python -m local.runtime.jobs --backend local)
    inference_program=(python stub_decoder.py)
    inference_ngpu=0
"""


def driver(script, cwd, **env):
    """Run bash lines after sourcing the driver's helpers, with its variables set."""
    return run(["bash", "-c", DRIVER_PRELUDE + script], cwd=cwd, **env)


@pytest.fixture
def test_set(tmp_path):
    """dump/raw/test: 12 utterances, one of them as long as all the others together."""
    folder = tmp_path / "dump/raw/test"
    folder.mkdir(parents=True)
    lengths = {f"utt{i:02d}": 16000 * (1 + i % 3) for i in range(11)}
    lengths["utt11"] = sum(lengths.values())
    (folder / "audio_format").write_text("flac\n")
    (folder / "wav.scp").write_text("".join(f"{u} /data/{u}.flac\n" for u in sorted(lengths)))
    (folder / "utt2num_samples").write_text("".join(f"{u} {n}\n" for u, n in lengths.items()))
    (tmp_path / "stub_decoder.py").write_text(STUB_DECODER)
    return tmp_path, lengths


def test_decoding_jobs_are_balanced_by_audio_length(test_set):
    folder, lengths = test_set
    driver("decode_set test exp/asr_x/decode/test --beam_size 3", folder)
    decode = folder / "exp/asr_x/decode/test"
    jobs = [read_table(decode / f"log/keys.{j}.scp") for j in (1, 2, 3)]
    assert sorted(k for job in jobs for k in job) == sorted(lengths)
    totals = sorted(sum(lengths[k] for k in job) for job in jobs)
    # the long utterance alone in one job, the other two share the rest evenly; by
    # count (4 + 4 + 4) every job would hold a third of the utterances instead
    assert [len(job) for job in jobs if "utt11" in job] == [1]
    assert totals[2] == lengths["utt11"] and totals[1] - totals[0] <= 16000
    merged = read_table(decode / "text", allow_empty_value=True)
    assert merged.keys() == lengths.keys()
    for j, job in enumerate(jobs, start=1):
        for k in job:  # each hypothesis from its own job; an empty one kept empty
            assert merged[k] == ("" if k == "utt00" else f"job{j}")
    assert (decode / "command").read_text().strip().endswith("--test")


def test_real_time_factor_counts_every_job(test_set):
    folder, lengths = test_set
    driver("decode_set test exp/asr_x/decode/test", folder)
    rtf = dict(
        line.split() for line in (folder / "exp/asr_x/decode/test/rtf").read_text().splitlines()
    )
    assert int(rtf["jobs"]) == 3  # the jobs that ran: keys.{1,2,3}.scp
    assert float(rtf["audio_seconds"]) == pytest.approx(sum(lengths.values()) / 16000, abs=0.05)
    # job-seconds per audio second: the wall time of the parallel jobs times their number
    # (wall_seconds is written to 0.1 s, the rtf from the unrounded time)
    wall, audio = float(rtf["wall_seconds"]), float(rtf["audio_seconds"])
    assert (wall - 0.05) * 3 / audio <= float(rtf["rtf"]) <= (wall + 0.05) * 3 / audio
    assert float(rtf["wall_seconds"]) >= 0.3


def test_jobs_of_the_real_time_factor_are_those_of_this_decoding(test_set):
    """Decoded again with fewer jobs (keys.3.scp of the first run still there), and
    with more jobs allowed than there are utterances (one job per utterance)."""
    folder, lengths = test_set
    rtf = folder / "exp/asr_x/decode/test/rtf"
    for nj, jobs in ((3, 3), (2, 2), (15, len(lengths))):
        driver(f"inference_nj={nj}; decode_set test exp/asr_x/decode/test", folder)
        assert dict(line.split() for line in rtf.read_text().splitlines())["jobs"] == str(jobs)


def test_decoding_folders_are_named_as_espnet_names_them(tmp_path):
    """The decode config's name, the LM, the model (ESPnet's asr.sh), not decode_decode_;
    a decoding begun under that old name is found again, not started anew."""

    def name(tag, use_lm="true"):
        script = f"use_lm={use_lm} lm_tag=train_lm; decode_name {tag}"
        return driver(script, tmp_path).stdout.strip()

    assert name("decode_asr") == "decode_asr_lm_train_lm_model"
    assert name("decode_asr", use_lm="false") == "decode_asr_model"
    assert name("tune_decode_asr") == "tune_decode_asr_lm_train_lm_model"
    (tmp_path / "exp/asr_x/decode_decode_asr_lm_train_lm_model").mkdir(parents=True)
    assert name("decode_asr") == "decode_decode_asr_lm_train_lm_model"
    assert name("decode_asr", use_lm="false") == "decode_asr_model"  # not begun before
    (tmp_path / "exp/asr_x/decode_asr_lm_train_lm_model").mkdir()
    assert name("decode_asr") == "decode_asr_lm_train_lm_model"  # the new name first


def test_the_lm_text_is_checked_against_the_validation_and_every_test_set(tmp_path):
    for name, text in (
        ("dev", "d1 低头思故乡\n"),
        ("test", "t1 春眠不觉晓\n"),
        ("test2", "x1 好\n"),
    ):
        (tmp_path / "dump/raw" / name).mkdir(parents=True)
        (tmp_path / "dump/raw" / name / "text").write_text(text, encoding="utf-8")
    (tmp_path / "lm.txt").write_text("a1 床前明月光\na2 春眠不觉晓\n", encoding="utf-8")
    check = "lm_train_text=lm.txt valid_set=dev test_sets='dev test2 test'; check_lm_leak"
    proc = run(["bash", "-c", f"{DRIVER_PRELUDE}\n{check}"], cwd=tmp_path, check=False)
    assert proc.returncode != 0
    assert "dump/raw/test/text: t1 '春眠不觉晓' is line 2 of lm.txt" in proc.stderr
    (tmp_path / "lm.txt").write_text("a1 床前明月光\n", encoding="utf-8")
    run(["bash", "-c", f"{DRIVER_PRELUDE}\n{check}"], cwd=tmp_path)


def test_rtf_command_is_job_seconds_per_audio_second(tmp_path, capsys):
    (tmp_path / "text").write_text("u1 你好\nu2\n")  # u2 decoded to nothing still counts
    (tmp_path / "lengths").write_text(f"u1 {3 * 16000}\nu2 {16000}\nu3 {16000}\n")
    args = [str(tmp_path), str(tmp_path / "lengths")]
    for jobs, seconds, rtf in ((1, "2", "0.5000"), (3, "2", "1.5000"), (2, "0", "0.0000")):
        rtf_main([*args, "--seconds", seconds, "--jobs", str(jobs)])
        expected = f"wall_seconds {float(seconds):.1f}\njobs {jobs}\naudio_seconds 4.0\nrtf {rtf}\n"
        assert (tmp_path / "rtf").read_text() == expected
        line = capsys.readouterr().out
        assert (
            line
            == f"{tmp_path}: RTF {rtf} ({jobs} jobs, {float(seconds):.1f} s for 4.0 s of audio)\n"
        )
    for bad in (["--jobs", "0", "--seconds", "1"], ["--jobs", "1", "--seconds", "-1"]):
        with pytest.raises(SystemExit):
            rtf_main([*args, *bad])
        assert "--jobs must be at least 1 and --seconds not negative" in capsys.readouterr().err
    for bad in (["--jobs", "1"], ["--seconds", "1"]):
        with pytest.raises(SystemExit):
            rtf_main([*args, *bad])
        assert "the following arguments are required" in capsys.readouterr().err
    (tmp_path / "lengths").write_text("u1 48000\nu3 16000\n")
    with pytest.raises(SystemExit, match=r"rtf: error: .*lengths: no length for 'u2'$"):
        rtf_main([*args, "--seconds", "1", "--jobs", "1"])
    (tmp_path / "text").write_text("")  # nothing decoded: no audio, no factor
    rtf_main([*args, "--seconds", "1", "--jobs", "1"])
    assert (tmp_path / "rtf").read_text().endswith("audio_seconds 0.0\nrtf nan\n")


def test_merge_decode_joins_every_file_of_every_job_sorted(tmp_path, capsys):
    log, out = tmp_path / "log", tmp_path / "out"
    outputs = {  # job -> utterance -> (text, token, token_int, score); u1 decoded to nothing
        1: {"u3": ("甲", "甲", "5", "-1.5"), "u1": ("", "", "", "-9.0")},
        2: {"u2": ("乙丙", "乙 丙", "6 7", "-2.5")},
    }
    for job, decoded in outputs.items():
        (log / f"output.{job}/1best_recog").mkdir(parents=True)
        (log / f"keys.{job}.scp").write_text("".join(f"{utt} {utt}.wav\n" for utt in decoded))
        for i, name in enumerate(("text", "token", "token_int", "score")):
            table = "".join(f"{utt} {values[i]}".rstrip() + "\n" for utt, values in decoded.items())
            (log / f"output.{job}/1best_recog/{name}").write_text(table)
    merge_main(["--nj", "2", str(log), str(out)])
    assert capsys.readouterr().out == f"{out}: 3 hypotheses\n"
    merged = {utt: values for job in outputs.values() for utt, values in job.items()}
    for i, name in enumerate(("text", "token", "token_int", "score")):
        expected = {utt: merged[utt][i] for utt in sorted(merged)}
        assert list(read_table(out / name, allow_empty_value=True).items()) == list(
            expected.items()
        )
    merge_main(["--nj", "1", str(log), str(tmp_path / "one")])  # one job is a valid count
    assert capsys.readouterr().out == f"{tmp_path / 'one'}: 2 hypotheses\n"
    (log / "output.2/1best_recog/text").write_text("")
    with pytest.raises(SystemExit) as failed:
        merge_main(["--nj", "2", str(log), str(out)])
    assert failed.value.code == (
        "merge_decode: error: job 2 has no hypothesis for 1 utterances, e.g. 'u2' "
        f"(see {log}/inference.2.log)"
    )


def test_split_keys_by_count_and_by_length(tmp_path, capsys):
    table = tmp_path / "wav.scp"
    table.write_text("".join(f"u{i} /audio/u{i}.wav  extra\n" for i in range(10)))
    out = str(tmp_path / "keys.JOB.scp")

    def parts():
        return [(tmp_path / f"keys.{job}.scp").read_text().splitlines() for job in (1, 2, 3)]

    split_main(["--nj", "3", str(table), out])
    # consecutive runs of 4, 3, 3 lines (the first jobs take the remainder), copied verbatim
    assert [line for part in parts() for line in part] == table.read_text().splitlines()
    assert [len(part) for part in parts()] == [4, 3, 3]
    # lengths 9, 8, ..., 0 (zero is a length): longest first, each to the least loaded job
    # (the lower job on a tie): totals 16, 15, 14, every part in the input's order
    lengths = tmp_path / "utt2num_samples"
    lengths.write_text("".join(f"u{i} {9 - i}\n" for i in range(10)))
    split_main(["--nj", "3", "--lengths", str(lengths), str(table), out])
    keys = [[line.split()[0] for line in part] for part in parts()]
    assert keys == [["u0", "u5", "u6"], ["u1", "u4", "u7"], ["u2", "u3", "u8", "u9"]]
    for bad, message in (
        ("u9 -1\n", "utt2num_samples:10: '-1' is not a length"),
        ("u9 inf\n", "utt2num_samples:10: 'inf' is not a length"),
        ("", "utt2num_samples: no length for 'u9'"),
    ):
        lengths.write_text("".join(f"u{i} {9 - i}\n" for i in range(9)) + bad)
        with pytest.raises(SystemExit) as failed:
            split_main(["--nj", "3", "--lengths", str(lengths), str(table), out])
        assert str(failed.value.code).endswith(message)
    with pytest.raises(SystemExit):
        split_main([str(table), out])
    assert "the following arguments are required: --nj" in capsys.readouterr().err


def test_a_missing_hypothesis_stops_with_the_jobs_log(test_set):
    folder, _ = test_set
    text = STUB_DECODER.replace("for k in keys))", "for k in keys[1:]))")
    (folder / "stub_decoder.py").write_text(text)
    with pytest.raises(AssertionError, match=r"job \d has no hypothesis for 1 utterances"):
        driver("decode_set test exp/asr_x/decode/test", folder)


@pytest.mark.parametrize(
    "options, message",
    [
        (["--stage", "abc"], "--stage 'abc': a stage number from 1 to 12"),
        (["--stage", "13"], "--stage '13': a stage number from 1 to 12"),
        (["--stage", "5", "--stop_stage", "3"], "--stage 5 comes after --stop_stage 3"),
        (["--nj", "0"], "--nj '0': a whole number from 1 to 999999"),
        (["--nj", "08"], "--nj '08': a whole number from 1 to 999999"),
        (["--stage", "99999999999999999999"], "--stage '99999999999999999999': a stage number"),
        (["--stage", "03"], "--stage '03': a stage number from 1 to 12"),
        (["--ngpu", "08"], "--ngpu '08': a whole number from 0 to 999"),
        (["--ngpu", "99999999999999999999"], "--ngpu '99999999999999999999': a whole number"),
        (["--ssl_stats_utts", "-1"], "--ssl_stats_utts '-1': a whole number"),
        (["--use_lm", "yes"], "--use_lm 'yes': true or false"),
        (["--audio_format", "mp3"], "--audio_format 'mp3': flac, wav, ark or none"),
        (["--asr_config", "nowhere.yaml"], "--asr_config 'nowhere.yaml': no such file"),
        (["--no_such_option", "1"], "unknown option --no_such_option"),
        (["--expdir", ""], "--expdir '': a name without spaces"),
        (["--train_set", "a b"], "--train_set 'a b': a name without spaces"),
        (["--min_wav_duration", "abc"], "--min_wav_duration 'abc': numbers are needed"),
        (["--max_wav_duration", "0.05"], "is not below --max_wav_duration 0.05"),
        (["--speed_perturb_factors", "0.9,x"], "--speed_perturb_factors '0.9,x': numbers"),
        (["--speed_perturb_factors", "0.1 1.0"], "--speed_perturb_factors '0.1 1.0': need"),
        (["--speed_perturb_factors", "100"], "numbers from 0.25 to 4"),
        (["--tune_ctc_weights", "0.3 0.30"], "0.3 is given twice"),
        (["--tune_beams", "x"], "--tune_beams 'x': whole numbers from 1 to 9999"),
        (["--rescore_lm_weight", "abc"], "--rescore_lm_weight 'abc': numbers are needed"),
        (["--audio_format", "none"], "speed perturbation (--speed_perturb_factors) needs"),
        (["--test_sets", "dev /no/such/set"], "test set /no/such/set: not a data folder"),
    ],
)
def test_bad_options_are_refused_before_anything_runs(tmp_path, options, message):
    recipe = ROOT / "egs2/mini_zh/asr1"
    proc = run(["./run.sh", *options], cwd=recipe, check=False, MINI_ZH=str(tmp_path))
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Stage 1" not in proc.stderr and "Traceback" not in proc.stderr
    assert "expression" not in proc.stderr and "value too great" not in proc.stderr  # bash's


def test_help_prints_every_option_with_its_value_and_exits_0(tmp_path):
    recipe = ROOT / "egs2/mini_zh/asr1"
    proc = run(["./run.sh", "--nj", "7", "--help"], cwd=recipe)
    assert "Stages (outputs go to data/" in proc.stdout
    options = dict(
        line.split(maxsplit=1) for line in proc.stdout.splitlines() if line.startswith("  --")
    )
    assert options["--nj"].endswith("[7]")  # the value after the options before --help
    assert options["--asr_config"].endswith("[conf/train_asr_fbank.yaml]")  # run.sh's
    assert options["--stop_stage"].endswith("[10]")  # the driver's default
    defaults = [
        line.split("=")[0]
        for line in (ROOT / "local/asr.sh").read_text().splitlines()
        if "=" in line and "  # " in line and line[0].islower()
    ]
    assert sorted(options) == sorted(f"--{name}" for name in defaults)
    for script in (
        "egs2/wenetspeech/asr1/local/data.sh",
        "egs2/aishell/asr1/local/data.sh",
        "egs2/mini_zh/asr1/local/data.sh",
    ):
        recipe = ROOT / script.removesuffix("/local/data.sh")
        proc = run(["local/data.sh", "--help"], cwd=recipe)
        assert "usage" in proc.stdout.lower() or "Options" in proc.stdout, script
    # the SSL variant of the mini recipe prints the same help, making no model first
    mini = ROOT / "egs2/mini_zh/asr1"
    tiny = {"TINY_SSL": str(tmp_path / "tiny"), "TINY_HUBERT_LARGE": str(tmp_path / "tiny/x.pt")}
    proc = run(["./run_ssl.sh", "--help"], cwd=mini, **tiny)
    assert "conf/train_asr_hubert_tiny.yaml]" in proc.stdout and not (tmp_path / "tiny").exists()


def test_statistics_jobs_get_consecutive_runs_of_equal_count(tmp_path):
    """Without lengths (the statistics jobs) a table is cut as Kaldi's split_scp.pl
    does: consecutive runs, sizes differing by at most one, the lines unchanged."""
    table = tmp_path / "wav.scp"
    lines = [f"utt{i:02d} /data/{i}.flac\n" for i in range(11)]
    table.write_text("".join(lines))
    run(
        [
            "python",
            "-m",
            "local.data.split_keys",
            "--nj",
            "4",
            str(table),
            str(tmp_path / "keys.JOB.scp"),
        ]
    )
    parts = [(tmp_path / f"keys.{j}.scp").read_text() for j in (1, 2, 3, 4)]
    assert parts == [
        "".join(lines[0:3]),
        "".join(lines[3:6]),
        "".join(lines[6:9]),
        "".join(lines[9:11]),
    ]


def test_test_sets_with_the_same_name_are_refused(tmp_path):
    for corpus in ("x", "y"):
        folder = tmp_path / corpus / "asr1/data/test"
        folder.mkdir(parents=True)
        for name in ("wav.scp", "text", "utt2spk"):
            (folder / name).write_text("u1 a\n")
    sets = f"dev {tmp_path}/x/asr1/data/test {tmp_path}/y/asr1/data/test"
    proc = run(["./run.sh", "--test_sets", sets], cwd=ROOT / "egs2/mini_zh/asr1", check=False)
    assert proc.returncode == 1 and "Stage 1" not in proc.stderr
    assert "--test_sets: two test sets named asr1_test" in proc.stderr


def test_a_stage_before_its_inputs_says_which_stage_to_run(tmp_path):
    recipe = tmp_path / "asr1"
    recipe.mkdir()
    for name in ("run.sh", "conf", "local"):
        (recipe / name).symlink_to(ROOT / "egs2/mini_zh/asr1" / name)
    for name in ("path.sh", "db.sh", "cmd.sh"):
        (recipe / name).symlink_to(ROOT / name)
    (recipe / "asr.sh").symlink_to(ROOT / "local/asr.sh")
    for stage, message in (
        ("4", "dump/raw/train_sp: not dumped yet (run stage 3)"),
        ("6", "tokens.txt missing: run stage 4"),
    ):
        proc = run(["./run.sh", "--stage", stage], cwd=recipe, check=False)
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert message in proc.stderr
