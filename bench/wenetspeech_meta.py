"""Benchmark: WenetSpeech metadata preparation, streaming (ours) against json.load.

    python bench/wenetspeech_meta.py [--segments 1000000]

Writes a synthetic WenetSpeech.json (2,000 recordings, --segments segments with
every field, realistic tags and Chinese/English texts), then prepares train_s,
dev, test_net and test_meeting twice, each in its own process: with our
streaming preparation (egs2/wenetspeech/asr1/local/prepare_wenetspeech.py) and
with a whole-file json.load implementation of the same output (below). Both skip
opening the audio (--check-audio false: the files do not exist), and the outputs
are checked to be identical. Prints time and peak RSS of each; last line
`ratio=<ours/baseline time> rss_ratio=<ours/baseline peak RSS>` (goals 0.5, 0.2).
Peak RSS is the most a process tree held at once: parallel workers count together.
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "egs2/wenetspeech/asr1/local/prepare_wenetspeech.py"
CHARS = (
    "的一是了我不人在他有这个上们来到时大地为子中你说生国年着就那和要她出也得里后自以"
    "会家可下而过天去能对小多然于心学么之都好看起发当没成只如事把还用第样道想作种开美"
    "总从无情己面最女但现前些所同日手又行意动方期它头经长儿回位分爱老因很给名法间斯知"
    "世什两次使身者被高已亲其进此话常与活正感"
)
ENGLISH = ["iPhone", "OK", "Mac Book", "hello world", "YouTube"]


def synthetic_json(path, n_segments, n_audios=2000, seed=0):
    """Write the JSON audio by audio (never the whole document in memory)."""
    rng = random.Random(seed)
    per_audio = n_segments // n_audios
    with open(path, "w", encoding="utf-8") as f:
        f.write(
            '{"dataset": "WenetSpeech", "language": "Chinese", "version": "v1.0", "audios": [\n'
        )
        for a in range(n_audios):
            kind = rng.random()
            if kind < 0.02:
                prefix, split, tags = "DEV_T", "dev/third_party", ["DEV"]
            elif kind < 0.04:
                prefix, split, tags = "TEST_NET_Y", "test_net/youtube", ["TEST_NET"]
            elif kind < 0.05:
                prefix, split, tags = "TEST_MEETING_T", "test_meeting/third_party", ["TEST_MEETING"]
            else:
                prefix, split, tags = "Y", "train/youtube", None
            aid = f"{prefix}{a:010d}"
            segments, t = [], 0.0
            for s in range(per_audio):
                begin = round(t + rng.uniform(0.1, 1.0), 2)
                end = round(begin + rng.uniform(0.5, 6.0), 2)
                t = end
                text = "".join(rng.choice(CHARS) for _ in range(rng.randint(2, 20)))
                if rng.random() < 0.05:
                    text = text[:3] + " " + rng.choice(ENGLISH) + " " + text[3:]
                subsets = tags or rng.choice(
                    [["L"], ["L"], ["L"], ["M", "L"], ["S", "M", "L"], ["W"]]
                )
                segments.append(
                    {
                        "sid": f"{aid}_S{s:05d}",
                        "confidence": 1.0,
                        "begin_time": begin,
                        "end_time": end,
                        "subsets": subsets,
                        "text": text,
                    }
                )
            audio = {
                "aid": aid,
                "duration": round(t + 1.0, 2),
                "md5": "%032x" % rng.getrandbits(128),
                "path": f"audio/{split}/B00000/{aid}.opus",
                "source": "youtube",
                "tags": ["drama"],
                "url": f"https://example.invalid/{aid}",
                "segments": segments,
            }
            f.write(json.dumps(audio, ensure_ascii=False))
            f.write(",\n" if a < n_audios - 1 else "\n")
        f.write("]}\n")


def baseline(corpus, out_dir):
    """The same output, the way peer recipes read the metadata: json.load of the
    whole file, every set gathered in memory, sorted and written at the end."""
    sys.path.insert(0, str(ROOT))
    from local.data.text_norm import normalize_mandarin

    wanted = {"S": "train_s", "DEV": "dev", "TEST_NET": "test_net", "TEST_MEETING": "test_meeting"}
    with open(Path(corpus) / "WenetSpeech.json", encoding="utf-8") as f:
        document = json.load(f)
    sets = {name: {} for name in wanted.values()}
    recordings = {name: {} for name in wanted.values()}
    for audio in document["audios"]:
        path = (Path(corpus) / audio["path"]).resolve()
        for segment in audio["segments"]:
            begin, end = float(segment["begin_time"]), float(segment["end_time"])
            text = normalize_mandarin(segment["text"])
            if not text or not 0 <= begin < end or end > audio["duration"] + 0.05:
                continue
            for tag in segment["subsets"]:
                if tag in wanted:
                    sets[wanted[tag]].setdefault(segment["sid"], (audio["aid"], begin, end, text))
                    recordings[wanted[tag]][audio["aid"]] = path
    for name, utts in sets.items():
        folder = Path(out_dir) / name
        folder.mkdir(parents=True)
        keys = sorted(utts)
        with (
            open(folder / "segments", "w", encoding="utf-8") as seg,
            open(folder / "text", "w", encoding="utf-8") as txt,
            open(folder / "utt2spk", "w", encoding="utf-8") as u2s,
        ):
            for sid in keys:
                aid, begin, end, text = utts[sid]
                seg.write(f"{sid} {aid} {begin:.3f} {end:.3f}\n")
                txt.write(f"{sid} {text}\n")
                u2s.write(f"{sid} {sid}\n")
        (folder / "spk2utt").write_text(
            (folder / "utt2spk").read_text(encoding="utf-8"), encoding="utf-8"
        )
        with open(folder / "wav.scp", "w", encoding="utf-8") as scp:
            for aid in sorted(recordings[name]):
                scp.write(f"{aid} {recordings[name][aid]}\n")


def tree_memory_kb(pid):
    """(sum of VmRSS, largest VmHWM) in kB over a process and its descendants alive
    now (Linux /proc; pages shared after fork count in every process)."""
    rss = hwm = 0
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                fields = dict(line.split(":", 1) for line in f if line.startswith("Vm"))
            rss += int(fields["VmRSS"].split()[0])
            hwm = max(hwm, int(fields["VmHWM"].split()[0]))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError, KeyError):
            continue  # ended meanwhile
    return rss, hwm


def measure(command):
    """(seconds, peak RSS in MB) of a command. The peak is the most its process tree
    held at once (the sum over the processes alive, sampled every 20 ms) or the
    peak of its largest process, whichever is more: parallel workers count
    together."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, env=env)
    peak_kb = 0
    while proc.poll() is None:
        peak_kb = max(peak_kb, *tree_memory_kb(proc.pid))
        time.sleep(0.02)
    seconds = time.perf_counter() - start
    if proc.returncode:
        sys.exit(f"{' '.join(map(str, command))}: exit status {proc.returncode}")
    return seconds, peak_kb / 1024


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--segments", type=int, default=1_000_000)
    parser.add_argument("--baseline-worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_worker:
        baseline(*args.baseline_worker)
        return
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        (corpus / "audio").mkdir(parents=True)
        start = time.perf_counter()
        synthetic_json(corpus / "WenetSpeech.json", args.segments)
        size = (corpus / "WenetSpeech.json").stat().st_size
        print(
            f"WenetSpeech.json: {args.segments} segments, {size / 1e6:.0f} MB "
            f"(written in {time.perf_counter() - start:.0f} s)"
        )
        base_time, base_rss = measure(
            [
                sys.executable,
                __file__,
                "--baseline-worker",
                str(corpus),
                str(Path(tmp) / "baseline"),
            ]
        )
        ours_time, ours_rss = measure(
            [
                sys.executable,
                str(SCRIPT),
                str(corpus),
                str(Path(tmp) / "ours"),
                "--set",
                "S",
                "--check-audio",
                "false",
            ]
        )
        for name in ("train_s", "dev", "test_net", "test_meeting"):
            for table in ("segments", "text", "utt2spk", "spk2utt", "wav.scp"):
                a = (Path(tmp) / "baseline" / name / table).read_bytes()
                b = (Path(tmp) / "ours" / name / table).read_bytes()
                if a != b:
                    sys.exit(f"outputs differ: {name}/{table}")
        n_lines = sum(1 for _ in open(Path(tmp) / "ours/train_s/segments", encoding="utf-8"))
        print(f"identical outputs (train_s: {n_lines} utterances)")
    print(f"baseline (json.load): {base_time:.1f} s, peak RSS {base_rss:.0f} MB")
    print(f"ours (streaming):     {ours_time:.1f} s, peak RSS {ours_rss:.0f} MB")
    print(f"ratio={ours_time / base_time:.3f} rss_ratio={ours_rss / base_rss:.3f}")


if __name__ == "__main__":
    main()
