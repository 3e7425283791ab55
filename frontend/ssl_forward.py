"""The frozen SSL model's forward pass shared by the ESPnet frontend and
frontend.extract: input normalization as the preprocessor config says, and all
hidden states with each utterance's features independent of its batch.

Only torch is imported here (s3prl and espnet take ~20 s to import), so the
extraction command starts quickly.
"""

import torch


def normalize(wav, lengths, do_normalize):
    """Per-utterance zero mean, unit variance over the valid samples (as
    Wav2Vec2FeatureExtractor: (x - mean) / sqrt(var + 1e-7)); padding stays 0."""
    valid = torch.arange(wav.shape[1], device=wav.device)[None, :] < lengths[:, None]
    if do_normalize:
        count = lengths[:, None].to(wav.dtype)
        mean = (wav * valid).sum(1, keepdim=True) / count
        var = (((wav - mean) * valid) ** 2).sum(1, keepdim=True) / count
        wav = (wav - mean) / torch.sqrt(var + 1e-7)
    return wav * valid


def hidden_states(model, wav, lengths):
    """All hidden states (the transformer input first) and the frame counts."""
    if model.config.feat_extract_norm == "group":
        # GroupNorm statistics over each utterance's own samples only
        convs = [model.feature_extractor(wav[i : i + 1, : int(n)]) for i, n in enumerate(lengths)]
        frames = max(c.shape[-1] for c in convs)
        conv = torch.cat([torch.nn.functional.pad(c, (0, frames - c.shape[-1])) for c in convs])
    else:
        conv = model.feature_extractor(wav)
    frame_lengths = model._get_feat_extract_output_lengths(lengths).to(lengths.dtype)
    projected = model.feature_projection(conv.transpose(1, 2))
    hidden = projected[0] if isinstance(projected, tuple) else projected
    mask = None
    if bool((frame_lengths < hidden.shape[1]).any()):
        mask = torch.arange(hidden.shape[1], device=hidden.device)[None, :] < frame_lengths[:, None]
    out = model.encoder(hidden, attention_mask=mask, output_hidden_states=True)
    return out.hidden_states, frame_lengths
