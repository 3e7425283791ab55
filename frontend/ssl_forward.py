"""The frozen SSL model's forward pass shared by the ESPnet frontend and
frontend.extract: the waveform normalized as in pretraining, and all hidden states
with each utterance's features independent of its batch.

Input normalization (when the model's preprocessor_config.json says do_normalize,
i.e. the LARGE models, pretrained with fairseq's task.normalize=True), per utterance
over its own samples:
  fairseq  F.layer_norm(wav, wav.shape): zero mean, unit variance, epsilon 1e-5, as
           fairseq's datasets (and s3prl's fairseq upstreams) fed the models in
           pretraining and fine-tuning. The default.
  hf       (wav - mean) / sqrt(var + 1e-7), as transformers' Wav2Vec2FeatureExtractor.
The two agree on loud audio; on quiet audio (RMS 0.005) they scale the input 18 %
apart and the middle layers differ visibly, so the default follows pretraining.

Only torch is imported here (s3prl and espnet are slow to import: their times in
bench/README.md), so the extraction command starts quickly.
"""

import torch
import torch.nn.functional as F

INPUT_NORMS = ("fairseq", "hf")
HF_EPSILON = 1e-7  # transformers' Wav2Vec2FeatureExtractor.zero_mean_unit_var_norm


def normalize(wav, lengths, do_normalize, rule="fairseq"):
    """Each utterance (row of `wav`, `lengths[i]` valid samples) normalized over its
    own samples by `rule` (see the module docstring) when do_normalize; padding is 0."""
    if rule not in INPUT_NORMS:
        raise ValueError(f"input normalization '{rule}': one of {', '.join(INPUT_NORMS)}")
    if not do_normalize:
        valid = torch.arange(wav.shape[1], device=wav.device)[None, :] < lengths[:, None]
        return wav * valid
    out = torch.zeros_like(wav)
    for i, n in enumerate(lengths.tolist()):
        x = wav[i, :n]
        if rule == "fairseq":
            out[i, :n] = F.layer_norm(x, x.shape)
        else:
            out[i, :n] = (x - x.mean()) / torch.sqrt(x.var(unbiased=False) + HF_EPSILON)
    return out


def length_groups(lengths, max_padding):
    """Indices of the utterances, longest first, in groups whose padded length
    (group size x its longest) exceeds their total length by at most max_padding
    (a fraction): the forward pass then spends little on padding."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    groups = []
    for i in order:
        if groups:
            group = groups[-1]
            total = sum(lengths[j] for j in group) + lengths[i]
            if lengths[group[0]] * (len(group) + 1) <= (1 + max_padding) * total:
                group.append(i)
                continue
        groups.append([i])
    return groups


def default_max_padding(device):
    """CPUs gain nothing from batching padded rows: each length runs alone there;
    on a GPU a group may carry 25 % padding to keep its batches large."""
    return 0.0 if torch.device(device).type == "cpu" else 0.25


def hidden_states(model, wav, lengths, max_padding=None):
    """All hidden states (the transformer input first), each [batch, frames, dim]
    (frames past an utterance's count hold no meaning), and the frame counts.

    The batch runs in groups of similar length (length_groups), so that padding
    costs little; inside a group the convolutions run on the padded group
    (group-norm (BASE) models normalize the first convolution's output over each
    utterance's own frames) and the transformer gets an attention mask where the
    group is padded: every utterance gets the features it gets alone."""
    if max_padding is None:
        max_padding = default_max_padding(wav.device)
    frame_lengths = model._get_feat_extract_output_lengths(lengths).to(lengths.dtype)
    groups = length_groups([int(n) for n in lengths], max_padding)
    if len(groups) == 1:
        return _group_states(model, wav, lengths, frame_lengths), frame_lengths
    frames = int(frame_lengths.max())
    out = None
    for group in groups:
        index = torch.tensor(group, device=wav.device)
        samples = int(lengths[group[0]])
        states = _group_states(model, wav[index, :samples], lengths[index], frame_lengths[index])
        if out is None:
            out = [s.new_zeros(len(lengths), frames, s.shape[-1]) for s in states]
        for full, part in zip(out, states):
            full[index, : part.shape[1]] = part
    return tuple(out), frame_lengths


def _group_states(model, wav, lengths, frame_lengths):
    conv = conv_features(model, wav, lengths)
    projected = model.feature_projection(conv.transpose(1, 2))
    hidden = projected[0] if isinstance(projected, tuple) else projected
    mask = None
    if bool((frame_lengths < hidden.shape[1]).any()):
        mask = torch.arange(hidden.shape[1], device=hidden.device)[None, :] < frame_lengths[:, None]
    return model.encoder(hidden, attention_mask=mask, output_hidden_states=True).hidden_states


def conv_features(model, wav, lengths):
    """The convolutional features [batch, channels, frames] of a padded batch, each
    utterance's valid frames as it gets them alone."""
    extractor = model.feature_extractor
    if model.config.feat_extract_norm != "group":
        return extractor(wav)  # frame-wise layer norms: padding cannot reach valid frames
    first, *rest = extractor.conv_layers
    x = first.conv(wav[:, None])
    frames = conv_output_lengths(model, lengths, layers=1)
    normed = torch.zeros_like(x)
    for i, n in enumerate(frames.tolist()):  # GroupNorm over the utterance's own frames
        normed[i, :, :n] = first.layer_norm(x[i : i + 1, :, :n])[0]
    x = first.activation(normed)
    for layer in rest:
        x = layer(x)
    return x


def conv_output_lengths(model, lengths, layers):
    """Output lengths of the first `layers` convolutions."""
    for kernel, stride in list(zip(model.config.conv_kernel, model.config.conv_stride))[:layers]:
        lengths = torch.div(lengths - kernel, stride, rounding_mode="floor") + 1
    return lengths
