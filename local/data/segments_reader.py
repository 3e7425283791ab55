"""ESPnet data type `segments_sound`: utterances cut on demand from long recordings.

    --train_data_path_and_name_and_type dump/raw/train_s/segments,speech,segments_sound

The path is a Kaldi `segments` file (`<utt> <recording> <start> <end>`, seconds)
whose folder also holds `wav.scp` (`<recording> <path>`). Each utterance is read
by seeking into its recording (soundfile reads Ogg/Opus, FLAC and WAV with
seeking), keeping the first channel and resampling to 16 kHz when needed. This
is how the WenetSpeech recipe trains and decodes without cutting the corpus
into files first. local.runtime.espnet_bin registers the type for the espnet2 commands.
"""

import collections.abc
from pathlib import Path

from fileio.audio import SAMPLE_RATE, read_audio, resample
from fileio.kaldi_table import read_table


class SegmentsReader(collections.abc.Mapping):
    """utt -> (16000, float32 samples in [-1, 1])."""

    def __init__(self, segments_path):
        segments_path = Path(segments_path)
        self.recordings = read_table(segments_path.parent / "wav.scp")
        self.segments = {}
        for utt, value in read_table(segments_path).items():
            recording, start, end = value.split()[:3]
            self.segments[utt] = (recording, float(start), float(end))

    def __getitem__(self, utt):
        recording, start, end = self.segments[utt]
        samples, rate = read_audio(self.recordings[recording], start, end)
        return SAMPLE_RATE, resample(samples, rate, SAMPLE_RATE)

    def __iter__(self):
        return iter(self.segments)

    def __len__(self):
        return len(self.segments)


def segments_sound_loader(path, float_dtype=None, allow_multi_rates=False):
    from espnet2.train.dataset import AdapterForSoundScpReader

    return AdapterForSoundScpReader(SegmentsReader(path), float_dtype, allow_multi_rates)


def register():
    from espnet2.train import dataset

    dataset.DATA_TYPES.setdefault(
        "segments_sound",
        dict(
            func=segments_sound_loader,
            kwargs=["float_dtype", "allow_multi_rates"],
            help="Utterances read on demand from long recordings: a Kaldi segments file "
            "with wav.scp beside it.\n\n   utt_a rec_1 0.00 2.41\n   utt_b rec_1 2.90 5.12",
        ),
    )
