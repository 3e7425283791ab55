"""Real-time factor of a decoding: job-seconds of decoding per second of audio.

    python -m local.decode.rtf DECODE_DIR UTT2NUM_SAMPLES --seconds WALL --jobs N

WALL is the wall-clock time of the N parallel decoding jobs, so the RTF is
WALL * N / audio seconds: what one job (one CPU thread set or one GPU) spends per
second of audio, model loading included (it dominates on tiny test sets).
Writes DECODE_DIR/rtf (`key value` lines) and prints one line.
"""

import argparse
import sys
from pathlib import Path

from fileio.atomic import write_text
from fileio.kaldi_table import DataError, read_table

SAMPLE_RATE = 16000


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("decode_dir")
    parser.add_argument("utt2num_samples")
    parser.add_argument("--seconds", type=float, required=True, help="wall-clock time")
    parser.add_argument("--jobs", type=int, required=True)
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.seconds < 0:
        parser.error("--jobs must be at least 1 and --seconds not negative")
    decode_dir = Path(args.decode_dir)
    try:
        decoded = read_table(decode_dir / "text", allow_empty_value=True)
        samples = read_table(args.utt2num_samples)
        missing = [utt for utt in decoded if utt not in samples]
        if missing:
            raise DataError(f"{args.utt2num_samples}: no length for '{missing[0]}'")
        audio = sum(int(samples[utt]) for utt in decoded) / SAMPLE_RATE
    except (DataError, ValueError) as e:
        sys.exit(f"rtf: error: {e}")
    rtf = args.seconds * args.jobs / audio if audio else float("nan")
    write_text(
        decode_dir / "rtf",
        f"wall_seconds {args.seconds:.1f}\njobs {args.jobs}\n"
        f"audio_seconds {audio:.1f}\nrtf {rtf:.4f}\n",
    )
    print(
        f"{decode_dir}: RTF {rtf:.4f} ({args.jobs} jobs, {args.seconds:.1f} s for "
        f"{audio:.1f} s of audio)"
    )


if __name__ == "__main__":
    main()
