"""ESPnet frontend: a learned weighted sum of every hidden layer of a frozen wav2vec2/HuBERT.

Config (ESPnet YAML):

    frontend: ssl_weighted_sum
    frontend_conf:
        model_path: CHINESE_HUBERT_LARGE   # a folder, or a db.sh name the driver resolves
        upstream_dtype: float32            # float16 / bfloat16: run the frozen model in half
        input_norm: fairseq                # hf: transformers' feature extractor's rule
    freeze_param: [frontend.upstream]

model_path is a Hugging Face folder (config.json, preprocessor_config.json and the
weights), or the config.json of such a folder without weights (a packed model:
frontend.pack): the upstream is then built from its configuration and gets its
weights from the ASR checkpoint, which holds them (frozen parameters are saved too).

What this does that ESPnet's stock S3prlFrontend (through s3prl) does not:
- loads only local Hugging Face folders: a missing preprocessor_config.json is an
  error, never a silent download of someone else's settings;
- normalizes each utterance over its own samples when preprocessor_config.json
  says do_normalize, by fairseq's rule (epsilon 1e-5) as in pretraining, or by
  transformers' (input_norm: hf), whatever the padding of the batch;
- keeps the frozen model in eval mode (no dropout, no masking) and runs it without
  autograd, so training sees the features the model was trained to produce;
- gives every utterance of a padded batch the features it gets alone: layer-norm
  (LARGE) models get an attention mask; group-norm (BASE) models, whose first
  convolution normalizes over the whole input, run their convolutional encoder
  on each utterance unpadded and their transformer with the frames masked;
- runs a batch in groups of similar length (frontend.ssl_forward.length_groups),
  so that little time goes into padding.
The weighted sum is s3prl's Featurizer (softmax over one weight per layer,
hidden_states[0] being the transformer input), so `frontend.featurizer.weights`
holds the layer weights as in ESPnet's S3PRL frontend.
"""

import contextlib
import types
from pathlib import Path

import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend
from s3prl.nn import Featurizer

from frontend.ssl_forward import INPUT_NORMS, hidden_states, normalize

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def architecture_only(model_path):
    """True when model_path names a config.json (weights from the ASR checkpoint)."""
    return Path(model_path).name == "config.json"


def load_upstream(model_path):
    """(model, feature extractor) from a local Hugging Face folder, or from the
    config.json of one (then the model's weights are left uninitialized)."""
    from transformers import AutoConfig, AutoFeatureExtractor, AutoModel

    from frontend.models import check_hf_folder

    if architecture_only(model_path):
        folder = Path(model_path).parent
        check_hf_folder(folder, weights=False)
        extractor = AutoFeatureExtractor.from_pretrained(folder, local_files_only=True)
        config = AutoConfig.from_pretrained(folder, local_files_only=True)
        with no_init_weights():
            model = AutoModel.from_config(config)
        return model, extractor
    check_hf_folder(model_path)
    extractor = AutoFeatureExtractor.from_pretrained(model_path, local_files_only=True)
    model = AutoModel.from_pretrained(model_path, local_files_only=True)
    return model, extractor


def no_init_weights():
    """A context in which transformers skips the random initialization (the weights
    are loaded right after), or a no-op where transformers lacks it."""
    try:
        from transformers.modeling_utils import no_init_weights as skip
    except ImportError:
        return contextlib.nullcontext()
    return skip()


class WeightedSumFrontend(AbsFrontend):
    def __init__(
        self,
        model_path: str,
        fs=16000,
        upstream_dtype: str = "float32",
        layer_norm: bool = False,
        input_norm: str = "fairseq",
    ):
        super().__init__()
        if str(fs) not in ("16000", "16k"):
            raise ValueError(f"the SSL models take 16 kHz audio, not fs={fs}")
        if upstream_dtype not in DTYPES:
            raise ValueError(f"upstream_dtype must be one of {list(DTYPES)}")
        if input_norm not in INPUT_NORMS:
            raise ValueError(f"input_norm must be one of {list(INPUT_NORMS)}, not {input_norm!r}")
        self.model_path = model_path
        self.input_norm = input_norm
        self.upstream, extractor = load_upstream(model_path)
        self.do_normalize = bool(extractor.do_normalize)
        self.upstream_dtype = DTYPES[upstream_dtype]
        self.upstream.to(self.upstream_dtype)
        for parameter in self.upstream.parameters():
            parameter.requires_grad_(False)
        self.upstream.eval()
        config = self.upstream.config
        shape = types.SimpleNamespace(  # what Featurizer reads from an s3prl upstream
            hidden_sizes=[config.hidden_size] * (config.num_hidden_layers + 1),
            downsample_rates=[320] * (config.num_hidden_layers + 1),
            num_layers=config.num_hidden_layers + 1,
        )
        self.featurizer = Featurizer(shape, normalize=layer_norm)

    def output_size(self):
        return self.featurizer.output_size

    def train(self, mode=True):
        super().train(mode)
        self.upstream.eval()  # frozen: always as in inference
        return self

    def reload_pretrained_parameters(self):
        """Called by ESPnet after it (re)initializes the network's parameters."""
        if architecture_only(self.model_path):
            return  # the weights come with the ASR checkpoint
        model, _ = load_upstream(self.model_path)
        self.upstream.load_state_dict(model.state_dict())

    def forward(self, input, input_lengths):
        with torch.no_grad():
            wav = normalize(input.float(), input_lengths, self.do_normalize, self.input_norm)
            wav = wav.to(self.upstream_dtype)
            states, frame_lengths = hidden_states(self.upstream, wav, input_lengths)
            states = [s.float() for s in states]
        feats, feats_lens = self.featurizer(states, [frame_lengths] * len(states))
        return feats, feats_lens
