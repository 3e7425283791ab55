"""Audio dump (stage 3): every utterance as 16 kHz mono FLAC (or a Kaldi wav ark).

Three steps, so that the middle one runs as an array job (local or Slurm):

    python -m local.data.dump_audio plan --nj 4 data/train_sp dump/raw/train_sp
    python -m local.data.dump_audio run --job 3 dump/raw/train_sp          # JOB=1..4
    python -m local.data.dump_audio finish dump/raw/train_sp [--filter]

`plan` splits the utterances into jobs by recording (a recording's segments stay
together, so a long recording is decoded once) in the work folder
dump/raw/train_sp.tmp. `run` reads each recording (applying reco2speed and
segments), resamples other rates to 16 kHz, keeps the first channel and writes
the audio and its length; it records every finished recording, so a rerun
after an interruption goes on from there. `finish` merges the jobs, drops (with
--filter, used for training and validation sets) utterances shorter or longer
than the limits or with empty text, writes report.txt and dropped.txt and
moves the folder into place. Unreadable audio is skipped and counted, never
fatal for the whole set.

Without a dump:

    python -m local.data.dump_audio link [--filter] data/train_s dump/raw/train_s

writes the same folder (audio_format "none") pointing at the original audio:
training and decoding then read each utterance from its recording on demand
(local.data.segments_reader).
"""

import argparse
import collections
import hashlib
import json
import shutil
import sys
from pathlib import Path

import kaldiio
import numpy as np
import soundfile
from tqdm import tqdm

from fileio.atomic import (
    OWNER_FILE,
    OutputError,
    atomic_dir,
    atomic_file,
    check_output_dir,
    replace_dir,
    terminate_cleanly,
    write_text,
)
from fileio.audio import SAMPLE_RATE, AudioError, change_speed, read_audio, resample, to_int16
from fileio.kaldi_table import DataError, read_table, write_table
from local.data.datadir import DataDir

TOOL = "local.data.dump_audio"  # the marker of the folders it writes (fileio.atomic)

FORMATS = ("flac", "wav", "ark")
# A segment may end this much after its recording (rounding of times) and is kept.
END_TOLERANCE = 0.05
# a float recording a little over full scale is clipped, as any converter does; one far
# beyond it is not audio at float scale (e.g. int16 values stored as floats): dropped
MAX_PEAK = 2.0


def work_dir_of(out_dir):
    out_dir = Path(out_dir)
    return out_dir.parent / f"{out_dir.name}.tmp"


def read_plan(work):
    """The settings `plan` wrote into the work folder."""
    try:
        return json.loads((work / "plan.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{work}: no plan here; run `dump_audio plan` first") from None
    except ValueError as e:
        raise DataError(f"{work / 'plan.json'}: not a plan ({e})") from None


def audio_fingerprint(data):
    """A digest of what the dump reads: the utterances, recordings, segments, speeds."""
    tables = [data.utterances(), data.wav_scp, data.segments, data.reco2speed]
    return hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()


def check_out_dir(data_dir, out_dir):
    """The output folder must be a named folder, not the data folder, and replaceable."""
    if Path(out_dir).resolve().name in ("", ".", "..") or Path(out_dir).name in ("", ".", ".."):
        raise DataError(f"'{out_dir}': give the dump its own folder, e.g. dump/raw/<set>")
    check_output_dir(out_dir, TOOL, inputs=[data_dir])


def plan(data_dir, out_dir, nj, audio_format):
    """Split the work into `nj` jobs; keep finished jobs of an identical earlier plan
    (same settings, same data)."""
    check_out_dir(data_dir, out_dir)  # refused now rather than after hours of work
    data = DataDir.read(data_dir)
    work = work_dir_of(out_dir)
    settings = {
        "data_dir": str(Path(data_dir).resolve()),
        "out_dir": str(Path(out_dir).resolve()),
        "nj": nj,
        "audio_format": audio_format,
        "data": audio_fingerprint(data),
    }
    plan_file = work / "plan.json"
    if work.is_dir() and not plan_file.exists() and any(work.iterdir()):
        raise OutputError(f"{work}: holds files the dump did not write; move them away")
    if plan_file.exists() and json.loads(plan_file.read_text()) != settings:
        shutil.rmtree(work)  # an earlier plan's work folder
    work.mkdir(parents=True, exist_ok=True)

    by_recording = collections.defaultdict(list)
    for utt in data.utterances():
        if "/" in utt:
            raise DataError(f"{data_dir}/utt2spk: utterance id '{utt}' contains '/'")
        by_recording[data.recording_of(utt)].append(utt)
    recordings = sorted(by_recording)
    for job in range(1, nj + 1):
        mine = recordings[job - 1 :: nj]
        write_text(work / f"keys.{job}", "".join(f"{u}\n" for r in mine for u in by_recording[r]))
    write_text(plan_file, json.dumps(settings, indent=1))
    return work


class Writer:
    """Writes one job's audio as FLAC/WAV files or into one Kaldi ark."""

    def __init__(self, job_dir, final_job_dir, audio_format):
        self.format = audio_format
        self.job_dir, self.final_job_dir = Path(job_dir), Path(final_job_dir)
        self.ark = None
        if audio_format == "ark":
            self.ark = kaldiio.WriteHelper(
                f"ark,scp:{self.job_dir / 'data.ark'},{self.job_dir / 'data.scp'}",
                write_function="soundfile",
            )

    def write(self, utt, samples):
        """Write int16 samples; return the wav.scp value for the final location."""
        if self.ark is not None:
            self.ark(utt, (SAMPLE_RATE, samples))
            return None  # taken from data.scp when the job closes
        name = f"{utt}.{self.format}"
        soundfile.write(
            self.job_dir / name, samples, SAMPLE_RATE, subtype="PCM_16", format=self.format.upper()
        )
        return str(self.final_job_dir / name)

    def close(self, wav_scp):
        if self.ark is not None:
            self.ark.close()
            final_ark = self.final_job_dir / "data.ark"
            for utt, value in read_table(self.job_dir / "data.scp").items():
                wav_scp[utt] = f"{final_ark}:{value.rsplit(':', 1)[1]}"


def read_progress(path):
    """Recordings finished by an interrupted run of a job. A last line cut short by
    the interruption is removed, so that new lines follow complete ones."""
    done, complete = {}, []
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            if line.endswith("\n"):
                record = json.loads(line)
                done[record["recording"]] = record
                complete.append(line)
        write_text(path, "".join(complete))
    return done


def dump_recording(data, reco, utts, writer):
    """Write the utterances of one recording; return its progress record."""
    record = {"recording": reco, "written": [], "skipped": [], "notes": {}}
    try:
        samples, rate = read_audio(data.wav_scp[reco])
    except AudioError as e:
        record["skipped"] = [f"{u}\tunreadable audio\t{e}" for u in utts]
        return record
    peak = float(np.abs(samples).max()) if len(samples) else 0.0
    if peak > MAX_PEAK:
        why = f"{data.wav_scp[reco]}: samples reach {peak:g}, float audio lies in [-1, 1]"
        record["skipped"] = [f"{u}\taudio out of range\t{why}" for u in utts]
        return record
    if data.reco2speed is not None and float(data.reco2speed.get(reco, 1)) != 1.0:
        samples = change_speed(samples, rate, float(data.reco2speed[reco]))
    if rate != SAMPLE_RATE:
        record["notes"][f"resampled from {rate} Hz"] = len(utts)
        samples = resample(samples, rate, SAMPLE_RATE)
    for utt in utts:
        piece = samples
        if data.segments is not None:
            start, end = (float(t) for t in data.segments[utt].split()[1:3])
            if end > len(samples) / SAMPLE_RATE + END_TOLERANCE or end <= start:
                record["skipped"].append(f"{utt}\tsegment outside its audio\t{reco} {start} {end}")
                continue
            piece = samples[int(round(start * SAMPLE_RATE)) : int(round(end * SAMPLE_RATE))]
        if len(piece) == 0:
            record["skipped"].append(f"{utt}\tno audio samples\t{data.wav_scp[reco]}")
            continue
        record["written"].append([utt, writer.write(utt, to_int16(piece)), len(piece)])
    return record


def run_job(out_dir, job):
    """Dump one job's recordings. Files are written per recording and a recording is
    listed in progress.jsonl once complete, so a rerun after an interruption goes on
    where it stopped (Kaldi arks are redone per job)."""
    work = work_dir_of(out_dir)
    settings = read_plan(work)
    if not 1 <= job <= settings["nj"]:
        raise DataError(f"--job {job}: the plan in {work} has jobs 1 to {settings['nj']}")
    job_dir = work / "data" / f"format.{job}"
    if (job_dir / ".done").exists():
        print(f"job {job}: already done")
        return
    resumable = settings["audio_format"] != "ark"
    if not resumable:
        shutil.rmtree(job_dir, ignore_errors=True)
    job_dir.mkdir(parents=True, exist_ok=True)
    progress_file = job_dir / "progress.jsonl"
    done = read_progress(progress_file) if resumable else {}
    data = DataDir.read(settings["data_dir"])
    if audio_fingerprint(data) != settings["data"]:
        raise DataError(f"{settings['data_dir']}: changed since the dump was planned; plan again")
    by_recording = collections.defaultdict(list)
    for utt in (work / f"keys.{job}").read_text().split():
        by_recording[data.recording_of(utt)].append(utt)
    final_job_dir = Path(settings["out_dir"]) / "data" / f"format.{job}"
    writer = Writer(job_dir, final_job_dir, settings["audio_format"])
    if done:
        print(f"job {job}: resuming after {len(done)} finished recordings", flush=True)
    with open(progress_file, "a", encoding="utf-8") as progress:
        todo = [r for r in by_recording if r not in done]
        for reco in tqdm(todo, desc=f"dump job {job}", unit="rec", mininterval=10, file=sys.stdout):
            record = dump_recording(data, reco, by_recording[reco], writer)
            progress.write(json.dumps(record, ensure_ascii=False) + "\n")
            progress.flush()
            done[reco] = record
    wav_scp = {utt: value for r in done.values() for utt, value, _ in r["written"]}
    writer.close(wav_scp)

    notes = collections.Counter()
    for record in done.values():
        notes.update(record["notes"])
    write_table(job_dir / "wav.scp", wav_scp)
    write_table(
        job_dir / "utt2num_samples",
        {utt: str(n) for r in done.values() for utt, _, n in r["written"]},
    )
    write_text(
        job_dir / "skipped.txt", "".join(f"{s}\n" for r in done.values() for s in r["skipped"])
    )
    write_text(job_dir / "notes.json", json.dumps(dict(notes)))
    (job_dir / ".done").touch()
    print(
        f"job {job}: {len(wav_scp)} utterances written, "
        f"{sum(len(r['skipped']) for r in done.values())} skipped"
    )


class LengthFilter:
    """Which utterances a training or validation set keeps (all, when off)."""

    def __init__(self, enabled, min_duration, max_duration):
        self.enabled, self.min_duration, self.max_duration = enabled, min_duration, max_duration

    def reason(self, seconds, text):
        if not self.enabled:
            return None
        if seconds < self.min_duration:
            return f"shorter than {self.min_duration} s"
        if seconds > self.max_duration:
            return f"longer than {self.max_duration} s"
        if not text.strip():
            return "empty text"
        return None


def select(utts, num_samples, data, length_filter, drops, dropped, where):
    """The utterances to keep; the others are counted in drops and listed in dropped
    (an error naming `where`, the list of what was dropped, when none is left)."""
    keep = []
    for utt in sorted(utts):
        seconds = int(num_samples[utt]) / SAMPLE_RATE
        reason = length_filter.reason(seconds, data.text[utt])
        if reason is None:
            keep.append(utt)
        else:
            drops[reason] += 1
            dropped.append(f"{utt}\t{reason}\t{seconds:.2f} s")
    if not keep:
        raise DataError(f"no utterance of {len(data.utt2spk)} left; see {where}")
    return keep


def write_report(folder, data, kept, audio_format, drops, notes, dropped):
    """audio_format, report.txt and dropped.txt of a dump folder; returns the summary."""
    write_text(folder / "audio_format", audio_format + "\n")
    hours = sum(int(n) for n in kept.utt2num_samples.values()) / SAMPLE_RATE / 3600
    report = [f"{len(kept.utt2spk)} of {len(data.utt2spk)} utterances, {hours:.2f} h"]
    report += [f"dropped ({reason}): {n}" for reason, n in sorted(drops.items())]
    report += [f"{note}: {n}" for note, n in sorted(notes.items())]
    write_text(folder / "report.txt", "".join(f"{line}\n" for line in report))
    with atomic_file(folder / "dropped.txt") as f:
        f.writelines(f"{line}\n" for line in dropped)
    return "; ".join(report)


def finish(out_dir, length_filter):
    """Merge the jobs into out_dir (atomically) and report what was dropped."""
    work = work_dir_of(out_dir)
    settings = read_plan(work)
    data = DataDir.read(settings["data_dir"])
    if audio_fingerprint(data) != settings["data"]:
        raise DataError(f"{settings['data_dir']}: changed since the dump was planned; plan again")
    check_out_dir(settings["data_dir"], out_dir)  # before anything of the work is changed
    wav_scp, num_samples, notes, dropped = {}, {}, collections.Counter(), []
    for job in range(1, settings["nj"] + 1):
        job_dir = work / "data" / f"format.{job}"
        if not (job_dir / ".done").exists():
            raise DataError(f"{job_dir}: job {job} did not finish")
        wav_scp.update(read_table(job_dir / "wav.scp"))
        num_samples.update(read_table(job_dir / "utt2num_samples"))
        notes.update(json.loads((job_dir / "notes.json").read_text()))
        dropped += (job_dir / "skipped.txt").read_text().splitlines()
    drops = collections.Counter(line.split("\t")[1] for line in dropped)
    where = work / "data" / "format.*" / "skipped.txt"
    keep = select(wav_scp, num_samples, data, length_filter, drops, dropped, where)

    dumped = data.subset(keep)
    dumped.wav_scp = {u: wav_scp[u] for u in keep}
    dumped.segments = dumped.reco2speed = None
    dumped.utt2num_samples = {u: num_samples[u] for u in keep}
    dumped.write_files(work)
    summary = write_report(work, data, dumped, settings["audio_format"], drops, notes, dropped)
    (work / OWNER_FILE).write_text(TOOL + "\n", encoding="utf-8")
    check_out_dir(settings["data_dir"], out_dir)
    for name in ("plan.json",) + tuple(f"keys.{j}" for j in range(1, settings["nj"] + 1)):
        (work / name).unlink()  # last: until here, a failed finish can be run again
    replace_dir(work, out_dir)
    print(f"{out_dir}: {summary}")


def link(data_dir, out_dir, length_filter):
    """No dump: out_dir refers to the original audio (audio_format 'none'). Utterances
    of long recordings are read through `segments` (data type segments_sound), whole
    files through wav.scp (sound); lengths come from the segment times or headers."""
    check_out_dir(data_dir, out_dir)  # refused before any audio is opened
    data = DataDir.read(data_dir)
    if data.reco2speed is not None:
        raise DataError(
            f"{data_dir}: speed perturbation needs the audio dump (--audio_format flac)"
        )
    num_samples, notes = {}, collections.Counter()
    drops, dropped = collections.Counter(), []
    for utt in data.utterances():
        if data.segments is not None:
            start, end = (float(t) for t in data.segments[utt].split()[1:3])
            # the samples the segment reader returns: [round(start), round(end))
            num_samples[utt] = str(round(end * SAMPLE_RATE) - round(start * SAMPLE_RATE))
            continue
        try:
            info = soundfile.info(data.wav_scp[utt])
        except (RuntimeError, soundfile.LibsndfileError) as e:
            drops["unreadable audio"] += 1
            dropped.append(f"{utt}\tunreadable audio\t{data.wav_scp[utt]}: {e}")
            continue
        num_samples[utt] = str(int(info.frames * SAMPLE_RATE / info.samplerate))
    keep = select(num_samples, num_samples, data, length_filter, drops, dropped, data_dir)
    kept = data.subset(keep)
    kept.utt2num_samples = {u: num_samples[u] for u in keep}
    with atomic_dir(out_dir, TOOL, inputs=[data_dir]) as tmp:
        kept.write_files(tmp)
        summary = write_report(tmp, data, kept, "none", drops, notes, dropped)
    print(f"{out_dir}: {summary} (audio read from the original recordings)")


def positive(text):
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' is not a positive whole number")
    return value


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("plan", help="split the work into jobs")
    p.add_argument("--nj", type=positive, default=1, help="parallel jobs")
    p.add_argument("--audio-format", choices=FORMATS, default="flac")
    p.add_argument("data_dir")
    p.add_argument("out_dir")
    p = sub.add_parser("run", help="run one job")
    p.add_argument("--job", type=int, required=True)
    p.add_argument("out_dir")
    for step, text in (
        ("finish", "merge the jobs, filter and move into place"),
        ("link", "no dump: a folder that reads the original audio"),
    ):
        p = sub.add_parser(step, help=text)
        p.add_argument(
            "--filter",
            action="store_true",
            help="drop too short/long utterances and empty texts (training sets)",
        )
        p.add_argument("--min-duration", type=float, default=0.1, help="seconds")
        p.add_argument("--max-duration", type=float, default=20.0, help="seconds")
        if step == "link":
            p.add_argument("data_dir")
        p.add_argument("out_dir")
    args = parser.parse_args()
    terminate_cleanly()  # a job runner's SIGTERM removes temporary outputs too
    try:
        if args.step == "plan":
            plan(args.data_dir, args.out_dir, args.nj, args.audio_format)
        elif args.step == "run":
            run_job(args.out_dir, args.job)
        else:
            length_filter = LengthFilter(args.filter, args.min_duration, args.max_duration)
            if args.step == "finish":
                finish(args.out_dir, length_filter)
            else:
                link(args.data_dir, args.out_dir, length_filter)
    except (DataError, OutputError) as e:
        sys.exit(f"dump_audio: error: {e}")


if __name__ == "__main__":
    main()
