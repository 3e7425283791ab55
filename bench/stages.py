"""What each stage costs per hour of audio, projected to Aishell and WenetSpeech.

    python bench/stages.py [--utts 60] [--cores 32] [--gpus 4] [--gpu_check gpu_check.json]
                           [--no-readme]

Measured here, on scaled-down inputs (--utts utterances of the mini corpus's
training set, 1-3 s each, so a few minutes of audio), each stage as its command
runs it (time, and the peak memory of its whole process tree), then divided by the
audio it processed: per hour of input audio:
  - speed perturbation (stage 2's tables, and the dump's speed change: the dump of
    the 3-speed set against the dump of the set alone) and the dump (stage 3);
  - stage-6 statistics: FBank (espnet2's statistics job), and the SSL LARGE
    architecture (hubert-large, random weights) in a full pass and on the default
    sample (--ssl_stats_utts 500); each as a fixed cost per job (start-up, model:
    a job over 2 utterances) plus a cost per audio second (the model's
    collect_feats over the utterances in a process of its own);
  - one training step of the real-size Aishell configs (FBank and hubert-large,
    Conformer 12 x 256, random weights; the real batch, 62.5 s / 187.5 s of audio per
    GPU, cut to --train_seconds here);
  - decoding (the stage-7 program, batched beam search, beam 10, CTC weight 0.6, no
    LM) with the real-size FBank model; random weights never emit <eos>, so the
    hypotheses run to a length limit set to Aishell's 3.5 characters per second.
Then a table projects each stage to Aishell with speed perturbation (178 h -> 534 h)
and WenetSpeech S / M / L (100 / 1,000 / 10,000 h, no dump, no speed perturbation)
for --cores CPU cores (linear scaling from the 2 measured here) and, for training,
--gpus GPUs when --gpu_check gives a GPU's measured rate (bench/gpu_check.sh).
The table goes into bench/README.md (between its stages markers) unless --no-readme.

The sampling error is measured on the mini corpus (bench/ssl_stats_sample.py: the
whole 3-speed training set through a tiny HuBERT-LARGE-type frontend, against
samples of 500). The last line: `stats_ratio=<sampled / full statistics time, SSL
LARGE, Aishell-SP 534 h> stats_err=<worst relative L2 of mean and std>`
(goals <= 0.05 and <= 0.01).
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(BENCH))
MINI = ROOT / "egs2/mini_zh/asr1/corpus/data_aishell"
AISHELL_CONF = ROOT / "egs2/aishell/asr1/conf"
SAMPLE_UTTS = 500  # local/asr.sh --ssl_stats_utts
AISHELL_MEAN_S = 178 * 3600 / 120098  # Aishell-1 training set: 120,098 utterances, 178 h
CORPORA = {  # name: (input hours, training hours, test hours, speed perturbation, dump)
    "Aishell-SP 534 h": (178, 534, 15, True, True),
    "WenetSpeech S": (100, 100, 58, False, False),
    "WenetSpeech M": (1000, 1000, 58, False, False),
    "WenetSpeech L": (10000, 10000, 58, False, False),
}
EPOCHS = 50  # both recipes' configs
MARK_BEGIN, MARK_END = "<!-- stages:begin -->", "<!-- stages:end -->"


def sh(command):
    """(seconds, peak MB of the process tree) of a command (bench/wenetspeech_meta.py)."""
    from wenetspeech_meta import measure

    return measure(["bash", "-c", command])


def py(module, *args):
    return " ".join(["python", "-m", module, *map(str, args)])


def prepare(work, utts, name="train"):
    """data/<name>: `utts` training utterances of the mini corpus (wav files)."""
    import soundfile

    texts = dict(
        line.split(" ", 1)
        for line in (MINI / "transcript/aishell_transcript_v0.8.txt").read_text().splitlines()
    )
    audio, data = work / f"audio_{name}", work / f"data/{name}"
    audio.mkdir(parents=True)
    data.mkdir(parents=True)
    rows, seconds = [], 0.0
    for archive in sorted((MINI / "wav").glob("*.tar.gz")):
        with tarfile.open(archive) as tar:
            for member in tar:
                if len(rows) >= utts:
                    break
                if member.isfile() and member.name.startswith("train/"):
                    utt, spk = Path(member.name).stem, member.name.split("/")[1]
                    (audio / f"{utt}.wav").write_bytes(tar.extractfile(member).read())
                    seconds += soundfile.info(audio / f"{utt}.wav").duration
                    rows.append((utt, spk))
    (data / "wav.scp").write_text("".join(f"{u} {audio}/{u}.wav\n" for u, _ in rows))
    (data / "text").write_text("".join(f"{u} {texts[u].strip()}\n" for u, _ in rows))
    (data / "utt2spk").write_text("".join(f"{u} {s}\n" for u, s in rows))
    spk2utt = {}
    for u, s in rows:
        spk2utt.setdefault(s, []).append(u)
    (data / "spk2utt").write_text("".join(f"{s} {' '.join(us)}\n" for s, us in spk2utt.items()))
    chars = sorted({c for u, _ in rows for c in texts[u].strip() if not c.isspace()})
    tokens = ["<blank>", "<unk>", *chars] + [f"x{i}" for i in range(4234 - len(chars) - 3)]
    (work / "tokens.txt").write_text("\n".join(tokens + ["<sos/eos>"]) + "\n")
    return seconds


def dump(work, dset):
    out = work / f"dump/{dset}"
    return sh(
        f"cd {work} && {py('local.data.dump_audio', 'plan', '--nj', 2, f'data/{dset}', out)} && "
        f"({py('local.data.dump_audio', 'run', '--job', 1, out)} & "
        f"{py('local.data.dump_audio', 'run', '--job', 2, out)}; wait) && "
        f"{py('local.data.dump_audio', 'finish', out)}"
    )


def keys_file(work, dset, n, name):
    lines = (work / f"dump/{dset}/wav.scp").read_text().splitlines()[:n]
    (work / name).write_text("\n".join(lines) + "\n")
    return work / name, audio_seconds(work, dset, [line.split()[0] for line in lines])


def audio_seconds(work, dset, utts):
    table = dict(line.split() for line in (work / f"dump/{dset}/utt2num_samples").open())
    return sum(int(table[u]) for u in utts) / 16000


def stats_job(work, config, keys, extra=""):
    """(seconds, peak MB) of one espnet2 statistics job over the utterances of keys."""
    dset = work / "dump/train_sp"
    out = Path(tempfile.mkdtemp(dir=work, prefix="stats."))
    return sh(
        f"cd {work} && python -m local.runtime.espnet_bin asr_train --collect_stats true "
        f"--use_preprocessor true --token_type char --token_list {work}/tokens.txt "
        "--non_linguistic_symbols none --cleaner none --g2p none --normalize none "
        f"--train_data_path_and_name_and_type {dset}/wav.scp,speech,sound "
        f"--train_data_path_and_name_and_type {dset}/text,text,text "
        f"--valid_data_path_and_name_and_type {dset}/wav.scp,speech,sound "
        f"--valid_data_path_and_name_and_type {dset}/text,text,text "
        f"--train_shape_file {keys} --valid_shape_file {work / 'keys_1.scp'} "
        f"--output_dir {out} --config {config} {extra} > {out}.log 2>&1"
    )


def stats_costs(work, config, small, large, kind):
    """Fixed cost (s) of a statistics job (a job over 2 utterances less their share),
    cost per audio second (the features of `large` computed in a process of its own,
    batches of 20 as the job makes them), peak MB of a job over `large`."""
    (k1, a1), (k2, _) = small, large
    t1, _ = stats_job(work, config, k1)
    _, peak = stats_job(work, config, k2)
    result, _, _ = run_worker(work, f"rate_{kind}", 0, keys=k2)
    rate = result["seconds"] / result["audio_s"]
    return {"fixed_s": max(t1 - a1 * rate, 0.0), "per_audio_s": rate, "peak_mb": peak}


def hubert_large_config(work):
    """The Aishell hubert-large config with a random-weight upstream folder."""
    import yaml
    from gpu_check import upstream_folder

    folder = upstream_folder(work, tiny=False)
    config = yaml.safe_load((AISHELL_CONF / "train_asr_conformer_hubert_large.yaml").read_text())
    config["frontend_conf"]["model_path"] = str(folder)
    path = work / "train_asr_conformer_hubert_large.yaml"
    path.write_text(yaml.safe_dump(config))
    return path, folder


# --- workers (run in their own process, so that their peak memory is theirs) -----


def worker_train(work, kind, seconds):
    """One training step (after a warm-up) of a real-size config on a real batch."""
    import torch
    from gpu_check import build_model, train_steps

    torch.set_num_threads(2)
    folder = work / "hubert-large" if kind == "ssl" else None
    config = (
        AISHELL_CONF / f"train_asr_conformer_{'hubert_large' if kind == 'ssl' else 'fbank'}.yaml"
    )
    model = build_model(folder, work / "tokens.txt", False, config_file=config)
    batch, audio = real_batch(work, model, seconds)
    step_s, _ = train_steps(model, batch, 1, "cpu")
    print(json.dumps({"step_s": step_s, "audio_s": audio}))


def real_batch(work, model, seconds):
    """The longest-first utterances of dump/train_sp up to `seconds`, with their text."""
    import soundfile
    import torch

    dset = work / "dump/train_sp"
    scp = dict(line.split(maxsplit=1) for line in (dset / "wav.scp").read_text().splitlines())
    text = dict(line.split(maxsplit=1) for line in (dset / "text").read_text().splitlines())
    token_list = model.token_list
    ids = {t: i for i, t in enumerate(token_list)}
    wavs, texts, total = [], [], 0.0
    for utt in scp:
        wav, _ = soundfile.read(scp[utt].strip(), dtype="float32")
        if total + len(wav) / 16000 > seconds and wavs:
            break
        total += len(wav) / 16000
        wavs.append(torch.from_numpy(wav))
        texts.append(torch.tensor([ids.get(c, 1) for c in text[utt].strip() if not c.isspace()]))
    return {
        "speech": torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True),
        "speech_lengths": torch.tensor([len(w) for w in wavs]),
        "text": torch.nn.utils.rnn.pad_sequence(texts, batch_first=True, padding_value=-1),
        "text_lengths": torch.tensor([len(t) for t in texts]),
    }, total


def worker_save_fbank(work):
    """The real-size FBank model (random weights) as an experiment: config + model."""
    import torch
    import yaml
    from gpu_check import build_model

    config = AISHELL_CONF / "train_asr_conformer_fbank.yaml"
    model = build_model(None, work / "tokens.txt", False, config_file=config)
    exp = work / "exp_fbank"
    exp.mkdir()
    torch.save(model.state_dict(), exp / "model.pth")
    (exp / "config.yaml").write_text(yaml.safe_dump(vars(model.args), allow_unicode=True))


def worker_rate(work, kind, keys):
    """Seconds the statistics' features (model.collect_feats) take for the utterances
    of `keys`, in batches of 20."""
    import soundfile
    import torch
    from gpu_check import build_model

    torch.set_num_threads(2)
    folder = work / "hubert-large" if kind == "ssl" else None
    name = "hubert_large" if kind == "ssl" else "fbank"
    config = AISHELL_CONF / f"train_asr_conformer_{name}.yaml"
    model = build_model(folder, work / "tokens.txt", False, config_file=config).eval()
    scp = dict(line.split(maxsplit=1) for line in (work / "dump/train_sp/wav.scp").open())
    utts = [line.split()[0] for line in Path(keys).read_text().splitlines()]
    wavs = [torch.from_numpy(soundfile.read(scp[u].strip(), dtype="float32")[0]) for u in utts]
    audio = sum(len(w) for w in wavs) / 16000
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(wavs), 20):
            part = wavs[i : i + 20]
            model.collect_feats(
                speech=torch.nn.utils.rnn.pad_sequence(part, batch_first=True),
                speech_lengths=torch.tensor([len(w) for w in part]),
                text=torch.zeros(len(part), 1, dtype=torch.long),
                text_lengths=torch.ones(len(part), dtype=torch.long),
            )
    print(json.dumps({"seconds": time.perf_counter() - start, "audio_s": audio}))


def worker(args):
    work = Path(args.work)
    if args.worker == "save_fbank":
        worker_save_fbank(work)
    elif args.worker.startswith("rate_"):
        worker_rate(work, args.worker.removeprefix("rate_"), args.keys)
    else:
        worker_train(work, args.worker.removeprefix("train_"), args.train_seconds)


def run_worker(work, name, train_seconds, keys=""):
    out = Path(tempfile.mkdtemp(dir=work, prefix=f"{name}.")) / "result.json"
    seconds, peak = sh(
        f"python {__file__} --worker {name} --work {work} --train_seconds {train_seconds} "
        f"{f'--keys {keys}' if keys else ''} > {out} 2> {out}.log"
    )
    lines = [line for line in out.read_text().splitlines() if line.startswith("{")]
    return (json.loads(lines[-1]) if lines else {}), seconds, peak


def decode(work, keys):
    config = AISHELL_CONF / "decode_asr.yaml"
    out = Path(tempfile.mkdtemp(dir=work, prefix="decode."))
    return sh(
        f"cd {work} && python -m local.decode.batch_inference --batch_size 16 --ngpu 0 "
        f"--data_path_and_name_and_type dump/train_sp/wav.scp,speech,sound --key_file {keys} "
        f"--asr_train_config exp_fbank/config.yaml --asr_model_file exp_fbank/model.pth "
        f"--config {config} --lm_weight 0 --maxlenratio 0.14 --output_dir {out} "
        f"> {out}.log 2>&1"
    )


# --- the report -----------------------------------------------------------------------


def hours(seconds):
    if seconds < 3600:
        return f"{max(seconds / 60, 1):.0f} min" if seconds >= 30 else "< 1 min"
    return f"{seconds / 3600:,.1f} h"


def projection(m, cores, gpus, gpu_rate):
    """Markdown rows: each stage's time for each corpus on `cores` CPU cores / `gpus` GPUs."""
    scale = 2 / cores  # measured on 2 cores; CPU stages split into jobs scale linearly
    rows = []

    def row(name, values):
        rows.append(f"| {name} | " + " | ".join(values) + " |")

    def each(fn):
        return [fn(*spec) for spec in CORPORA.values()]

    row(
        f"speed perturbation + dump (CPU, {cores} cores)",
        each(
            lambda inp, train, test, sp, dumped: (
                hours(
                    inp * (m["sp_dump_per_h"] if sp else m["dump_per_h"]) * scale
                    + (m["stage2_s"] if sp else 0)
                )
                if dumped
                else "no dump"
            )
        ),
    )
    row(
        f"statistics, FBank (CPU, {cores} cores)",
        each(lambda inp, train, *_: hours(train * 3600 * m["fbank"]["per_audio_s"] * scale)),
    )
    ssl = m["ssl"]
    row(
        f"statistics, SSL LARGE, full pass (CPU, {cores} cores)",
        each(lambda inp, train, *_: hours(train * 3600 * ssl["per_audio_s"] * scale)),
    )
    sample_audio = SAMPLE_UTTS * AISHELL_MEAN_S
    row(
        f"statistics, SSL LARGE, sample of {SAMPLE_UTTS} (CPU, {cores} cores)",
        each(lambda *_: hours(ssl["fixed_s"] + sample_audio * ssl["per_audio_s"] * scale)),
    )
    for kind in ("fbank", "ssl"):
        per_audio = m[f"train_{kind}"]["step_s"] / m[f"train_{kind}"]["audio_s"]
        row(
            f"training {EPOCHS} epochs, {kind} (CPU, {cores} cores)",
            each(lambda inp, train, *_, r=per_audio: hours(EPOCHS * train * 3600 * r * scale)),
        )
    if gpu_rate:
        row(
            f"training {EPOCHS} epochs, hubert-large (float32 upstream, {gpus} GPUs)",
            each(
                lambda inp, train, *_: hours(EPOCHS * train * 3600 / (gpu_rate["float32"] * gpus))
            ),
        )
    else:
        row(f"training, {gpus} GPUs", each(lambda *_: "run bench/gpu_check.sh"))
    row(
        f"decoding the test sets, FBank, no LM (CPU, {cores} cores)",
        each(lambda inp, train, test, *_: hours(test * 3600 * m["decode"]["per_audio_s"] * scale)),
    )
    return rows


def write_readme(section):
    readme = BENCH / "README.md"
    text = readme.read_text(encoding="utf-8")
    block = f"{MARK_BEGIN}\n{section}\n{MARK_END}"
    if MARK_BEGIN in text and MARK_END in text:
        head, rest = text.split(MARK_BEGIN, 1)
        text = head + block + rest.split(MARK_END, 1)[1]
    else:
        text = text.rstrip("\n") + f"\n\n### `python bench/stages.py`\n\n{block}\n"
    from fileio.atomic import write_text

    write_text(readme, text)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--utts", type=int, default=60, help="mini-corpus utterances")
    parser.add_argument("--cores", type=int, default=32, help="CPU cores of the projection")
    parser.add_argument("--gpus", type=int, default=4, help="GPUs of the projection")
    parser.add_argument("--gpu_check", help="JSON written by bench/gpu_check.sh on a GPU")
    parser.add_argument("--train_seconds", type=float, default=15.0)
    parser.add_argument("--no-readme", action="store_true")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--work", help=argparse.SUPPRESS)
    parser.add_argument("--keys", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    os.environ["OMP_NUM_THREADS"] = "2"
    started = time.time()
    work = Path(tempfile.mkdtemp(prefix="stages_"))
    seconds = prepare(work, args.utts)
    m = {}
    print(f"{args.utts} utterances, {seconds:.0f} s of audio ({work})", flush=True)

    # the dump: the whole training set of the mini corpus against --utts of it (a
    # dump takes seconds per hour: the difference of two sizes, start-up costs apart)
    big_seconds = prepare(work, 10**6, name="big")
    perturb = py("local.data.speed_perturb", "--factors", repr("0.9 1.0 1.1"))
    t_sp, mem_sp = sh(f"cd {work} && {perturb} data/train data/train_sp")
    sh(f"cd {work} && {perturb} data/big data/big_sp")
    extra = big_seconds - seconds
    dumps = {d: dump(work, d) for d in ("train", "big", "train_sp", "big_sp")}
    dump_rate = (dumps["big"][0] - dumps["train"][0]) / extra
    sp_rate = (dumps["big_sp"][0] - dumps["train_sp"][0]) / extra
    m["dump_per_h"] = dump_rate * 3600
    m["sp_dump_per_h"] = sp_rate * 3600
    m["stage2_s"] = t_sp
    print(
        f"stage 2 (tables only): {t_sp:.1f} s ({mem_sp:.0f} MB); per input hour: dump "
        f"{dump_rate * 3600:.0f} s (peak {dumps['big'][1]:.0f} MB), dump of the 3 speeds "
        f"{sp_rate * 3600:.0f} s (peak {dumps['big_sp'][1]:.0f} MB): speed perturbation "
        f"costs {(sp_rate - dump_rate) * 3600:.0f} s per input hour",
        flush=True,
    )

    one = keys_file(work, "train_sp", 1, "keys_1.scp")
    small = keys_file(work, "train_sp", 2, "keys_2.scp")
    total = len((work / "dump/train_sp/wav.scp").read_text().splitlines())
    m["fbank"] = stats_costs(
        work,
        AISHELL_CONF / "train_asr_conformer_fbank.yaml",
        small,
        keys_file(work, "train_sp", total, "keys_all.scp"),
        "fbank",
    )
    ssl_config, _ = hubert_large_config(work)
    ssl_keys = keys_file(work, "train_sp", 12, "keys_12.scp")
    m["ssl"] = stats_costs(work, ssl_config, small, ssl_keys, "ssl")
    del one
    for kind in ("fbank", "ssl"):
        s = m[kind]
        print(
            f"statistics {kind}: {s['fixed_s']:.0f} s per job + {s['per_audio_s'] * 3600:.0f} s "
            f"per hour of audio, peak {s['peak_mb']:.0f} MB",
            flush=True,
        )
    for kind in ("fbank", "ssl"):
        result, _, peak = run_worker(work, f"train_{kind}", args.train_seconds)
        m[f"train_{kind}"] = dict(result, peak_mb=peak)
        print(
            f"training step {kind}: {result['step_s']:.1f} s for {result['audio_s']:.1f} s of audio"
            f" ({result['step_s'] / result['audio_s'] * 3600:.0f} s per hour), peak {peak:.0f} MB",
            flush=True,
        )
    run_worker(work, "save_fbank", args.train_seconds)
    d1, _ = decode(work, small[0])
    d2, peak = decode(work, keys_file(work, "train_sp", 24, "keys_24.scp")[0])
    a1, a2 = small[1], keys_file(work, "train_sp", 24, "keys_24.scp")[1]
    m["decode"] = {"per_audio_s": max(d2 - d1, 0) / (a2 - a1), "fixed_s": d1, "peak_mb": peak}
    print(
        f"decoding: {m['decode']['per_audio_s'] * 3600:.0f} s per hour of audio + "
        f"{d1:.0f} s per job, peak {peak:.0f} MB",
        flush=True,
    )

    from ssl_stats_sample import per_utterance_sums, sampling_errors, tiny_frontend, training_audio

    sums = per_utterance_sums(tiny_frontend(), training_audio())
    stats_err = sampling_errors(sums, [SAMPLE_UTTS], 20)[SAMPLE_UTTS]

    gpu_rate = None
    if args.gpu_check:
        results = json.loads(Path(args.gpu_check).read_text())["results"]
        gpu_rate = {k: v["audio_s_per_s"] for k, v in results.items() if "audio_s_per_s" in v}
    rows = projection(m, args.cores, args.gpus, gpu_rate)
    ssl = m["ssl"]
    full = 534 * 3600 * ssl["per_audio_s"] + ssl["fixed_s"]
    sampled = ssl["fixed_s"] + SAMPLE_UTTS * AISHELL_MEAN_S * ssl["per_audio_s"]
    rev = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    header = "| stage | " + " | ".join(CORPORA) + " |\n|---|" + "---:|" * len(CORPORA)
    section = "\n".join(
        [
            f"{time.strftime('%Y-%m-%d')}, revision {rev}, {platform.machine()}, "
            f"{os.cpu_count()} CPU cores, no GPU; `python bench/stages.py --cores {args.cores} "
            f"--gpus {args.gpus}` ({time.time() - started:.0f} s). Measured on {seconds:.0f} s "
            f"of the mini corpus ({args.utts} utterances, 1-3 s), extrapolated per hour; "
            "random weights; CPU stages assumed to scale linearly with cores. Peak memory "
            "(printed by the command) is the most the process tree held at once: the "
            "statistics jobs' 8 data-loader workers are forked after the model is built and "
            "each counts the model's pages again.",
            "",
            header,
            *rows,
            "",
            f"stats_ratio={sampled / full:.4f} stats_err={stats_err:.4f}",
        ]
    )
    print()
    print(header)
    print("\n".join(rows))
    if not args.no_readme:
        write_readme(section)
    print(f"stats_ratio={sampled / full:.4f} stats_err={stats_err:.4f}")


if __name__ == "__main__":
    main()
