"""Rescore the N-best lists of a decoding with a Transformer LM.

    python -m local.decode.lm_rescore --lm_train_config exp/lm_X/config.yaml \\
        --lm_file exp/lm_X/valid.loss.ave.pth --lm_weight 0.3 LOGDIR OUT_DIR

LOGDIR holds the outputs of the decoding jobs (espnet2.bin.asr_inference --nbest N
--output_dir LOGDIR/output.JOB, decoded without LM): output.*/<n>best_recog/
{text,token_int,score}. Every hypothesis gets
    score + lm_weight * log P_LM(tokens, <eos>)
and the best one per utterance goes to OUT_DIR/{text,score}; OUT_DIR/nbest holds
every hypothesis with its decoding score and LM log probability (for tuning the
weight afterwards without running the LM again).
"""

import argparse
import re
from pathlib import Path

import torch

from fileio.atomic import atomic_file
from fileio.kaldi_table import read_table, write_table

NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?|-?inf")


def read_nbest(logdir):
    """{utt: [(text, token ids, decoding score)]} from every job and every rank."""
    hyps = {}
    for job in sorted(Path(logdir).glob("output.*")):
        ranks = sorted(job.glob("*best_recog"), key=lambda p: int(p.name.split("best")[0]))
        for rank in ranks:
            if not (rank / "score").exists():
                continue
            texts = (
                read_table(rank / "text", allow_empty_value=True)
                if (rank / "text").exists()
                else {}
            )
            ids = read_table(rank / "token_int", allow_empty_value=True)
            for utt, score in read_table(rank / "score").items():
                value = float(NUMBER.search(score).group())  # "tensor(-3.2)" or "-3.2"
                tokens = [int(t) for t in ids.get(utt, "").split()]
                hyps.setdefault(utt, []).append((texts.get(utt, ""), tokens, value))
    return hyps


@torch.no_grad()
def lm_log_probs(lm, token_lists, batch_size=64):
    """log P(tokens <eos>) of each token list under the LM."""
    out = []
    for i in range(0, len(token_lists), batch_size):
        batch = token_lists[i : i + batch_size]
        lengths = torch.tensor([len(t) for t in batch])
        padded = torch.zeros(len(batch), max(1, int(lengths.max())), dtype=torch.long)
        for row, tokens in enumerate(batch):
            padded[row, : len(tokens)] = torch.tensor(tokens, dtype=torch.long)
        nll, _ = lm.nll(padded, lengths)
        out += (-nll.sum(dim=1)).tolist()
    return out


def rescore(hyps, lm, lm_weight):
    """{utt: (text, total score)} and the rows of the nbest table."""
    best, rows = {}, []
    for utt in sorted(hyps):
        candidates = hyps[utt]
        lm_scores = lm_log_probs(lm, [tokens for _, tokens, _ in candidates])
        totals = [
            score + lm_weight * lm_score for (_, _, score), lm_score in zip(candidates, lm_scores)
        ]
        pick = max(range(len(candidates)), key=totals.__getitem__)
        best[utt] = (candidates[pick][0], totals[pick])
        rows += [
            (utt, n + 1, score, lm_score, text)
            for n, ((text, _, score), lm_score) in enumerate(zip(candidates, lm_scores))
        ]
    return best, rows


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--lm_train_config", required=True)
    parser.add_argument("--lm_file", required=True)
    parser.add_argument("--lm_weight", type=float, default=0.3)
    parser.add_argument("logdir")
    parser.add_argument("out_dir")
    args = parser.parse_args(argv)
    import local.runtime.espnet_bin  # noqa: F401  (before espnet2: defers g2p_en)

    # isort: split
    from espnet2.tasks.lm import LMTask

    lm, _ = LMTask.build_model_from_file(args.lm_train_config, args.lm_file, "cpu")
    lm.eval()
    hyps = read_nbest(args.logdir)
    if not hyps:
        raise SystemExit(f"{args.logdir}: no N-best lists (output.*/<n>best_recog/score)")
    best, rows = rescore(hyps, lm, args.lm_weight)
    out = Path(args.out_dir)
    write_table(out / "text", {utt: text for utt, (text, _) in best.items()})
    write_table(out / "score", {utt: f"{score:.4f}" for utt, (_, score) in best.items()})
    with atomic_file(out / "nbest") as f:
        f.write("# utt rank decoding_score lm_log_prob text\n")
        for utt, rank, score, lm_score, text in rows:
            f.write(f"{utt} {rank} {score:.4f} {lm_score:.4f} {text}\n")
    changed = sum(best[u][0] != hyps[u][0][0] for u in best)
    print(
        f"{out}: {len(best)} utterances rescored with LM weight {args.lm_weight}, "
        f"{changed} changed their best hypothesis"
    )


if __name__ == "__main__":
    main()
