"""The batched beam search against ESPnet's, on small random models: same
hypotheses, same scores, for every utterance of a batch of different lengths."""

import pytest
import torch
from espnet.nets.batch_beam_search import BatchBeamSearch as EspnetBatchBeamSearch
from espnet.nets.ctc_prefix_score import CTCPrefixScoreTH
from espnet.nets.scorers.ctc import CTCPrefixScorer
from espnet.nets.scorers.length_bonus import LengthBonus
from espnet2.asr.ctc import CTC
from espnet2.asr.decoder.rnn_decoder import RNNDecoder
from espnet2.asr.decoder.transformer_decoder import TransformerDecoder
from espnet2.lm.transformer_lm import TransformerLM

from local.decode import batch_ctc_prefix
from local.decode.batch_beam_search import BatchBeamSearch, Unsupported
from local.decode.batch_ctc_prefix import BatchCTCPrefixScorer

VOCAB, DIM = 13, 16
EOS = VOCAB - 1


def random_models(seed, blank_bias):
    torch.manual_seed(seed)
    decoder = TransformerDecoder(
        VOCAB, DIM, attention_heads=2, linear_units=32, num_blocks=2
    ).eval()
    ctc = CTC(VOCAB, DIM).eval()
    with torch.no_grad():  # peaky CTC posteriors, blank-heavy: hypotheses end before the last frame
        ctc.ctc_lo.weight.mul_(4.0)
        ctc.ctc_lo.bias[0] += blank_bias
    lm = TransformerLM(VOCAB, embed_unit=DIM, att_unit=DIM, head=2, unit=32, layer=2).eval()
    return decoder, ctc, lm


def espnet_search(decoder, ctc, lm, *, ctc_weight, lm_weight, penalty, beam):
    scorers = {
        "decoder": decoder,
        "ctc": CTCPrefixScorer(ctc, EOS),
        "lm": lm,
        "length_bonus": LengthBonus(VOCAB),
    }
    weights = {
        "decoder": 1.0 - ctc_weight,
        "ctc": ctc_weight,
        "lm": lm_weight,
        "length_bonus": penalty,
    }
    return EspnetBatchBeamSearch(
        scorers=scorers,
        weights=weights,
        beam_size=beam,
        vocab_size=VOCAB,
        sos=EOS,
        eos=EOS,
        pre_beam_score_key=None if ctc_weight == 1.0 else "full",
    ).eval()


SETTINGS = [
    dict(
        ctc_weight=0.3,
        lm_weight=0.5,
        penalty=0.0,
        beam=4,
        maxlenratio=0.0,
        minlenratio=0.0,
        blank_bias=3.0,
    ),
    dict(
        ctc_weight=1.0,
        lm_weight=0.3,
        penalty=0.0,
        beam=5,
        maxlenratio=0.0,
        minlenratio=0.0,
        blank_bias=3.0,
    ),
    dict(
        ctc_weight=0.5,
        lm_weight=0.0,
        penalty=0.5,
        beam=3,
        maxlenratio=0.6,
        minlenratio=0.2,
        blank_bias=3.0,
    ),
    dict(
        ctc_weight=0.0,
        lm_weight=0.2,
        penalty=0.0,
        beam=4,
        maxlenratio=0.0,
        minlenratio=0.0,
        blank_bias=0.0,
    ),
    dict(
        ctc_weight=0.5,
        lm_weight=0.3,
        penalty=0.0,
        beam=6,
        maxlenratio=-3,
        minlenratio=0.0,
        blank_bias=0.0,
    ),
]


@pytest.mark.parametrize(
    "setting", SETTINGS, ids=lambda s: f"ctc{s['ctc_weight']}_beam{s['beam']}_max{s['maxlenratio']}"
)
def test_same_nbest_as_espnet(setting):
    setting = dict(setting)
    maxlenratio, minlenratio = setting.pop("maxlenratio"), setting.pop("minlenratio")
    models = random_models(seed=1, blank_bias=setting.pop("blank_bias"))
    reference = espnet_search(*models, **setting)
    ours = BatchBeamSearch.from_espnet(reference)
    torch.manual_seed(2)
    encoder_outputs = [torch.randn(length, DIM) for length in (9, 17, 5, 12, 17, 3)]

    batched = ours(encoder_outputs, maxlenratio=maxlenratio, minlenratio=minlenratio)
    checked = 0
    for enc, hyps in zip(encoder_outputs, batched):
        with torch.no_grad():
            expected = reference(enc, maxlenratio=maxlenratio, minlenratio=minlenratio)
        assert len(hyps) == len(expected)
        # hypotheses that CTC cannot produce (more tokens than frames) score about
        # k * LOGZERO: float32 ties in any order; the others must be equal
        possible = [h for h in expected if h.score > -1e8]
        assert [h.yseq for h in hyps[: len(possible)]] == [h.yseq.tolist() for h in possible]
        assert [h.score for h in hyps[: len(possible)]] == pytest.approx(
            [float(h.score) for h in possible], abs=1e-4
        )
        checked += len(possible)
    assert checked >= len(encoder_outputs) * setting["beam"]  # n-best lists, not only the best


@pytest.mark.parametrize("chunk_elements", [None, 16], ids=["one_chunk", "row_by_row"])
def test_ctc_prefix_scores_equal_espnet(chunk_elements, monkeypatch):
    if chunk_elements:  # the reduction in many chunks, as on long audio with a large beam
        monkeypatch.setattr(batch_ctc_prefix, "CHUNK_ELEMENTS", chunk_elements)
    torch.manual_seed(0)
    lengths = torch.tensor([8, 5, 8])
    logp = torch.randn(3, 8, 7).log_softmax(-1)
    espnet = CTCPrefixScoreTH(logp.clone(), lengths, 0, 6)
    ours = BatchCTCPrefixScorer(logp, lengths, 0, 6)
    hyps = 2  # two prefixes per utterance: (1, 2) and (1, 1)
    ys = torch.tensor([[6, 1, 2], [6, 1, 1]] * 3)
    utt = torch.arange(3).repeat_interleave(hyps)
    # build both states by extending the empty prefix token by token
    e_state, o_state = None, ours.initial_state(utt)
    for step in range(1, ys.size(1)):
        prefix = ys[:, :step]
        e_scores, e_full = espnet(list(prefix), e_state)
        o_scores, o_context = ours.score(prefix, utt, o_state)
        assert torch.allclose(o_scores, e_scores, atol=1e-4)
        best = (ys[:, step] + torch.arange(len(ys)) * 7 - utt * hyps * 7).view(3, hyps)
        e_state = espnet.index_select_state(e_full, best)
        o_state = ours.select(o_context, torch.arange(len(ys)), ys[:, step])
    ids = torch.tensor([[1, 2, 3, 6]] * len(ys))  # pre-beam: only some tokens scored
    e_scores, _ = espnet(list(ys), e_state, ids)
    o_scores, _ = ours.score(ys, utt, o_state, ids)
    assert torch.allclose(o_scores, e_scores, atol=1e-4)
    assert (o_scores[:, 4] < -1e9).all()  # not scored


def test_rnn_decoder_is_left_to_espnet():
    decoder = RNNDecoder(VOCAB, DIM)
    search = EspnetBatchBeamSearch(
        scorers={"decoder": decoder},
        weights={"decoder": 1.0},
        beam_size=2,
        vocab_size=VOCAB,
        sos=EOS,
        eos=EOS,
    )
    with pytest.raises(Unsupported, match="RNNDecoder"):
        BatchBeamSearch.from_espnet(search)
