"""Beam search over many utterances at once, hypothesis for hypothesis the search
of ESPnet's BatchBeamSearch (what espnet2.bin.asr_inference runs).

ESPnet searches one utterance at a time and keeps its hypotheses as Python
objects whose states are re-stacked at every step. Here the hypotheses of a batch
of utterances are the rows of tensors (utterance-major, `beam` rows each once the
search has started): one decoder call, one LM call and one CTC prefix-scoring
call per step for the whole batch, states selected by index. The rules are
ESPnet's: pre-beam on the weighted full scores, top `beam` of an utterance over
all its (hypothesis, token) pairs, hypotheses ending in <eos> leave the beam,
<eos> forced at the last position, end detection when maxlenratio is 0.

    search = BatchBeamSearch.from_espnet(speech2text.beam_search)
    nbest_lists = search(encoder_outputs, maxlenratio=0.0, minlenratio=0.0)

`BatchBeamSearch.from_espnet` raises Unsupported for scorers it cannot batch
across utterances (e.g. an RNN decoder); callers then decode with ESPnet.
"""

from dataclasses import dataclass

import torch
from espnet.nets.e2e_asr_common import end_detect
from espnet.nets.pytorch_backend.transformer.mask import subsequent_mask
from espnet.nets.scorer_interface import BatchScorerInterface
from espnet.nets.scorers.ctc import CTCPrefixScorer
from espnet.nets.scorers.length_bonus import LengthBonus
from espnet2.asr.decoder.transformer_decoder import BaseTransformerDecoder
from espnet2.lm.abs_model import AbsLM
from espnet2.lm.transformer_lm import TransformerLM
from torch.nn.utils.rnn import pad_sequence

from local.decode.batch_ctc_prefix import BatchCTCPrefixScorer


class Unsupported(Exception):
    """The search configuration has a scorer this module cannot batch."""


@dataclass
class Hyp:
    yseq: list[int]  # <sos> ... <eos>
    score: float


class TransformerDecoderScorer:
    """Attention decoder with its layer caches as (rows, length, dim) tensors; the
    encoder output of each row's utterance is attended through a padding mask."""

    def __init__(self, decoder, memory, memory_mask):
        self.decoder, self.memory, self.memory_mask = decoder, memory, memory_mask

    def init_state(self, utt):
        return None

    def score(self, ys, utt, cache):
        mask = subsequent_mask(ys.size(1), device=ys.device).unsqueeze(0)
        return self.decoder.forward_one_step(
            ys, mask, self.memory[utt], self.memory_mask[utt], cache=cache
        )

    def select(self, cache, rows):
        return [layer[rows] for layer in cache]


class TransformerLMScorer:
    """Transformer LM with its layer caches as tensors (the computation of
    TransformerLM.batch_score)."""

    def __init__(self, lm):
        self.lm = lm

    def init_state(self, utt):
        return None

    def score(self, ys, utt, cache):
        h, _, cache = self.lm.encoder.forward_one_step(
            self.lm.embed(ys), self.lm._target_mask(ys), cache=cache
        )
        return self.lm.decoder(h[:, -1]).log_softmax(dim=-1), cache

    def select(self, cache, rows):
        return [layer[rows] for layer in cache]


class ListStateScorer:
    """Any batch scorer that ignores the encoder output (LMs, length bonus), through
    its own batch_score with per-row states."""

    def __init__(self, scorer, memory):
        self.scorer, self.memory = scorer, memory

    def init_state(self, utt):
        return [self.scorer.batch_init_state(self.memory[u]) for u in utt.tolist()]

    def score(self, ys, utt, states):
        return self.scorer.batch_score(ys, states, self.memory[utt])

    def select(self, states, rows):
        return [self.scorer.select_state(states, i) for i in rows.tolist()]


def _full_scorer_factory(name, scorer):
    """A function (memory, memory_mask) -> batched scorer, or Unsupported."""
    if isinstance(scorer, BaseTransformerDecoder):
        if type(scorer).forward_one_step is not BaseTransformerDecoder.forward_one_step:
            raise Unsupported(f"{name}: {type(scorer).__name__} has its own forward_one_step")
        return lambda memory, mask: TransformerDecoderScorer(scorer, memory, mask)
    if isinstance(scorer, TransformerLM):
        return lambda memory, mask: TransformerLMScorer(scorer)
    if isinstance(scorer, (AbsLM, LengthBonus)) and isinstance(scorer, BatchScorerInterface):
        return lambda memory, mask: ListStateScorer(scorer, memory)
    raise Unsupported(f"{name}: cannot batch {type(scorer).__name__} across utterances")


class BatchBeamSearch:
    def __init__(
        self,
        full_scorers,
        weights,
        ctc,
        ctc_weight,
        *,
        beam_size,
        vocab_size,
        sos,
        eos,
        pre_beam_size,
        pre_beam_score_key,
        normalize_length=False,
    ):
        self.full = {name: _full_scorer_factory(name, s) for name, s in full_scorers.items()}
        self.weights, self.ctc, self.ctc_weight = weights, ctc, ctc_weight
        self.beam, self.vocab, self.sos, self.eos = beam_size, vocab_size, sos, eos
        self.pre_beam_size, self.pre_beam_score_key = pre_beam_size, pre_beam_score_key
        self.do_pre_beam = (
            ctc is not None and pre_beam_score_key is not None and pre_beam_size < vocab_size
        )
        self.normalize_length = normalize_length

    @classmethod
    def from_espnet(cls, beam_search):
        """The search that an espnet BeamSearch (as Speech2Text builds it) would run."""
        if beam_search is None:
            raise Unsupported("the model has no attention/CTC beam search (transducer?)")
        if getattr(beam_search, "hyp_primer", None) is not None:
            raise Unsupported("hypothesis primers (Whisper) are not supported")
        if getattr(beam_search, "return_hs", False):
            raise Unsupported("return_hs is not supported")
        part = dict(beam_search.part_scorers)
        ctc = part.pop("ctc", None)
        if part or (ctc is not None and not isinstance(ctc, CTCPrefixScorer)):
            raise Unsupported(
                f"partial scorers {sorted(beam_search.part_scorers)}: only CTC is supported"
            )
        return cls(
            dict(beam_search.full_scorers),
            dict(beam_search.weights),
            ctc.ctc if ctc is not None else None,
            beam_search.weights.get("ctc", 0.0),
            beam_size=beam_search.beam_size,
            vocab_size=beam_search.n_vocab,
            sos=beam_search.sos,
            eos=beam_search.eos,
            pre_beam_size=beam_search.pre_beam_size,
            pre_beam_score_key=beam_search.pre_beam_score_key,
            normalize_length=getattr(beam_search, "normalize_length", False),
        )

    @staticmethod
    def _length_limits(frames, maxlenratio, minlenratio):
        if maxlenratio == 0:
            maxlen = frames
        elif maxlenratio < 0:
            maxlen = -1 * int(maxlenratio)
        else:
            maxlen = max(1, int(maxlenratio * frames))
        minlen = -1 * int(minlenratio) if minlenratio < 0 else int(minlenratio * frames)
        return maxlen, minlen

    @torch.no_grad()
    def __call__(self, encoder_outputs, maxlenratio=0.0, minlenratio=0.0):
        """N-best lists (best first) for each encoder output (T_i, D)."""
        results = self._search(encoder_outputs, maxlenratio, minlenratio)
        # like ESPnet: no hypothesis reached <eos> -> again with a smaller minlenratio
        retry = [i for i, hyps in enumerate(results) if not hyps]
        if retry and minlenratio >= 0.1:
            again = self(
                [encoder_outputs[i] for i in retry], maxlenratio, max(0.0, minlenratio - 0.1)
            )
            for i, hyps in zip(retry, again):
                results[i] = hyps
        return results

    def _search(self, encoder_outputs, maxlenratio, minlenratio):
        device = encoder_outputs[0].device
        lengths = torch.tensor([len(e) for e in encoder_outputs], device=device)
        memory = pad_sequence(list(encoder_outputs), batch_first=True)
        memory_mask = (
            torch.arange(memory.size(1), device=device)[None, :] < lengths[:, None]
        ).unsqueeze(1)
        limits = [self._length_limits(len(e), maxlenratio, minlenratio) for e in encoder_outputs]
        scorers = {name: make(memory, memory_mask) for name, make in self.full.items()}
        ctc = None
        if self.ctc is not None:
            ctc = BatchCTCPrefixScorer(self.ctc.log_softmax(memory), lengths, 0, self.eos)

        n_utts = len(encoder_outputs)
        utt = torch.arange(n_utts, device=device)  # utterance of each row
        yseq = torch.full((n_utts, 1), self.sos, dtype=torch.long, device=device)
        score = torch.zeros(n_utts, dtype=memory.dtype, device=device)
        states = {name: s.init_state(utt) for name, s in scorers.items()}
        ctc_state = ctc.initial_state(utt) if ctc is not None else None
        ended = [[] for _ in range(n_utts)]
        active = list(range(n_utts))  # utterances still searching, in row order
        rows_per_utt = 1
        step = 0
        while active:
            weighted = torch.zeros(len(utt), self.vocab, dtype=memory.dtype, device=device)
            full_scores, new_states = {}, {}
            for name, scorer in scorers.items():
                full_scores[name], new_states[name] = scorer.score(yseq, utt, states[name])
                weighted += self.weights[name] * full_scores[name]
            scoring_ids = None
            if self.do_pre_beam:
                key = (
                    weighted
                    if self.pre_beam_score_key == "full"
                    else full_scores[self.pre_beam_score_key]
                )
                scoring_ids = torch.topk(key, self.pre_beam_size, dim=-1)[1]
            if ctc is not None:
                ctc_scores, ctc_full_state = ctc.score(yseq, utt, ctc_state, scoring_ids)
                weighted += self.ctc_weight * ctc_scores
            weighted += score.unsqueeze(1)

            # top `beam` (hypothesis, token) pairs of each utterance
            n_active = len(active)
            top_scores, top_ids = weighted.view(n_active, rows_per_utt * self.vocab).topk(
                self.beam, dim=1
            )
            base = torch.arange(n_active, device=device).unsqueeze(1) * rows_per_utt
            rows = (base + torch.div(top_ids, self.vocab, rounding_mode="trunc")).view(-1)
            tokens = (top_ids % self.vocab).view(-1)
            rows_per_utt = self.beam
            utt = utt[rows]
            yseq = torch.cat([yseq[rows], tokens.unsqueeze(1)], dim=1)
            score = top_scores.reshape(-1)
            states = {name: scorers[name].select(new_states[name], rows) for name in scorers}
            if ctc is not None:
                ctc_state = ctc.select(ctc_full_state, rows, tokens)

            active, keep = self._post_process(step, active, yseq, score, limits, maxlenratio, ended)
            if active and len(keep) < len(utt):
                utt, yseq, score = utt[keep], yseq[keep], score[keep]
                states = {name: scorers[name].select(states[name], keep) for name in scorers}
                if ctc is not None:
                    ctc_state = tuple(s[..., keep] if s.dim() == 3 else s[keep] for s in ctc_state)
            step += 1
        return [self._nbest(hyps) for hyps in ended]

    def _post_process(self, step, active, yseq, score, limits, maxlenratio, ended):
        """Move hypotheses ending in <eos> to `ended` (their score to -inf: they leave
        the beam); returns the utterances still searching and their rows."""
        ends = (yseq[:, -1] == self.eos).view(len(active), self.beam).tolist()
        seqs = yseq.tolist()
        scores = score.tolist()
        still_active, keep = [], []
        for i, u in enumerate(active):
            maxlen, minlen = limits[u]
            rows = range(i * self.beam, (i + 1) * self.beam)
            alive = False
            for j, row in enumerate(rows):
                last_position = step == maxlen - 1  # <eos> forced on every hypothesis
                if ends[i][j] or last_position:
                    if scores[row] == float("-inf"):
                        continue
                    if step >= minlen:
                        seq = seqs[row] + ([self.eos] if last_position else [])
                        ended[u].append(Hyp(seq, scores[row]))
                    score[row] = float("-inf")
                else:
                    alive = True
            finished = not alive or (
                maxlenratio == 0.0
                and end_detect([{"yseq": h.yseq, "score": h.score} for h in ended[u]], step)
            )
            if not finished:
                still_active.append(u)
                keep.extend(rows)
        return still_active, torch.tensor(keep, dtype=torch.long, device=yseq.device)

    def _nbest(self, hyps):
        if self.normalize_length:
            return sorted(hyps, key=lambda h: h.score / (len(h.yseq) - 1), reverse=True)
        return sorted(hyps, key=lambda h: h.score, reverse=True)
