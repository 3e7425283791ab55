#!/usr/bin/env bash
# WenetSpeech train_s (100 h): no speed perturbation, no SpecAugment, no LM; the
# utterances are read from the opus recordings on demand (--audio_format none; use
# --audio_format flac to cut them into files first). Set WENETSPEECH in db.sh.
# Another training subset: --train_set train_m --local_data_opts "--set M".
# Another frontend: --asr_config conf/train_asr_conformer_<frontend>.yaml
# (fbank, wav2vec2_base, wav2vec2_large, hubert_base, hubert_large).
set -euo pipefail

./asr.sh \
    --lang zh \
    --local_data_opts "--set S" \
    --train_set train_s \
    --valid_set dev \
    --test_sets "dev test_net test_meeting" \
    --audio_format none \
    --asr_config conf/train_asr_conformer_hubert_large.yaml \
    --use_lm false \
    --lm_config conf/train_lm_transformer.yaml \
    --inference_config conf/decode_asr.yaml \
    --inference_asr_model valid.acc.ave_10best.pth \
    --nj 32 --inference_nj 32 --ngpu 1 \
    "$@"
