"""Extract the hidden states of a wav2vec2 / HuBERT model as Kaldi feature matrices.

    python -m frontend.extract MODEL WAV_SCP OUT_DIR [--layer N|last|all]
        [--dtype float32|float16|bfloat16] [--batch_seconds S] [--device cpu|cuda]

MODEL     a Hugging Face folder (config.json, preprocessor_config.json, weights) or a
          fairseq checkpoint (.pt), converted once into OUT_DIR/converted_model/<name>
          (see frontend.models; nothing is downloaded).
WAV_SCP   a Kaldi wav.scp: `<utt-id> <audio file>` (anything soundfile reads: WAV,
          FLAC, Ogg/Opus, ...) or `<utt-id> <file.ark>:<offset>` (an ark written by
          the audio dump, stage 3 --audio_format ark). Pipe commands (`... |`) are not
          supported. Other sample rates are resampled to the model's 16 kHz (soxr HQ,
          as the dump stage); of multi-channel audio the first channel is used, with a
          warning, as in the dump stage and Kaldi.
OUT_DIR   gets feats.scp + feats.ark: one float32 matrix (frames x hidden size, one
          frame per 20 ms) per utterance, whatever --dtype. With --layer all, one
          feats_layer<N>.scp + feats_layer<N>.ark per layer, N = 0 .. num_layers.
          The scp files are sorted by utterance id and name the arks through OUT_DIR
          as given (a relative OUT_DIR gives relative paths, as in Kaldi recipes).

Layers are indexed as transformers' `output_hidden_states=True`: 0 is the input of
the first transformer layer, N the output of layer N (1-based). The default, last,
is the model's final output (`last_hidden_state`). For LARGE (pre-LN, "stable layer
norm") models that last state has the encoder's final LayerNorm applied, as
fairseq's encoder output; it is not the raw output of the last layer. Every other
layer N equals fairseq's `layer_results[N-1]`.

Each utterance gets the features it gets alone, whatever it is batched with: when
preprocessor_config.json says do_normalize (the LARGE models), it is normalized over
its own samples as in pretraining, by fairseq's rule (F.layer_norm: zero mean, unit
variance, epsilon 1e-5; --input_norm hf: transformers' feature extractor's, epsilon
1e-7, which differs on quiet audio); group-norm (BASE) models run their
convolutional encoder on each utterance unpadded, and the transformer sees an
attention mask (as frontend.espnet_frontend does).

Utterances are sorted by duration and batched so that a batch holds at most
--batch_seconds of padded audio (a longer utterance goes alone). Audio that cannot
be read (or is shorter than one frame, 25 ms) is reported with its file and the
reason and skipped; the count is printed at the end. The exit status is 0 unless
nothing at all could be extracted. Outputs are written under temporary names and
renamed into place at the end (an old scp is removed first): an interrupted run
leaves the previous outputs or none, never a half-written scp; a run that fails (a
bad model, no readable audio, an interruption) removes the folders it made (OUT_DIR
and its missing parents, or OUT_DIR/converted_model). OUT_DIR/
extract_outputs.json records what was written (with the model, layer and settings);
an existing feats*.scp/.ark that it does not list (unchanged) is never overwritten:
the command refuses and names it.

--dtype float16 / bfloat16 runs the model in that precision (the input is
normalized in float32 first). float16 needs --device cuda: on CPU it is refused
(use bfloat16 there).
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from fileio.atomic import OutputError, make_folder, write_text
from frontend.ssl_forward import INPUT_NORMS, hidden_states, normalize

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class ExtractError(Exception):
    pass


def load_model(location, out_dir, device, dtype):
    """(model, do_normalize, sampling rate) from a HF folder or a fairseq .pt."""
    from frontend.models import resolve

    folder = resolve(location, Path(out_dir) / "converted_model")  # ModelError if missing

    from transformers import AutoFeatureExtractor, AutoModel

    extractor = AutoFeatureExtractor.from_pretrained(folder, local_files_only=True)
    model = AutoModel.from_pretrained(folder, local_files_only=True)
    model.to(device=device, dtype=dtype).eval()
    return model, bool(extractor.do_normalize), int(extractor.sampling_rate)


# --- audio


def _open(value):
    """(samples, rate, channels) of a wav.scp value; samples float, first channel."""
    from fileio.audio import AudioError, read_audio

    if value.endswith("|"):
        raise AudioError("pipe commands are not supported (dump the audio first)")
    if value.rsplit(":", 1)[-1].isdigit() and ".ark:" in value:
        import kaldiio

        rate, samples = kaldiio.load_mat(value)
        if np.issubdtype(samples.dtype, np.integer):  # Kaldi wav ark: int16 PCM
            samples = samples / float(np.iinfo(samples.dtype).max + 1)
        channels = 1 if samples.ndim == 1 else samples.shape[1]
        return (samples if samples.ndim == 1 else samples[:, 0]), rate, channels
    import soundfile

    if not Path(value).is_file():
        raise AudioError("no such file")
    channels = soundfile.info(value).channels
    samples, rate = read_audio(value)
    return samples, rate, channels


def read(value, rate):
    """float32 samples at `rate` (first channel) and a warning or None."""
    from fileio.audio import resample

    samples, file_rate, channels = _open(value)
    samples = resample(np.asarray(samples, dtype=np.float32), file_rate, rate)
    warning = f"{channels} channels, using the first" if channels > 1 else None
    return np.ascontiguousarray(samples, dtype=np.float32), warning


def num_samples(value, rate):
    """Length in samples at `rate`, from the header when possible (for sorting)."""
    if value.endswith("|") or ".ark:" in value:
        return len(read(value, rate)[0])
    import soundfile

    from fileio.audio import AudioError

    if not Path(value).is_file():
        raise AudioError("no such file")
    info = soundfile.info(value)
    return int(round(info.frames * rate / info.samplerate))


def make_batches(lengths, max_samples):
    """Utterance ids, longest first, in batches of at most max_samples padded samples."""
    order = sorted(lengths, key=lambda utt: (-lengths[utt], utt))
    batches = []
    for utt in order:
        # sorted longest first, so the padded size of a batch is len * its first length
        if batches and (len(batches[-1]) + 1) * lengths[batches[-1][0]] <= max_samples:
            batches[-1].append(utt)
        else:
            batches.append([utt])
    return batches


# --- outputs


RECORD = "extract_outputs.json"


def written_here(out_dir):
    """{file name: [size, mtime_ns]} of the outputs an earlier run wrote in OUT_DIR."""
    try:
        return json.loads((Path(out_dir) / RECORD).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def check_outputs(out_dir, names):
    """Refuse (ExtractError) to overwrite a feats*.scp/.ark (or the record) that this
    command did not write: one an earlier run wrote, unchanged since, is replaced."""
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ExtractError(f"{out_dir}: exists and is not a folder")
    ours = written_here(out_dir)
    record = out_dir / RECORD
    if record.exists() and not ours:
        raise ExtractError(f"{record}: exists and was not written by frontend.extract")
    for name in names:
        path = out_dir / name
        if not os.path.lexists(path):
            continue
        stat = path.stat() if path.is_file() else None
        if stat is None or ours.get(name) != [stat.st_size, stat.st_mtime_ns]:
            raise ExtractError(
                f"{path}: exists and was not written by frontend.extract (or changed since); "
                "not overwritten (move it away or choose another OUT_DIR)"
            )


class Outputs:
    """One ark + scp per layer, written in a temporary folder inside OUT_DIR and
    moved into place by commit(), which records them in OUT_DIR/extract_outputs.json
    (with the settings that made them) so that a rerun may replace them."""

    def __init__(self, out_dir, layers, all_layers, settings=None):
        import kaldiio

        self.settings = settings or {}
        self.out_dir = Path(out_dir)
        self.tmp = Path(tempfile.mkdtemp(prefix=".extract.", suffix=".tmp", dir=self.out_dir))
        self.names = {k: f"feats_layer{k}" if all_layers else "feats" for k in layers}
        self.writers = {
            k: kaldiio.WriteHelper(f"ark,scp:{self.tmp / n}.ark,{self.tmp / n}.scp")
            for k, n in self.names.items()
        }

    def write(self, layer, utt, matrix):
        self.writers[layer](utt, matrix)

    def commit(self):
        for writer in self.writers.values():
            writer.close()
        for name in self.names.values():
            tmp_ark, final_ark = self.tmp / f"{name}.ark", self.out_dir / f"{name}.ark"
            lines = []
            with open(self.tmp / f"{name}.scp", encoding="utf-8") as f:
                for line in f:
                    # kaldiio wrote "<utt> <tmp ark>:<offset>"; point at the final ark
                    utt, location = line.rstrip("\n").split(" ", 1)
                    assert location.startswith(f"{tmp_ark}:"), location
                    lines.append(f"{utt} {final_ark}:{location.rsplit(':', 1)[1]}\n")
            with open(self.tmp / f"{name}.scp.final", "w", encoding="utf-8") as f:
                f.writelines(sorted(lines))  # Kaldi tables are sorted by key
            # no scp may point at an ark being replaced: the old scp goes first
            (self.out_dir / f"{name}.scp").unlink(missing_ok=True)
            os.replace(tmp_ark, final_ark)
            os.replace(self.tmp / f"{name}.scp.final", self.out_dir / f"{name}.scp")
        files = written_here(self.out_dir)
        for name in self.names.values():
            for suffix in (".ark", ".scp"):
                stat = (self.out_dir / f"{name}{suffix}").stat()
                files[f"{name}{suffix}"] = [stat.st_size, stat.st_mtime_ns]
        record = {"tool": "frontend.extract", **self.settings, "files": files}
        write_text(self.out_dir / RECORD, json.dumps(record, indent=1) + "\n")
        self.discard()

    def discard(self):
        for writer in self.writers.values():
            writer.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- the command


def parse_layer(text):
    if text in ("all", "last"):
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a layer number, 'last' or 'all', not {text!r}"
        ) from None


def check_device(device, dtype_name):
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ExtractError(f"--device {device}: no CUDA device is available")
    if dtype_name == "float16" and not device.startswith("cuda"):
        raise ExtractError("--dtype float16 needs --device cuda; on CPU use bfloat16 (or float32)")


def extract(
    model_location,
    wav_scp,
    out_dir,
    layer="last",
    dtype="float32",
    batch_seconds=60.0,
    device="cpu",
    log=None,
    input_norm="fairseq",
):
    """Write the features; return (written, skipped) utterance counts."""
    from tqdm import tqdm

    from fileio.kaldi_table import DataError, read_table

    log = log or (lambda message: tqdm.write(message, file=sys.stderr))
    check_device(device, dtype)
    try:
        table = read_table(wav_scp)
    except (OSError, DataError) as e:
        raise ExtractError(str(e)) from None  # names the file (and line)
    if not table:
        raise ExtractError(f"{wav_scp}: no utterances")
    out_dir = Path(out_dir)
    check_outputs(out_dir, [f"feats.{x}" for x in ("ark", "scp")])  # early, before the model
    made = first_missing(out_dir / "converted_model")  # what this run makes, if it fails
    try:
        try:
            make_folder(out_dir)
        except OutputError as e:
            raise ExtractError(str(e)) from None
        except OSError as e:
            raise ExtractError(f"{out_dir}: cannot be created ({e.strerror or e})") from None
        return write_features(
            model_location,
            table,
            wav_scp,
            out_dir,
            layer,
            dtype,
            batch_seconds,
            device,
            log,
            input_norm,
        )
    except BaseException:  # a bad model, no readable audio, Ctrl-C: nothing left behind
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        raise


def first_missing(path):
    """The topmost of `path` and its parents that does not exist yet (None: it exists)."""
    missing = None
    for place in [Path(path), *Path(path).parents]:
        if os.path.lexists(place):
            break
        missing = place
    return missing


def write_features(
    model_location, table, wav_scp, out_dir, layer, dtype, batch_seconds, device, log, input_norm
):
    """extract() once OUT_DIR is there: (written, skipped)."""
    from tqdm import tqdm

    model, do_normalize, rate = load_model(model_location, out_dir, device, DTYPES[dtype])
    num_layers = model.config.num_hidden_layers
    if layer == "all":
        layers = list(range(num_layers + 1))
    else:
        layers = [num_layers if layer == "last" else layer]
        if not 0 <= layers[0] <= num_layers:
            raise ExtractError(f"--layer {layer}: the model has layers 0 .. {num_layers}")
    names = [f"feats_layer{k}" for k in layers] if layer == "all" else ["feats"]
    check_outputs(out_dir, [f"{n}.{x}" for n in names for x in ("ark", "scp")])

    skipped = 0

    def skip(utt, reason):
        nonlocal skipped
        skipped += 1
        log(f"skipped {utt} ({table[utt]}): {reason}")

    lengths = {}
    for utt, value in table.items():
        try:
            lengths[utt] = num_samples(value, rate)
        except Exception as e:  # any unreadable file is reported, never fatal
            skip(utt, f"{type(e).__name__}: {e}")

    min_samples = 1  # the shortest input that gives one frame (400 samples: 25 ms)
    while int(model._get_feat_extract_output_lengths(torch.tensor(min_samples))) < 1:
        min_samples += 1
    written = 0
    settings = {
        "model": str(model_location),
        "layer": layer,
        "dtype": dtype,
        "input_norm": input_norm,
        "wav_scp": str(wav_scp),
    }
    outputs = Outputs(out_dir, layers, layer == "all", settings)
    try:
        batches = make_batches(lengths, batch_seconds * rate)
        with tqdm(total=len(lengths), unit="utt", desc="extract", file=sys.stderr) as bar:
            for batch in batches:
                utts, wavs = [], []
                for utt in batch:
                    try:
                        samples, warning = read(table[utt], rate)
                    except Exception as e:
                        skip(utt, f"{type(e).__name__}: {e}")
                        continue
                    if warning:
                        log(f"{utt} ({table[utt]}): {warning}")
                    if len(samples) < min_samples:
                        skip(utt, f"too short: {len(samples)} samples, a frame needs {min_samples}")
                    elif not np.isfinite(samples).all():
                        skip(utt, "audio has NaN or infinite samples")
                    else:
                        utts.append(utt)
                        wavs.append(torch.from_numpy(samples))
                bar.update(len(batch))
                if not utts:
                    continue
                lens = torch.tensor([len(w) for w in wavs], device=device)
                padded = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True).to(device)
                with torch.inference_mode():
                    wav = normalize(padded, lens, do_normalize, input_norm).to(DTYPES[dtype])
                    states, frames = hidden_states(model, wav, lens)
                    # e.g. samples of 1e30: the normalization overflows (checked where
                    # the states are, over each utterance's own frames, one layer at a time)
                    steps = torch.arange(states[0].shape[1], device=frames.device)
                    padding = steps >= frames[:, None]
                    finite = torch.ones(len(utts), dtype=torch.bool, device=frames.device)
                    for k in layers:
                        finite &= (torch.isfinite(states[k]) | padding[..., None]).flatten(1).all(1)
                    finite = finite.tolist()
                    for utt, ok in zip(utts, finite):
                        if not ok:
                            skip(utt, "features are not finite (audio far outside [-1, 1]?)")
                    for k in layers:
                        matrices = states[k].float().cpu().numpy()
                        for i, utt in enumerate(utts):
                            if finite[i]:
                                outputs.write(k, utt, matrices[i, : int(frames[i])])
                written += sum(finite)
        if written == 0:
            raise ExtractError(
                f"none of the {len(table)} utterances of {wav_scp} could be read; nothing written"
            )
        outputs.commit()
    finally:
        outputs.discard()
    names = (
        ", ".join(f"{out_dir / n}.scp" for n in outputs.names.values())
        if len(layers) == 1
        else f"{out_dir}/feats_layer{{0..{num_layers}}}.scp"
    )
    log(f"frontend.extract: {written} utterances written to {names}; {skipped} skipped")
    return written, skipped


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m frontend.extract",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("model", help="Hugging Face folder or fairseq checkpoint (.pt)")
    parser.add_argument("wav_scp", help="Kaldi wav.scp")
    parser.add_argument("out_dir", help="where feats.scp and the ark files go")
    parser.add_argument(
        "--layer",
        type=parse_layer,
        default="last",
        help="hidden state N (0 = transformer input, N = output of layer N), "
        "'last' (default) or 'all' (feats_layer<N>.scp for every N)",
    )
    parser.add_argument(
        "--dtype",
        choices=list(DTYPES),
        default="float32",
        help="precision the model runs in (float16 only with --device cuda); "
        "the features are written as float32 (default: %(default)s)",
    )
    parser.add_argument(
        "--batch_seconds",
        type=float,
        default=60.0,
        help="at most this much padded audio per batch (default: %(default)s)",
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default: %(default)s)")
    parser.add_argument(
        "--input_norm",
        choices=INPUT_NORMS,
        default="fairseq",
        help="waveform normalization of do_normalize models: fairseq (as in "
        "pretraining, epsilon 1e-5) or hf (transformers' rule, epsilon 1e-7) "
        "(default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.batch_seconds <= 0:
        parser.error("--batch_seconds must be positive")

    from frontend.models import ModelError

    try:
        extract(
            args.model,
            args.wav_scp,
            args.out_dir,
            args.layer,
            args.dtype,
            args.batch_seconds,
            args.device,
            input_norm=args.input_norm,
        )
    except (ExtractError, ModelError) as e:
        sys.exit(f"frontend.extract: error: {e}")
    except OSError as e:  # e.g. OUT_DIR not writable
        sys.exit(f"frontend.extract: error: {e.filename or args.out_dir}: {e.strerror or e}")


if __name__ == "__main__":
    main()
