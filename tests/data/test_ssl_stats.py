"""Statistics without a full model pass: shapes from utt2num_samples and the text
(exactly ESPnet's), feature statistics from a random sample."""

import numpy as np
import soundfile

from conftest import ROOT, run
from local.data.sample_keys import sample

TEXTS = {
    "u1": "床前明月光",
    "u2": "疑是 地上霜",  # a space: a token of its own for char
    "u3": "举头望明月X",  # X is not in the token list: <unk>
    "u4": "低头思故乡。",
}


def small_set(folder):
    """A dumped set of four utterances, a token list and utt2num_samples."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    scp, lengths = [], []
    for i, utt in enumerate(TEXTS):
        n = 4000 + 1234 * i
        soundfile.write(folder / f"{utt}.flac", 0.1 * rng.standard_normal(n), 16000)
        scp.append(f"{utt} {folder / f'{utt}.flac'}\n")
        lengths.append(f"{utt} {n}\n")
    (folder / "wav.scp").write_text("".join(scp))
    (folder / "utt2num_samples").write_text("".join(lengths))
    (folder / "text").write_text("".join(f"{u} {t}\n" for u, t in TEXTS.items()))
    chars = sorted({c for t in TEXTS.values() for c in t} - {"X"})
    tokens = ["<blank>", "<unk>", *chars, "<sos/eos>"]
    (folder / "tokens.txt").write_text("\n".join(tokens) + "\n")
    return folder


def text_opts(folder):
    return ["--token_type", "char", "--token_list", str(folder / "tokens.txt")]


def test_shapes_equal_espnets_collect_stats(tmp_path):
    data = small_set(tmp_path / "set")
    opts = text_opts(data) + ["--non_linguistic_symbols", "none", "--cleaner", "none"]
    opts += ["--g2p", "none"]
    run(
        ["python", "-m", "local.data.shape_stats", "--keys", str(data / "wav.scp")]
        + ["--utt2num_samples", str(data / "utt2num_samples"), "--text", str(data / "text")]
        + ["--out", str(tmp_path / "ours")]
        + opts
    )
    pairs = [f"{data}/wav.scp,speech,sound", f"{data}/text,text,text"]
    run(
        ["python", "-m", "local.runtime.espnet_bin", "asr_train", "--collect_stats", "true"]
        + ["--use_preprocessor", "true", *opts, "--normalize", "none"]
        + ["--train_data_path_and_name_and_type", pairs[0]]
        + ["--train_data_path_and_name_and_type", pairs[1]]
        + ["--valid_data_path_and_name_and_type", pairs[0]]
        + ["--valid_data_path_and_name_and_type", pairs[1]]
        + ["--train_shape_file", str(data / "wav.scp"), "--valid_shape_file", str(data / "wav.scp")]
        + ["--output_dir", str(tmp_path / "espnet"), "--config"]
        + [str(ROOT / "tests/conf/train_asr_tiny.yaml"), "--batch_size", "2"]
    )
    for name in ("speech_shape", "text_shape"):
        ours = sorted((tmp_path / "ours" / name).read_text().splitlines())
        theirs = sorted((tmp_path / "espnet/train" / name).read_text().splitlines())
        assert ours == theirs, name
    assert "u2 6" in (tmp_path / "ours/text_shape").read_text()


def test_missing_text_is_one_line_error(tmp_path):
    data = small_set(tmp_path / "set")
    (data / "text").write_text("u1 床前明月光\n")
    proc = run(
        ["python", "-m", "local.data.shape_stats", "--keys", str(data / "wav.scp")]
        + ["--utt2num_samples", str(data / "utt2num_samples"), "--text", str(data / "text")]
        + ["--out", str(tmp_path / "ours"), *text_opts(data)],
        check=False,
    )
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert f"{data}/text: no entry for 3 utterance(s)" in proc.stderr


def test_sample_is_random_seeded_and_in_order():
    lines = [f"u{i:03d} x" for i in range(100)]
    a, b, c = sample(lines, 10, 0), sample(lines, 10, 0), sample(lines, 10, 1)
    assert a == b and a != c and len(a) == 10
    assert a == sorted(a) and set(a) <= set(lines)
    assert sample(lines, 500, 0) == lines
