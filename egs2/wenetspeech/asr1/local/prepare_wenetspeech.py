#!/usr/bin/env python3
"""Prepare WenetSpeech as distributed into Kaldi data directories, streaming the JSON.

    $WENETSPEECH/WenetSpeech.json      {"audios": [{"aid", "path", "duration",
                                         "segments": [{"sid", "begin_time", "end_time",
                                                       "text", "confidence", "subsets"}]}]}
    $WENETSPEECH/audio/...              long 16 kHz Ogg/Opus recordings (path: relative to the JSON)

Subset tags S, M, L, W give data/train_{s,m,l,w} (only the requested one);
DEV, TEST_NET, TEST_MEETING give data/dev, data/test_net, data/test_meeting. A
segment goes to every wanted set whose tag it carries. Each set gets wav.scp
(recordings), segments, text (normalized: local.data.text_norm.normalize_mandarin),
utt2spk and spk2utt (every utterance is its own speaker, as in ESPnet's recipe).

The JSON is read as a stream: memory does not grow with the number of segments.
When it is laid out as the distributed WenetSpeech.json is, blocks of whole
audio entries are parsed by orjson, in parallel byte ranges for a large file
(local/json_entries.py); otherwise, or when a block does not parse, by the event
parser ijson, which names what is wrong. The tables are sorted on disk (sort(1)).
Bad input is counted by reason (local/wenetspeech_entries.py), listed in
data/local/wenetspeech/dropped.txt and reported at the end, and never stops the
whole corpus: missing or unreadable audio, a segment past the end of its audio
or with bad times, empty text, an unknown subset tag, a duplicate sid.
"""

import argparse
import codecs
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import ijson

from fileio.atomic import (
    OWNER_FILE,
    OutputError,
    check_output_dir,
    replace_dir,
    terminate_cleanly,
    write_text,
)
from fileio.kaldi_table import DataError

# This recipe's own modules (json_entries, wenetspeech_entries) lie beside this script.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import json_entries
from wenetspeech_entries import (
    KNOWN_TAGS,
    SET_OF_TAG,
    Report,
    audio_fields,
    collect_segment,
)

EVAL_TAGS = ("DEV", "TEST_NET", "TEST_MEETING")
END_TOLERANCE = 0.05  # seconds a segment may end after its audio (rounding of times)
TOOL = "prepare_wenetspeech.py"  # the marker of the folders it writes (fileio.atomic)


def stream_audios(json_path):
    """The audio entries of the JSON, by the event parser (any layout)."""
    with open(json_path, "rb") as f:
        if f.read(3) != codecs.BOM_UTF8:  # a byte order mark is allowed, as json.load does
            f.seek(0)
        try:
            yield from ijson.items(f, "audios.item", use_float=True)
        except ijson.JSONError as e:
            raise DataError(
                f"{json_path}: invalid JSON (read up to byte {f.tell()}): {e}"
            ) from None


def audio_spans(json_path, parts):
    """Byte spans of whole audio entries for json_entries.read_span, `parts` of
    them at most; None when the file is not laid out as WenetSpeech.json is."""
    span = json_entries.array_span(json_path, "audios", "aid")
    if span is None:
        return None
    try:
        return json_entries.split_span(json_path, span, parts, "aid")
    except json_entries.BrokenLayout:
        return None


def chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def collect_in_parts(
    json_path, wanted_tags, work, report, check_audio, nj, parts, min_bytes=64 << 20
):
    """collect() over byte spans of the JSON (`parts` processes in parallel when the
    file has min_bytes or more), merged in order: the same outputs as one pass of
    the event parser. Falls back to that pass when the layout is not recognized,
    a span does not parse, or an aid is in two spans (the event parser then
    reports exactly what is wrong). Returns the number of spans read, 0 for the
    event parser."""
    if json_path.stat().st_size < min_bytes:
        parts = 1
    spans = audio_spans(json_path, parts)
    if spans is not None:
        dirs = [work / f"part{k}" for k in range(len(spans))]
        jobs = [
            (json_path, wanted_tags, d, check_audio, max(1, nj // len(spans)), span)
            for d, span in zip(dirs, spans)
        ]
        try:
            if len(jobs) == 1:
                results = [collect_part(jobs[0])]
            else:
                with ProcessPoolExecutor(len(jobs)) as pool:
                    results = list(pool.map(collect_part, jobs))
        except json_entries.BrokenLayout:
            results = None
        aids = [aid for _, part_aids in results or [] for aid in part_aids]
        if results is not None and len(aids) == len(set(aids)):
            for part_report, _ in results:
                report.add(part_report)
            concatenate_parts(dirs, work, [SET_OF_TAG[tag] for tag in wanted_tags])
            return len(spans)
        for d in dirs:
            shutil.rmtree(d, ignore_errors=True)
    collect(json_path, wanted_tags, work, report, check_audio, nj)
    return 0


def concatenate_parts(dirs, work, names):
    """work/<set>.tsv and work/<set>.wav.scp from those of the parts, in order."""
    for name in names:
        for suffix in (".tsv", ".wav.scp"):
            with open(work / f"{name}{suffix}", "wb") as out:
                for d in dirs:
                    with open(d / f"{name}{suffix}", "rb") as f:
                        shutil.copyfileobj(f, out)
    for d in dirs:
        shutil.rmtree(d)


def collect_part(job):
    json_path, wanted_tags, work, check_audio, nj, byte_range = job
    work.mkdir()
    report, seen_aids = Report(), set()
    collect(json_path, wanted_tags, work, report, check_audio, nj, byte_range, seen_aids)
    return report, seen_aids


def collect(
    json_path, wanted_tags, work, report, check_audio=True, nj=1, byte_range=None, seen_aids=None
):
    """Write every wanted segment as 'sid TAB aid TAB begin TAB end TAB text' to
    work/<set>.tsv (unsorted) and every used recording to work/<set>.wav.scp.
    Audio files are checked nj at a time, a few hundred recordings ahead."""
    wanted_tags = frozenset(wanted_tags)
    outputs = {
        tag: open(work / f"{SET_OF_TAG[tag]}.tsv", "w", encoding="utf-8") for tag in wanted_tags
    }
    recordings = {
        tag: open(work / f"{SET_OF_TAG[tag]}.wav.scp", "w", encoding="utf-8") for tag in wanted_tags
    }
    pool = ThreadPoolExecutor(max_workers=nj)
    try:
        # only the wanted lines of a few hundred recordings are held, never their JSON
        recordings_wanted = wanted_recordings(
            json_path, wanted_tags, report, byte_range, set() if seen_aids is None else seen_aids
        )
        for wanted in chunks(recordings_wanted, 256):
            if check_audio:
                probes = pool.map(probe_audio, [path for _, path, _, _ in wanted])
            else:  # trust the JSON
                probes = [(duration, 16000, None) for _, _, duration, _ in wanted]
            for (aid, path, _, lines), probe in zip(wanted, probes):
                write_audio_lines(aid, path, probe, lines, outputs, recordings, report)
    finally:
        pool.shutdown()
        for f in list(outputs.values()) + list(recordings.values()):
            f.close()


def wanted_recordings(json_path, wanted_tags, report, byte_range, seen_aids):
    """(aid, path, JSON duration, {tag: [(sid, begin, end, line)]}) of every recording
    with segments in a wanted set, one at a time."""
    corpus = json_path.parent
    audios = (
        stream_audios(json_path)
        if byte_range is None
        else json_entries.read_span(json_path, byte_range, "aid")
    )
    for audio in audios:
        try:
            aid, rel_path, duration, segments = audio_fields(audio)
        except ValueError as e:
            report.drop("malformed audio entry", f"{e}: {str(audio)[:80]}")
            continue
        if aid in seen_aids:
            report.drop("duplicate aid", aid, len(segments))
            continue
        seen_aids.add(aid)
        lines = collections.defaultdict(list)
        for segment in segments:
            # most segments belong to no wanted set: skip them at once
            try:
                tags = segment.get("subsets")
                if (
                    type(tags) is list
                    and tags
                    and wanted_tags.isdisjoint(tags)
                    and KNOWN_TAGS.issuperset(tags)
                ):
                    continue
            except (AttributeError, TypeError):  # not a dict, unhashable tags: checked below
                pass
            collect_segment(segment, aid, wanted_tags, lines, report)
        if lines:
            yield aid, (corpus / rel_path).resolve(), duration, lines


def probe_audio(path):
    """(seconds, sample rate, None) of an audio file, or (0, 0, (reason, detail))."""
    if not path.is_file():
        return 0, 0, ("missing audio", "")
    try:
        import soundfile  # only when the audio is checked: it costs 0.3 s to import

        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as e:
        return 0, 0, ("unreadable audio", str(e).splitlines()[0])
    return info.frames / info.samplerate, info.samplerate, None


def write_audio_lines(aid, path, probe, lines, outputs, recordings, report):
    """Write one recording's segments, unless its audio cannot be used."""
    duration, rate, problem = probe
    if problem:
        report.drop(
            problem[0], f"{aid} {path} {problem[1]}".rstrip(), sum(len(v) for v in lines.values())
        )
        return
    if rate != 16000:
        report.counts[f"audio at {rate} Hz (resampled when read)"] += 1
    for tag, tag_lines in lines.items():
        kept = 0
        for sid, _begin, end, line in tag_lines:
            if end > duration + END_TOLERANCE:
                report.drop(
                    "segment past the end of its audio",
                    f"{sid} ends at {end} s, {aid} has {duration:.2f} s",
                )
                continue
            outputs[tag].write(line)
            kept += 1
        if kept:
            recordings[tag].write(f"{aid} {path}\n")


def sort_file(path, work):
    """Sort a file by its first tab-separated field on disk (stable), in place."""
    env = dict(os.environ, LC_ALL="C")
    subprocess.run(
        [
            "sort",
            "-s",
            "-t",
            "\t",
            "-k1,1",
            "-S",
            "32M",
            "-T",
            str(work),
            "-o",
            str(path),
            str(path),
        ],
        check=True,
        env=env,
    )


def write_set(name, work):
    """work/sets/<name>, a data directory from the collected lines: sorted, one line
    per sid (first kept). Returns (utterances, seconds, report of the duplicates)."""
    report = Report()
    tsv = work / f"{name}.tsv"
    sort_file(tsv, work)
    tmp = work / "sets" / name
    tmp.mkdir(parents=True)
    n, seconds, previous, used = 0, 0.0, None, set()
    with (
        open(tsv, encoding="utf-8") as lines,
        open(tmp / "segments", "w", encoding="utf-8") as segments,
        open(tmp / "text", "w", encoding="utf-8") as text,
        open(tmp / "utt2spk", "w", encoding="utf-8") as utt2spk,
    ):
        for line in lines:
            sid, aid, begin, end, words = line.rstrip("\n").split("\t", 4)
            if sid == previous:
                report.drop("duplicate sid", f"{sid} (in {name})")
                continue
            previous = sid
            segments.write(f"{sid} {aid} {begin} {end}\n")
            used.add(aid)
            text.write(f"{sid} {words}\n")
            utt2spk.write(f"{sid} {sid}\n")
            n += 1
            seconds += float(end) - float(begin)
    shutil.copyfile(tmp / "utt2spk", tmp / "spk2utt")
    scp = work / f"{name}.wav.scp"
    sort_file(scp, work)
    with (
        open(scp, encoding="utf-8") as recordings,
        open(tmp / "wav.scp", "w", encoding="utf-8") as wav_scp,
    ):
        wav_scp.writelines(line for line in recordings if line.split(" ", 1)[0] in used)
    return n, seconds, report


def prepare(
    corpus,
    out_dir,
    train_subset="S",
    check_audio=True,
    nj=4,
    log=print,
    parse_jobs=1,
    split_min_mb=64,
):
    corpus = Path(corpus)
    json_path = corpus / "WenetSpeech.json"
    for needed, is_right_kind, kind in (
        (json_path, Path.is_file, "file"),
        (corpus / "audio", Path.is_dir, "folder"),
    ):
        if not is_right_kind(needed):
            what = f"not a {kind}" if needed.exists() else "not found"
            raise DataError(
                f"{needed}: {what}. Set WENETSPEECH (db.sh or the environment) to "
                "the folder holding WenetSpeech.json and audio/ "
                "(https://wenet.org.cn/WenetSpeech/)"
            )
    wanted = (train_subset,) + EVAL_TAGS
    out_dir = Path(out_dir)
    for tag in wanted:  # refused now rather than after reading the whole JSON
        check_output_dir(out_dir / SET_OF_TAG[tag], TOOL)
    out_dir.mkdir(parents=True, exist_ok=True)
    report = Report()
    for stale in out_dir.glob(".wenetspeech.*"):  # left by a run that was killed (kill -9)
        if stale.is_dir() and re.fullmatch(r"\.wenetspeech\.[a-z0-9_]{8}", stale.name):
            shutil.rmtree(stale, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix=".wenetspeech.", dir=out_dir))
    try:
        parts = collect_in_parts(
            json_path, wanted, work, report, check_audio, nj, parse_jobs, split_min_mb << 20
        )
        log(
            f"{json_path.name}: "
            + (
                f"read in {parts} part{'s' if parts > 1 else ''}"
                if parts
                else "read by the event parser (not laid out as distributed)"
            )
        )
        names = [SET_OF_TAG[tag] for tag in wanted]
        if parse_jobs > 1:  # the sets in parallel
            with ProcessPoolExecutor(min(parse_jobs, len(names))) as pool:
                written = list(pool.map(write_set, names, [work] * len(names)))
        else:
            written = [write_set(name, work) for name in names]
        sizes = {}
        for name, (n, seconds, set_report) in zip(names, written):
            sizes[name] = n, seconds
            report.add(set_report)
        for name, (n, seconds) in sizes.items():
            log(f"{name}: {n} utterances, {seconds / 3600:.2f} h")
        dropped = sum(n for reason, n in report.counts.items() if not reason.startswith("audio at"))
        log(f"left out {dropped} segments (and audio entries)")
        for reason, n in sorted(report.counts.items()):
            log(f"  {reason}: {n}")
        write_text(
            out_dir / "local" / "wenetspeech" / "dropped.txt",
            "".join(f"{item}\n" for item in report.items),
        )
        empty = [name for name, (n, _) in sizes.items() if n == 0]
        if len(empty) == len(names) and not report.counts:
            raise DataError(
                f'{json_path}: no audio entry with segments (an "audios" array of '
                'objects with "segments" is expected)'
            )
        if empty:  # all sets or none: no mix of this run's sets and an earlier run's
            raise DataError(
                f"no usable segment for {', '.join(empty)} (see "
                f"{out_dir / 'local/wenetspeech/dropped.txt'}); no set written"
            )
        for name in names:
            check_output_dir(out_dir / name, TOOL)
        for name in names:
            (work / "sets" / name / OWNER_FILE).write_text(TOOL + "\n", encoding="utf-8")
            replace_dir(work / "sets" / name, out_dir / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return sizes, report.counts


def positive(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: not a positive number")
    return value


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", help="folder holding WenetSpeech.json and audio/ ($WENETSPEECH)")
    parser.add_argument("out_dir", nargs="?", default="data")
    parser.add_argument(
        "--set",
        default="S",
        choices=["S", "M", "L", "W"],
        help="training subset (default: %(default)s, 100 h)",
    )
    parser.add_argument("--nj", type=positive, default=4, help="audio files checked in parallel")
    parser.add_argument(
        "--parse-jobs",
        type=positive,
        default=min(2, os.cpu_count() or 1),
        help="processes parsing parts of a large JSON (default: %(default)s)",
    )
    parser.add_argument(
        "--split-min-mb",
        type=int,
        default=64,
        help="a JSON smaller than this is parsed in one piece (default: %(default)s)",
    )
    parser.add_argument(
        "--check-audio",
        default="true",
        choices=["true", "false"],
        help="open every used recording (missing/unreadable audio, segments "
        "past its end); false trusts the JSON durations",
    )
    args = parser.parse_args()
    terminate_cleanly()  # a job runner's SIGTERM removes temporary outputs too
    try:
        prepare(
            args.corpus,
            args.out_dir,
            args.set,
            args.check_audio == "true",
            args.nj,
            parse_jobs=args.parse_jobs,
            split_min_mb=args.split_min_mb,
        )
    except (DataError, OutputError) as e:
        sys.exit(f"prepare_wenetspeech.py: error: {e}")


if __name__ == "__main__":
    main()
