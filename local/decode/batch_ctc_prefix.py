"""CTC prefix scores for the hypotheses of many utterances at once.

The scores are those of ESPnet's CTCPrefixScoreTH (Watanabe et al. 2017,
Algorithm 2; Seki et al. 2019), computed with the same operations, but the work is
split differently:

- the prefix probability of every candidate h+c needs only the forward variables
  of h: log psi(h+c) = logsumexp_t (log phi_h(t-1) + log y_t(c)), one vectorized
  reduction over frames for all candidates (in chunks, to bound memory);
- the forward recursion over frames, which gives the variables of h+c for the next
  step, runs only for the `beam` candidates that the search keeps, not for every
  scored token of every hypothesis (ESPnet runs it for all of them).

Hypotheses are rows; each row knows its utterance; the state of a row is its
forward variables r (T, 2) and its prefix score.
"""

import torch

LOGZERO = -1e10
CHUNK_ELEMENTS = 1 << 24  # frames x rows x tokens per reduction (64 MiB of float32)


class BatchCTCPrefixScorer:
    def __init__(self, logp, lengths, blank, eos):
        """logp: (B, T, V) CTC log posteriors, padded after lengths (B,)."""
        _batch, frames, vocab = logp.shape
        logp = logp.clone()
        padded = torch.arange(frames, device=logp.device)[None, :] >= lengths[:, None]
        logp[padded] = LOGZERO  # padding frames: blank only, with probability 1
        logp[..., blank][padded] = 0.0
        self.x = logp.transpose(0, 1).contiguous()  # (T, B, V)
        self.blank, self.eos, self.vocab, self.frames = blank, eos, vocab, frames
        self.end_frames = lengths.to(logp.device) - 1

    def initial_state(self, utt):
        """State of the empty prefix for rows belonging to utterances `utt` (N,)."""
        r = torch.full(
            (self.frames, 2, len(utt)), LOGZERO, dtype=self.x.dtype, device=self.x.device
        )
        r[:, 1] = torch.cumsum(self.x[:, :, self.blank], 0)[:, utt]
        return r, torch.zeros(len(utt), dtype=self.x.dtype, device=self.x.device)

    def score(self, ys, utt, state, scoring_ids=None):
        """Scores (N, V) of every next token for prefixes ys (N, 1 + length, with
        <sos>), minus the prefix's own score; tokens outside scoring_ids (N, S), when
        given, get LOGZERO. Returns (scores, context for `select`)."""
        r_prev, s_prev = state
        n_rows = ys.size(0)
        output_length = ys.size(1) - 1
        start = max(output_length, 1)
        last = ys[:, -1]
        r_sum = torch.logsumexp(r_prev, 1)  # (T, N): prefix h ends at t, by blank or not
        tokens = (
            torch.arange(self.vocab, device=ys.device).expand(n_rows, -1)
            if scoring_ids is None
            else scoring_ids
        )
        log_psi_part = torch.cat(
            [
                self._prefix_scores(
                    r_prev, r_sum, utt[rows], last[rows], tokens[rows], rows, start, output_length
                )
                for rows in self._row_chunks(n_rows, tokens.size(1))
            ],
            dim=0,
        )
        if scoring_ids is None:
            log_psi = log_psi_part
        else:
            log_psi = torch.full(
                (n_rows, self.vocab), LOGZERO, dtype=self.x.dtype, device=self.x.device
            )
            log_psi.scatter_(1, scoring_ids, log_psi_part)
        rows = torch.arange(n_rows, device=ys.device)
        log_psi[:, self.eos] = r_sum[self.end_frames[utt], rows]
        if self.eos != self.blank:
            log_psi[:, self.blank] = LOGZERO
        context = (r_prev, r_sum, log_psi, utt, last, start, output_length)
        return log_psi - s_prev.unsqueeze(1), context

    def _row_chunks(self, n_rows, n_tokens):
        step = max(1, CHUNK_ELEMENTS // max(1, self.frames * n_tokens))
        return [
            torch.arange(i, min(i + step, n_rows), device=self.x.device)
            for i in range(0, n_rows, step)
        ]

    def _prefix_scores(self, r_prev, r_sum, utt, last, tokens, rows, start, output_length):
        """log psi (n, S) of prefixes h+c for the rows' tokens c."""
        if tokens.size(1) == self.vocab:  # every token, in order
            x_tokens = self.x.index_select(1, utt)  # (T, n, V)
        else:
            x_tokens = self.x[:, utt[:, None], tokens]  # (T, n, S)
        # phi(t-1) y_t(c): h ends at t-1 and c follows; when c repeats h's last
        # token, h must end with a blank
        terms = r_sum[start - 1 : -1, rows].unsqueeze(2) + x_tokens[start:]
        repeat_row, repeat_col = (tokens == last[:, None]).nonzero(as_tuple=True)
        terms[:, repeat_row, repeat_col] = (
            r_prev[start - 1 : -1, 1, rows[repeat_row]] + x_tokens[start:, repeat_row, repeat_col]
        )
        log_psi = torch.logsumexp(terms, dim=0)
        # c emitted at the first frame (only for the empty prefix)
        return torch.logaddexp(
            log_psi, x_tokens[0] if output_length == 0 else torch.tensor(LOGZERO)
        )

    def select(self, context, rows, tokens):
        """State of prefixes `rows` (M,) extended by `tokens` (M,): the forward
        recursion over frames, for these M prefixes only."""
        r_prev, r_sum, log_psi, utt, last, start, output_length = context
        u = utt[rows]
        x_token = self.x[:, u, tokens]  # (T, M)
        x_ = torch.stack([x_token, self.x[:, u, self.blank]])  # (2, T, M)
        log_phi = torch.where(
            (tokens == last[rows]).unsqueeze(0), r_prev[:, 1, rows], r_sum[:, rows]
        )
        r = torch.full(
            (self.frames, 2, len(rows)), LOGZERO, dtype=self.x.dtype, device=self.x.device
        )
        if output_length == 0:
            r[0, 0] = x_[0, 0]
        for t in range(start, self.frames):
            rp = r[t - 1]
            rr = torch.stack([rp[0], log_phi[t - 1], rp[0], rp[1]]).view(2, 2, len(rows))
            r[t] = torch.logsumexp(rr, 1) + x_[:, t]
        return r, log_psi[rows, tokens]
