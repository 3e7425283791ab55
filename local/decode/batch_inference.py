"""Batched decoding: a drop-in for espnet2.bin.asr_inference that searches many
utterances at once (local.decode.batch_beam_search) and writes the same outputs
(OUTPUT_DIR/<n>best_recog/{text,token,token_int,score}).

    python -m local.decode.batch_inference --batch_size 16 <options of espnet2.bin.asr_inference>

--batch_size is the number of utterances searched together (ESPnet's own program
only accepts 1). Utterances are read in windows of --sort_window batches and
sorted by length inside a window, so that a batch holds utterances of similar
length. Each utterance is encoded on its own, exactly as ESPnet does: frontends
such as wav2vec2's group-normalised convolutions see no padding. Models or
options the batched search does not cover (transducers, streaming, RNN decoders,
multi-speaker, ...) are decoded by espnet2.bin.asr_inference itself, and the log
says so.
"""

import logging
import sys
import time

import torch

import local.runtime.espnet_bin  # noqa: F401  (first: registers our frontend, defers g2p_en)

# isort: split
from espnet.nets.pytorch_backend.transformer.subsampling import TooShortUttError
from espnet2.bin import asr_inference as espnet_inference
from espnet2.fileio.datadir_writer import DatadirWriter
from espnet2.tasks.asr import ASRTask
from espnet2.torch_utils.set_all_random_seed import set_all_random_seed

from local.decode.batch_beam_search import BatchBeamSearch, Unsupported

# options whose ESPnet behaviour this program does not reproduce (value when unused)
ESPNET_ONLY = {
    "streaming": False,
    "enh_s2t_task": False,
    "multi_asr": False,
    "time_sync": False,
    "hugging_face_decoder": False,
    "partial_ar": False,
    "quantize_asr_model": False,
    "quantize_lm": False,
    "word_lm_train_config": None,
    "word_lm_file": None,
    "ngram_file": None,
    "lang_prompt_token": None,
    "nlp_prompt_token": None,
    "prompt_token_file": None,
    "transducer_conf": None,
}
SPEECH2TEXT_OPTIONS = (
    "asr_train_config",
    "asr_model_file",
    "lm_train_config",
    "lm_file",
    "token_type",
    "bpemodel",
    "maxlenratio",
    "minlenratio",
    "dtype",
    "beam_size",
    "ctc_weight",
    "lm_weight",
    "ngram_weight",
    "penalty",
    "nbest",
    "normalize_length",
)


def get_parser():
    parser = espnet_inference.get_parser()
    parser.description = __doc__
    parser.set_defaults(batch_size=16)
    parser.add_argument(
        "--sort_window", type=int, default=8, help="batches read ahead and sorted by length"
    )
    return parser


def hypothesis_outputs(speech2text, hyp):
    """(text, tokens, token ids) of a hypothesis, as Speech2Text makes them."""
    token_int = [t for t in hyp.yseq[1:-1] if t != 0]  # without <sos>/<eos> and blank
    token = speech2text.converter.ids2tokens(token_int)
    text = speech2text.tokenizer.tokens2text(token) if speech2text.tokenizer is not None else None
    return text, token, token_int


class BatchDecoder:
    def __init__(self, speech2text, search):
        self.s2t, self.search = speech2text, search
        self.model = speech2text.asr_model

    @torch.no_grad()
    def encode(self, speech):
        speech = speech.unsqueeze(0).to(
            device=self.s2t.device, dtype=getattr(torch, self.s2t.dtype)
        )
        lengths = speech.new_full([1], dtype=torch.long, fill_value=speech.size(1))
        enc, _ = self.model.encode(speech=speech, speech_lengths=lengths)
        if isinstance(enc, tuple):  # intermediate CTC outputs
            enc = enc[0]
        return enc[0]

    def decode(self, items, writer, nbest):
        """Decode [(key, speech)] and write their n-best lists; returns #too short."""
        encoded, too_short = [], 0
        for key, speech in items:
            try:
                encoded.append((key, self.encode(speech)))
            except TooShortUttError as e:
                # ESPnet's placeholder hypothesis, so that every key has an output
                logging.warning(f"Utterance {key} {e}")
                too_short += 1
                for n in range(1, nbest + 1):
                    out = writer[f"{n}best_recog"]
                    out["token"][key], out["token_int"][key], out["score"][key] = (
                        "<space>",
                        "2",
                        "0.0",
                    )
                    out["text"][key] = " "
        if not encoded:
            return too_short
        nbest_lists = self.search(
            [enc for _, enc in encoded], self.s2t.maxlenratio, self.s2t.minlenratio
        )
        for (key, _), hyps in zip(encoded, nbest_lists):
            if not hyps:
                logging.warning(f"Utterance {key}: no hypothesis reached <eos>")
            for n, hyp in enumerate(hyps[:nbest], 1):
                text, token, token_int = hypothesis_outputs(self.s2t, hyp)
                out = writer[f"{n}best_recog"]
                out["token"][key] = " ".join(token)
                out["token_int"][key] = " ".join(map(str, token_int))
                out["score"][key] = str(hyp.score)
                if text is not None:
                    out["text"][key] = text
        return too_short


def build_speech2text(args):
    kwargs = {name: getattr(args, name) for name in SPEECH2TEXT_OPTIONS}
    return espnet_inference.Speech2Text.from_pretrained(
        model_tag=args.model_tag, device="cuda" if args.ngpu >= 1 else "cpu", **kwargs
    )


def batches(loader, batch_size, window):
    """[(key, speech)] lists of `batch_size`, sorted by length within each window."""
    pending = []

    def flush():
        pending.sort(key=lambda item: -len(item[1]))
        for start in range(0, len(pending), batch_size):
            yield pending[start : start + batch_size]
        pending.clear()

    for keys, batch in loader:
        pending.append((keys[0], batch["speech"][0]))
        if len(pending) >= batch_size * window:
            yield from flush()
    yield from flush()


def run(args):
    set_all_random_seed(args.seed)
    speech2text = build_speech2text(args)
    search = BatchBeamSearch.from_espnet(speech2text.beam_search)
    decoder = BatchDecoder(speech2text, search)
    loader = ASRTask.build_streaming_iterator(
        args.data_path_and_name_and_type,
        dtype=args.dtype,
        batch_size=1,
        key_file=args.key_file,
        num_workers=args.num_workers,
        preprocess_fn=ASRTask.build_preprocess_fn(speech2text.asr_train_args, False),
        collate_fn=ASRTask.build_collate_fn(speech2text.asr_train_args, False),
        allow_variable_data_keys=args.allow_variable_data_keys,
        inference=True,
    )
    n_utts = too_short = 0
    started = time.perf_counter()
    with DatadirWriter(args.output_dir) as writer:
        for items in batches(loader, max(1, args.batch_size), max(1, args.sort_window)):
            too_short += decoder.decode(items, writer, args.nbest)
            n_utts += len(items)
            logging.info(f"decoded {n_utts} utterances ({time.perf_counter() - started:.1f} s)")
    logging.info(
        f"batched decoding: {n_utts} utterances, {too_short} too short for the encoder, "
        f"{time.perf_counter() - started:.1f} s"
    )


def main(argv=None):
    print(
        " ".join(
            ["python -m local.decode.batch_inference", *(sys.argv[1:] if argv is None else argv)]
        ),
        file=sys.stderr,
    )
    args = get_parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level,
        format="%(asctime)s (%(module)s:%(lineno)d) %(levelname)s: %(message)s",
    )
    if args.ngpu > 1:
        sys.exit("batch_inference: error: decoding uses one GPU per job (--ngpu 0 or 1)")
    espnet_only = [
        name for name, unused in ESPNET_ONLY.items() if getattr(args, name, unused) != unused
    ]
    if not espnet_only:
        try:
            return run(args)
        except Unsupported as e:
            logging.warning(f"batched search does not cover this model ({e}): decoding with ESPnet")
    else:
        logging.warning(f"options {espnet_only}: decoding with espnet2.bin.asr_inference")
    kwargs = vars(args)
    for name in ("config", "sort_window"):
        kwargs.pop(name, None)
    kwargs["batch_size"] = 1
    espnet_inference.inference(**kwargs)


if __name__ == "__main__":
    main()
