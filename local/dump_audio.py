"""Audio dump (stage 3): every utterance as 16 kHz mono FLAC (or a Kaldi wav ark).

Three steps, so that the middle one runs as an array job (local or Slurm):

    python -m local.dump_audio plan --nj 4 data/train_sp dump/raw/train_sp
    python -m local.dump_audio run --job 3 dump/raw/train_sp          # JOB=1..4
    python -m local.dump_audio finish dump/raw/train_sp [--filter]

`plan` splits the utterances into jobs (a recording's segments stay together, so
long recordings are decoded once) in the work folder dump/raw/train_sp.tmp.
`run` reads each recording (applying reco2speed and segments), resamples other
rates to 16 kHz, keeps the first channel and writes the audio and its
utt2num_samples; a finished job is not redone when the dump is rerun after a
failure. `finish` merges the jobs, drops (with --filter, used for training and
validation sets) utterances shorter or longer than the limits or with empty
text, writes the report and moves the folder into place. Unreadable audio is
skipped and counted, never fatal for the whole set.
"""
import argparse
import collections
import json
import shutil
import sys
from pathlib import Path

import kaldiio
import soundfile

from local.atomic import atomic_file, replace_dir, write_text
from local.audio import SAMPLE_RATE, AudioError, change_speed, read_audio, resample, to_int16
from local.datadir import DataDir, DataError, read_table, write_table

FORMATS = ("flac", "wav", "ark")
# A segment may end this much after its recording (rounding of times) and is kept.
END_TOLERANCE = 0.05


def work_dir_of(out_dir):
    out_dir = Path(out_dir)
    return out_dir.parent / f"{out_dir.name}.tmp"


def plan(data_dir, out_dir, nj, audio_format):
    """Split the work into `nj` jobs; keep finished jobs of an identical earlier plan."""
    data = DataDir.read(data_dir)
    work = work_dir_of(out_dir)
    settings = {"data_dir": str(Path(data_dir).resolve()), "out_dir": str(Path(out_dir).resolve()),
                "nj": nj, "audio_format": audio_format}
    plan_file = work / "plan.json"
    if plan_file.exists() and json.loads(plan_file.read_text()) != settings:
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)

    by_recording = collections.defaultdict(list)
    for utt in data.utterances():
        if "/" in utt:
            raise DataError(f"{data_dir}/utt2spk: utterance id '{utt}' contains '/'")
        by_recording[data.recording_of(utt)].append(utt)
    recordings = sorted(by_recording)
    for job in range(1, nj + 1):
        mine = recordings[job - 1::nj]
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
                write_function="soundfile")

    def write(self, utt, samples):
        """Write int16 samples; return the wav.scp value for the final location."""
        if self.ark is not None:
            self.ark(utt, (SAMPLE_RATE, samples))
            return None  # taken from data.scp when the job closes
        name = f"{utt}.{self.format}"
        soundfile.write(self.job_dir / name, samples, SAMPLE_RATE, subtype="PCM_16",
                        format=self.format.upper())
        return str(self.final_job_dir / name)

    def close(self, wav_scp):
        if self.ark is not None:
            self.ark.close()
            final_ark = self.final_job_dir / "data.ark"
            for utt, value in read_table(self.job_dir / "data.scp").items():
                wav_scp[utt] = f"{final_ark}:{value.rsplit(':', 1)[1]}"


def run_job(out_dir, job):
    work = work_dir_of(out_dir)
    settings = json.loads((work / "plan.json").read_text())
    job_dir = work / "data" / f"format.{job}"
    if (job_dir / ".done").exists():
        print(f"job {job}: already done")
        return
    shutil.rmtree(job_dir, ignore_errors=True)
    job_dir.mkdir(parents=True)
    data = DataDir.read(settings["data_dir"])
    utts = (work / f"keys.{job}").read_text().split()
    final_job_dir = Path(settings["out_dir"]) / "data" / f"format.{job}"
    writer = Writer(job_dir, final_job_dir, settings["audio_format"])

    wav_scp, num_samples, notes, skipped = {}, {}, collections.Counter(), []
    by_recording = collections.defaultdict(list)
    for utt in utts:
        by_recording[data.recording_of(utt)].append(utt)
    for reco, reco_utts in by_recording.items():
        try:
            samples, rate = read_audio(data.wav_scp[reco])
        except AudioError as e:
            skipped += [f"{u}\tunreadable audio\t{e}" for u in reco_utts]
            continue
        if data.reco2speed is not None and float(data.reco2speed.get(reco, 1)) != 1.0:
            samples = change_speed(samples, rate, float(data.reco2speed[reco]))
        if rate != SAMPLE_RATE:
            notes[f"resampled from {rate} Hz"] += len(reco_utts)
            samples = resample(samples, rate, SAMPLE_RATE)
        for utt in reco_utts:
            piece = samples
            if data.segments is not None:
                start, end = (float(t) for t in data.segments[utt].split()[1:3])
                if end > len(samples) / SAMPLE_RATE + END_TOLERANCE or end <= start:
                    skipped.append(f"{utt}\tsegment outside its audio\t{reco} {start} {end}")
                    continue
                piece = samples[int(round(start * SAMPLE_RATE)):int(round(end * SAMPLE_RATE))]
            if len(piece) == 0:
                skipped.append(f"{utt}\tno audio samples\t{data.wav_scp[reco]}")
                continue
            wav_scp[utt] = writer.write(utt, to_int16(piece))
            num_samples[utt] = str(len(piece))
    writer.close(wav_scp)

    write_table(job_dir / "wav.scp", wav_scp)
    write_table(job_dir / "utt2num_samples", num_samples)
    write_text(job_dir / "skipped.txt", "".join(f"{s}\n" for s in skipped))
    write_text(job_dir / "notes.json", json.dumps(dict(notes)))
    (job_dir / ".done").touch()
    print(f"job {job}: {len(wav_scp)} utterances written, {len(skipped)} skipped")


def finish(out_dir, filter_utts, min_duration, max_duration):
    """Merge the jobs into out_dir (atomically) and report what was dropped."""
    work = work_dir_of(out_dir)
    settings = json.loads((work / "plan.json").read_text())
    data = DataDir.read(settings["data_dir"])
    wav_scp, num_samples, notes, skipped = {}, {}, collections.Counter(), []
    for job in range(1, settings["nj"] + 1):
        job_dir = work / "data" / f"format.{job}"
        if not (job_dir / ".done").exists():
            raise DataError(f"{job_dir}: job {job} did not finish")
        wav_scp.update(read_table(job_dir / "wav.scp"))
        num_samples.update(read_table(job_dir / "utt2num_samples"))
        notes.update(json.loads((job_dir / "notes.json").read_text()))
        skipped += (job_dir / "skipped.txt").read_text().splitlines()

    drops = collections.Counter(line.split("\t")[1] for line in skipped)
    keep = []
    for utt in sorted(wav_scp):
        seconds = int(num_samples[utt]) / SAMPLE_RATE
        if filter_utts and seconds < min_duration:
            reason = f"shorter than {min_duration} s"
        elif filter_utts and seconds > max_duration:
            reason = f"longer than {max_duration} s"
        elif filter_utts and not data.text[utt].strip():
            reason = "empty text"
        else:
            keep.append(utt)
            continue
        drops[reason] += 1
        skipped.append(f"{utt}\t{reason}\t{seconds:.2f} s")
    if not keep:
        raise DataError(f"{settings['data_dir']}: no utterance left after the dump "
                        f"(see {work}/data/format.*/skipped.txt)")

    dumped = data.subset(keep)
    dumped.wav_scp = {u: wav_scp[u] for u in keep}
    dumped.segments = dumped.reco2speed = None
    dumped.utt2num_samples = {u: num_samples[u] for u in keep}
    for name in ("plan.json",) + tuple(f"keys.{j}" for j in range(1, settings["nj"] + 1)):
        (work / name).unlink()
    dumped.write_files(work)
    write_text(work / "audio_format", settings["audio_format"] + "\n")
    report = [f"{len(keep)} of {len(data.utt2spk)} utterances, "
              f"{sum(int(n) for n in dumped.utt2num_samples.values()) / SAMPLE_RATE / 3600:.2f} h"]
    report += [f"dropped ({reason}): {n}" for reason, n in sorted(drops.items())]
    report += [f"{note}: {n}" for note, n in sorted(notes.items())]
    write_text(work / "report.txt", "".join(f"{line}\n" for line in report))
    with atomic_file(work / "dropped.txt") as f:
        f.writelines(f"{line}\n" for line in skipped)
    replace_dir(work, out_dir)
    print(f"{out_dir}: " + "; ".join(report))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("plan", help="split the work into jobs")
    p.add_argument("--nj", type=int, default=1)
    p.add_argument("--audio-format", choices=FORMATS, default="flac")
    p.add_argument("data_dir")
    p.add_argument("out_dir")
    p = sub.add_parser("run", help="run one job")
    p.add_argument("--job", type=int, required=True)
    p.add_argument("out_dir")
    p = sub.add_parser("finish", help="merge the jobs, filter and move into place")
    p.add_argument("--filter", action="store_true",
                   help="drop too short/long utterances and empty texts (training sets)")
    p.add_argument("--min-duration", type=float, default=0.1, help="seconds")
    p.add_argument("--max-duration", type=float, default=20.0, help="seconds")
    p.add_argument("out_dir")
    args = parser.parse_args()
    try:
        if args.step == "plan":
            plan(args.data_dir, args.out_dir, args.nj, args.audio_format)
        elif args.step == "run":
            run_job(args.out_dir, args.job)
        else:
            finish(args.out_dir, args.filter, args.min_duration, args.max_duration)
    except DataError as e:
        sys.exit(f"dump_audio: error: {e}")


if __name__ == "__main__":
    main()
