"""Speed perturbation of a data directory (stage 2), Kaldi-compatible.

    python -m local.data.speed_perturb --factors "0.9 1.0 1.1" data/train data/train_sp

For every factor other than 1.0, each utterance, speaker and recording gets a
copy with the prefix `sp<factor>-` (e.g. `sp0.9-BAC009S0002W0122`, speaker
`sp0.9-S0002`), as Kaldi's perturb_data_dir_speed.sh names them; factor 1.0
keeps the original ids. No audio is written here: `reco2speed` records each
recording's factor and the dump stage (local.data.dump_audio) applies it with
fileio.audio.change_speed, which changes tempo and pitch together like
`sox speed`. Segment times are divided by the factor.
"""

import argparse
import sys

from fileio.atomic import OutputError, terminate_cleanly
from fileio.kaldi_table import DataError
from local.data.datadir import SPEED_RANGE, DataDir

TOOL = "local.data.speed_perturb"  # the marker of the folders it writes (fileio.atomic)


def perturbed_copy(data, factor):
    """The data directory as heard at `factor` times the original speed."""
    if factor == 1.0:
        return data
    prefix = f"sp{factor:g}-"
    rename = lambda table: {prefix + k: v for k, v in table.items()}
    old_speed = data.reco2speed or {}
    reco2speed = {prefix + r: f"{float(old_speed.get(r, 1.0)) * factor:g}" for r in data.wav_scp}
    segments = None
    if data.segments is not None:
        segments = {}
        for utt, value in data.segments.items():
            reco, start, end = value.split()[:3]
            segments[prefix + utt] = (
                f"{prefix}{reco} {float(start) / factor:.3f} {float(end) / factor:.3f}"
            )
    return DataDir(
        wav_scp=rename(data.wav_scp),
        text=rename(data.text),
        utt2spk={prefix + u: prefix + s for u, s in data.utt2spk.items()},
        segments=segments,
        reco2speed=reco2speed,
    )


def combine(parts):
    """One data directory holding all parts (their keys are disjoint)."""
    merged = {}
    for name in ("wav_scp", "text", "utt2spk", "segments", "reco2speed"):
        tables = [getattr(p, name) for p in parts]
        if name in ("segments", "reco2speed") and all(t is None for t in tables):
            merged[name] = None
            continue
        merged[name] = {}
        for part, table in zip(parts, tables):
            if table is None and name == "reco2speed":
                table = {r: "1" for r in part.wav_scp}
            merged[name].update(table or {})
    return DataDir(**merged)


def parse_factors(text):
    """The speed factors of --factors: numbers in datadir.SPEED_RANGE whose id prefixes
    (sp<factor>-) differ."""
    try:
        factors = [float(f) for f in text.split()]
    except ValueError:
        factors = []
    prefixes = {f"{f:g}" for f in factors}
    if (
        not factors
        or not all(SPEED_RANGE[0] <= f <= SPEED_RANGE[1] for f in factors)
        or len(prefixes) != len(factors)
    ):
        low, high = SPEED_RANGE
        raise DataError(
            f"--factors '{text}': need distinct numbers from {low:g} to {high:g} "
            "(as %g, they name the copies: sp0.9-<utt>)"
        )
    return factors


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--factors",
        default="0.9 1.0 1.1",
        help="space-separated speed factors (default: %(default)s)",
    )
    parser.add_argument("src", help="input data directory")
    parser.add_argument("dst", help="output data directory (replaced atomically)")
    args = parser.parse_args()
    terminate_cleanly()  # a job runner's SIGTERM removes temporary outputs too
    try:
        factors = parse_factors(args.factors)
        data = DataDir.read(args.src)
        combine([perturbed_copy(data, f) for f in factors]).write(args.dst, TOOL, [args.src])
    except (DataError, OutputError, ValueError) as e:
        sys.exit(f"speed_perturb: error: {e}")
    print(f"{args.dst}: {len(data.utt2spk)} x {len(factors)} utterances (factors {args.factors})")


if __name__ == "__main__":
    main()
