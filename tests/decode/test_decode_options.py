"""One set of decoding options for the command line and the Python API
(local.decode.options): layers that replace only the keys they name, every value
checked before decoding with one line naming the option, the same rules in both;
no special token in a transcript; inputs the API takes; a Transcriber shared by
threads; third-party notices off stdout and shown once."""

import math
import threading

import numpy as np
import pytest
import soundfile

from conftest import run, tool
from tiny_pack import DECODE, mini_test_utterances


@pytest.fixture(scope="module")
def utterances():
    return [samples for _, samples in mini_test_utterances()][:6]


def search_settings(speech2text):
    search = speech2text.beam_search
    return {
        "beam_size": search.beam_size,
        "ctc_weight": search.weights["ctc"],
        "penalty": search.weights.get("length_bonus", 0.0),
        "maxlenratio": speech2text.maxlenratio,
        "minlenratio": speech2text.minlenratio,
    }


# --- layers -----------------------------------------------------------------------


def test_a_config_file_and_single_options_replace_only_their_keys(pack, tmp_path):
    from local.decode.packed_model import load_packed

    packed = search_settings(load_packed(pack))
    assert packed["beam_size"] == DECODE["beam_size"] and packed["ctc_weight"] == 0.5
    partial = tmp_path / "partial.yaml"
    partial.write_text("beam_size: 1\n")  # ESPnet's own defaults: beam 20, ctc 0.5, ...
    from_file = search_settings(load_packed(pack, config=partial))
    assert from_file == {**packed, "beam_size": 1}
    from_option = search_settings(load_packed(pack, ctc_weight=1.0))
    assert from_option == {**packed, "ctc_weight": 1.0}
    both = search_settings(load_packed(pack, config=partial, beam_size=2, penalty=0.5))
    assert both == {**packed, "beam_size": 2, "penalty": 0.5}


def test_the_command_and_the_api_give_the_same_transcript_with_the_same_options(
    pack, tmp_path, utterances
):
    from zh_ssl_asr import Transcriber

    soundfile.write(tmp_path / "a.wav", utterances[0], 16000)
    (tmp_path / "c.yaml").write_text("beam_size: 1\n")
    api = Transcriber.from_pretrained(pack, config=tmp_path / "c.yaml", ctc_weight=1.0)
    command = tool(
        "local.transcribe", pack, tmp_path / "a.wav", "--config", tmp_path / "c.yaml",
        "--ctc_weight", "1.0",
    )  # fmt: skip
    assert command.stdout == f"{tmp_path / 'a.wav'}\t{api.transcribe([utterances[0]])[0].text}\n"


# --- every value checked, one line naming it ----------------------------------------

BAD_API_OPTIONS = [
    ({"beam_size": 0}, "beam_size=0: must be at least 1"),
    ({"beam_size": 2.5}, "beam_size=2.5: must be a whole number, at least 1"),
    ({"beam_size": True}, "beam_size=True: must be a whole number"),
    ({"lm_weight": -5}, "lm_weight=-5: must be from 0 to 100"),
    ({"lm_weight": math.inf}, "lm_weight=inf: must be a finite number"),
    ({"ctc_weight": 1.5}, "ctc_weight=1.5: must be from 0 to 1"),
    ({"ctc_weight": "0.3"}, "ctc_weight='0.3': must be a number, not text"),
    ({"penalty": math.nan}, "penalty=nan: must be a finite number"),
    ({"minlenratio": -1}, "minlenratio=-1: must be from 0 to 1"),
    ({"beem_size": 3}, "beem_size=3: not a decoding option"),
    ({"max_seconds": math.inf}, "max_seconds=inf: must be a finite number, at least 3"),
    ({"max_seconds": 2.9}, "max_seconds=2.9: must be at least 3"),
    ({"max_seconds": 4, "pad_seconds": 1}, "max_seconds=4: must be at least 2 x pad_seconds + 3"),
    ({"maxlenratio": -0.5}, "maxlenratio=-0.5: must be 0, over 0 (a ratio), or -1 or less"),
    ({"minlenratio": 1000}, "minlenratio=1000: must be from 0 to 1"),
    ({"penalty": 1e39}, "penalty=1e+39: must be from -100 to 100"),
    ({"lm_weight": 1e6}, "lm_weight=1000000.0: must be from 0 to 100"),
    ({"beam_size": 10**6}, "beam_size=1000000: must be at most"),
    ({"normalize_length": "true"}, "normalize_length='true': must be true or false"),
    ({"token_type": "bpe"}, "token_type='bpe': not supported by transcription"),
    ({"device": "gpu"}, "device='gpu': not a device"),
    ({"device": "cuda:7"}, "device='cuda:7': "),
    ({"pad_seconds": -1}, "pad_seconds=-1: must be at least 0"),
    ({"vad": "webrtc"}, "vad='webrtc': must be one of silero, energy"),
]


@pytest.mark.parametrize("options, message", BAD_API_OPTIONS)
def test_bad_api_options_are_one_line_errors(pack, options, message):
    from zh_ssl_asr import OptionError, Transcriber

    with pytest.raises(OptionError) as refused:
        Transcriber.from_pretrained(pack, **options)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)


@pytest.mark.parametrize("batch_size", [0, -1, 1.5, math.inf])
def test_bad_batch_sizes_are_refused_by_the_api_as_by_the_command(asr, utterances, batch_size):
    from zh_ssl_asr import OptionError

    with pytest.raises(OptionError, match=f"batch_size={batch_size!r}: must be"):
        asr.transcribe(utterances[:1], batch_size=batch_size)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--beam_size", "0"], "--beam_size 0: must be at least 1"),
        (["--lm_weight", "-5"], "--lm_weight -5: must be from 0 to 100"),
        (["--ctc_weight", "nan"], "--ctc_weight nan: must be a finite number, from 0 to 1"),
        (["--penalty", "inf"], "--penalty inf: must be a finite number"),
        (["--max_seconds", "1"], "--max_seconds 1: must be at least 3"),
        (["--max_seconds", "3", "--vad", "energy"], None),  # the API's minimum, and it works
        (["--pad_seconds", "1", "--max_seconds", "4.5"], "--max_seconds 4.5: must be at least 2"),
        (["--batch_size", "0"], "--batch_size 0: must be at least 1"),
        (["--beam_size", "2.5"], "--beam_size 2.5: must be a whole number, at least 1"),
        (["--beam_size", "2.0"], None),  # whole, as the API and a config take it
        (["--beam_size", "100000"], "--beam_size 100000: must be at most"),
        (["--maxlenratio", "-0.5"], "--maxlenratio -0.5: must be 0, over 0 (a ratio), or -1"),
        (["--normalize_length", "1"], "invalid true_or_false value"),
        (["--device", "gpu"], "--device gpu: not a device"),
    ],
)
def test_the_command_checks_by_the_same_rules(pack, tmp_path, utterances, args, message):
    soundfile.write(tmp_path / "a.wav", utterances[0], 16000)
    proc = tool("local.transcribe", pack, tmp_path / "a.wav", *args, check=False)
    if message is None:
        assert proc.returncode == 0, proc.stderr[-2000:]
        return
    # 2: a usage error; 1: found once the model is loaded (a beam wider than its tokens)
    assert proc.returncode in (1, 2) and "Traceback" not in proc.stderr
    assert message in proc.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "config, message",
    [
        ("beam_size: 0\n", "c.yaml: beam_size: 0: must be at least 1"),
        ("lm_weight: -5\n", "c.yaml: lm_weight: -5: must be from 0 to 100"),
        ("beem: 3\n", "c.yaml: beem: 3: not a decoding option"),
        ("ctc_weight: .nan\n", "c.yaml: ctc_weight: nan: must be a finite number"),
        ("beam_size: '5'\n", "c.yaml: beam_size: '5': must be a number, not text"),
        ("penalty: 1e3\n", "c.yaml: penalty: '1e3': must be a number, not text"),
        ("token_type: word\n", "c.yaml: token_type: 'word': not supported by transcription"),
        ("device: cuda\n", "c.yaml: device: 'cuda': not supported by transcription"),
        ("beam_size: 1.0e+9\n", "c.yaml: beam_size: 1000000000: must be at most"),
    ],
)
def test_bad_values_in_a_config_file_name_the_file_and_key(pack, tmp_path, config, message):
    """In-process: the command reads --config through the same load_packed."""
    from zh_ssl_asr import OptionError, load_packed

    (tmp_path / "c.yaml").write_text(config)
    with pytest.raises(OptionError) as refused:
        load_packed(pack, config=tmp_path / "c.yaml")
    assert str(refused.value).startswith(f"{tmp_path}/{message}"), str(refused.value)


def test_the_command_names_a_bad_config_value_in_one_line(pack, tmp_path):
    (tmp_path / "c.yaml").write_text("beam_size: 0\n")
    (tmp_path / "a.wav").write_bytes(b"")
    proc = tool("local.transcribe", pack, tmp_path / "a.wav", "--config", tmp_path / "c.yaml",
                check=False)  # fmt: skip
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    last = proc.stderr.strip().splitlines()[-1]
    assert last == f"transcribe: error: {tmp_path}/c.yaml: beam_size: 0: must be at least 1"


def test_an_lm_weight_for_a_model_without_lm_is_refused(pack):
    from zh_ssl_asr import OptionError, Transcriber

    with pytest.raises(OptionError, match="has no language model"):
        Transcriber.from_pretrained(pack, lm_weight=0.5)
    Transcriber.from_pretrained(pack, lm_weight=0.0)  # 0 is what it has


# --- transcripts --------------------------------------------------------------------


def test_no_special_token_reaches_a_transcript(asr, utterances):
    """The random model's search runs hypotheses to the length limit, ending in
    <sos/eos> (as ESPnet's Speech2Text returns them): not in the transcript."""
    from local.decode.batch_inference import hypothesis_outputs

    s2t = asr.speech2text
    raw = []
    for samples in utterances:
        import torch

        enc = asr.decoder.encode(torch.from_numpy(samples))
        raw.append(hypothesis_outputs(s2t, asr.decoder.search([enc], 0.0, 0.0)[0][0])[1])
    assert any("<sos/eos>" in tokens for tokens in raw)  # the case is there
    for result, tokens in zip(asr.transcribe(utterances), raw):
        assert "<" not in result.text and all("<" not in t.text for t in result.tokens)
        assert [t.text for t in result.tokens] == [t for t in tokens if not t.startswith("<")]


# --- inputs -------------------------------------------------------------------------


def test_array_inputs_as_files_are_read(asr, utterances):
    mono = utterances[0]
    stereo = np.stack([mono, mono], axis=1)  # (samples, channels): soundfile's layout
    results = asr.transcribe(
        [mono, (mono, 16000.0), (mono, np.int64(16000)), stereo, stereo.T, mono[None, :]]
    )
    assert all(r.ok for r in results), [r.error for r in results]
    assert len({r.text for r in results}) == 1
    assert results[3].notes == results[4].notes == ["2 channels averaged to mono"]
    assert results[5].notes == []
    resampled = asr.transcribe([(mono[::2].copy(), 8000.5)])[0]
    assert resampled.ok and resampled.duration == pytest.approx(len(mono) / 16000, abs=0.01)
    bad = asr.transcribe([(mono, 0), (mono, "16000"), (mono, math.nan), np.zeros((2, 2, 2))])
    assert [r.error.split(":")[0] for r in bad] == [
        "bad sample rate 0",
        "bad sample rate '16000'",
        "bad sample rate nan",
        "an array input must be samples (1-D) or samples x channels (2-D), not of shape (2, 2, 2)",
    ]


def test_one_pair_with_a_bad_rate_is_one_input_with_an_error(asr, utterances):
    mono = utterances[0]
    for rate in (0, -8000, math.nan):
        (result,) = asr.transcribe((mono, rate))  # one (samples, rate) input, not two
        assert result.error.startswith(f"bad sample rate {rate!r}")
    scaled = asr.transcribe([(mono * 2**31).astype(np.int32), (mono * 2**15).astype(np.int16)])
    assert scaled[0].ok and scaled[0].text == scaled[1].text == asr.transcribe(mono)[0].text
    (wide,) = asr.transcribe([(mono * 2**15).astype(np.int64)])
    assert wide.error == "samples must be float, int16 or int32, not int64"


def test_the_shortest_max_seconds_works_with_both_splits(asr, utterances):
    from zh_ssl_asr import Transcriber

    long = np.concatenate([np.concatenate([u, np.zeros(8000, np.float32)]) for u in utterances])
    for vad in ("energy", "silero"):
        short = Transcriber(asr.speech2text, vad=vad, max_seconds=3.0)
        (result,) = short.transcribe([long])
        assert result.ok and result.segments and result.text
        assert all(s.end - s.start <= 3.0 + 1e-6 for s in result.segments)
        assert sum(bool(s.text) for s in result.segments) >= len(result.segments) / 2


def test_the_command_leaves_no_output_folder_it_did_not_write_into(pack, tmp_path):
    (tmp_path / "bad.yaml").write_text("beam_size: 0\n")
    cases = [
        (["--config", tmp_path / "bad.yaml"], "new1/a/b"),  # the model fails to load
        ([], "new2/a"),  # every input fails
    ]
    for args, out in cases:
        proc = tool("local.transcribe", pack, tmp_path / "missing.wav", "--output_dir",
                    tmp_path / out, *args, check=False)  # fmt: skip
        assert proc.returncode == 1 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
        assert not (tmp_path / out.split("/")[0]).exists(), out
    (tmp_path / "kept").mkdir()
    tool("local.transcribe", pack, tmp_path / "missing.wav", "--output_dir", tmp_path / "kept",
         check=False)  # fmt: skip
    assert (tmp_path / "kept").is_dir()  # the user's folder stays


def test_threads_sharing_a_transcriber_get_their_own_results(asr, utterances):
    expected = [r.text for r in asr.transcribe(utterances)]
    outcomes, errors = {}, []

    def work(k):
        try:
            for _ in range(3):
                order = utterances[k:] + utterances[:k]
                texts = [r.text for r in asr.transcribe(order, batch_size=1 + k % 3)]
                assert texts == expected[k:] + expected[:k]
            outcomes[k] = True
        except Exception as e:
            errors.append(repr(e))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not errors and len(outcomes) == 4, errors


# --- third-party notices ------------------------------------------------------------


def test_third_party_notices_stay_off_stdout_and_show_once(pack, tmp_path, utterances):
    soundfile.write(tmp_path / "a.wav", utterances[0], 16000)
    script = (
        "from zh_ssl_asr import Transcriber\n"
        f"asr = Transcriber.from_pretrained({str(pack)!r})\n"
        "for _ in range(3):\n"
        f"    print(asr.transcribe([{str(tmp_path / 'a.wav')!r}])[0].text)\n"
    )
    proc = run(["python", "-c", script])
    lines = proc.stdout.splitlines()
    assert len(lines) == 3 and len(set(lines)) == 1, proc.stdout  # only the transcripts
    warnings = [line for line in proc.stderr.splitlines() if "Warning: " in line]
    assert len(warnings) == len(set(warnings)), proc.stderr  # each at most once
    assert "Flash Attention" not in proc.stdout
