"""Token times and confidences of a hypothesis by CTC forced alignment.

    spans = align(ctc_log_probs, token_ids)   # [(first frame, end frame, confidence)] or None

Reads the CTC log posteriors of one utterance (frames x vocabulary, the model's
`ctc.log_softmax` of its encoder output) and the hypothesis's token ids (no
blank, no <sos>/<eos>); writes nothing. The alignment is torchaudio's
`forced_align` (the Viterbi path through the CTC graph of exactly these tokens,
blank = 0 as in ESPnet), merged into one span per token by torchaudio's
`merge_tokens`: a token's frames are those the path labels with it, `end` is
exclusive.

Confidence of a token: the mean, over its aligned frames, of the CTC posterior
probability of the token (torchaudio's TokenSpan.score with probabilities): 1.0
when the CTC output is certain of it on every frame it occupies, near 0 when the
path had to force it. It is a posterior of the CTC branch alone, not of the
joint search (attention decoder, LM) that chose the hypothesis.

CTC posteriors are peaky: a token's frames are where the CTC output emits it,
which can be shorter than its sound (measured on the mini model: bench/README.md).

`align` returns None when there is nothing to align or the tokens do not fit the
frames (a hypothesis longer than the CTC output allows, as an attention-only
search can produce).

frame_shift(model) is the encoder's frame shift in samples: the frontend's hop
times the encoder input layer's subsampling, when both are known.
"""

import itertools

import torch

from local.runtime.quiet import quiet_warnings

# ESPnet's input layers and the factor by which they subsample frames
SUBSAMPLING = {
    "Conv2dSubsampling": 4,
    "Conv2dSubsampling1": 1,
    "Conv2dSubsampling2": 2,
    "Conv2dSubsampling6": 6,
    "Conv2dSubsampling8": 8,
    "Conv1dSubsampling1": 1,
    "Conv1dSubsampling2": 2,
    "Conv1dSubsampling3": 3,
    "Linear": 1,
    "Sequential": 1,  # linear input layers (Linear, norm, dropout, ...)
    "Embedding": 1,
}


def frame_shift(model):
    """Samples per encoder output frame of an ESPnet ASR model, or None if unknown."""
    frontend = getattr(model, "frontend", None)
    hop = getattr(frontend, "hop_length", None)
    if hop is None:  # weighted-sum SSL frontends: the featurizer's downsample rate
        hop = getattr(getattr(frontend, "featurizer", None), "downsample_rate", None)
    if frontend is None or not isinstance(hop, int):
        return None
    embed = getattr(getattr(model, "encoder", None), "embed", None)
    if embed is None:
        return None
    if (
        isinstance(embed, torch.nn.Sequential)
        and len(embed)
        and type(embed[0]).__name__ in (SUBSAMPLING)
    ):
        name = type(embed[0]).__name__  # e.g. (Conv2dSubsampling, positional encoding)
    else:
        name = type(embed).__name__
    factor = SUBSAMPLING.get(name)
    return hop * factor if factor else None


def align(log_probs, token_ids, blank=0):
    """[(start frame, end frame, confidence)] per token, or None (see module doc)."""
    from torchaudio.functional import forced_align, merge_tokens

    if not token_ids or log_probs.size(0) == 0:
        return None
    repeats = sum(a == b for a, b in itertools.pairwise(token_ids))
    if len(token_ids) + repeats > log_probs.size(0) or blank in token_ids:
        return None
    emission = log_probs.detach().to("cpu", torch.float32).unsqueeze(0)
    targets = torch.tensor([token_ids], dtype=torch.int32)
    quiet_warnings()  # forced_align's deprecation notice, once (not per call)
    try:
        labels, scores = forced_align(emission, targets, blank=blank)
    except RuntimeError:  # no path (e.g. -inf posteriors)
        return None
    spans = merge_tokens(labels[0], scores[0].exp(), blank=blank)
    if len(spans) != len(token_ids):
        return None
    return [(span.start, span.end, float(span.score)) for span in spans]
