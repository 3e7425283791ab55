#!/usr/bin/env bash
# Mini Mandarin recipe: the embedded espeak-ng corpus (corpus/, Aishell layout),
# every stage of the shared driver on CPU in minutes. See ../../../README.md.
set -euo pipefail

./asr.sh \
    --lang zh \
    --train_set train \
    --valid_set dev \
    --test_sets "dev test" \
    --speed_perturb_factors "0.9 1.0 1.1" \
    --asr_config conf/train_asr_fbank.yaml \
    --lm_config conf/train_lm.yaml \
    --inference_config conf/decode_asr.yaml \
    --inference_asr_model valid.acc.ave_3best.pth \
    --nj 2 --inference_nj 2 \
    "$@"
