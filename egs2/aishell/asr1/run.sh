#!/usr/bin/env bash
# Aishell-1 (178 h, https://www.openslr.org/33/): speed perturbation, SpecAugment,
# Transformer LM. Set AISHELL in db.sh (the folder holding data_aishell/).
# The SSL frontends: --asr_config conf/train_asr_conformer_<frontend>.yaml.
set -euo pipefail

./asr.sh \
    --lang zh \
    --train_set train \
    --valid_set dev \
    --test_sets "dev test" \
    --speed_perturb_factors "0.9 1.0 1.1" \
    --asr_config conf/train_asr_conformer_fbank.yaml \
    --lm_config conf/train_lm_transformer.yaml \
    --inference_config conf/decode_asr.yaml \
    --inference_asr_model valid.acc.ave_10best.pth \
    --nj 32 --inference_nj 32 --ngpu 4 \
    "$@"
