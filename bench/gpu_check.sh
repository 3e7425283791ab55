#!/usr/bin/env bash
# The SSL path on one GPU: a few training steps of the real-size hubert-large Aishell
# config (conf/train_asr_conformer_hubert_large.yaml: Conformer 12 x 256, random
# weights, synthetic audio with Aishell's length distribution, 187.5 s of audio per
# step = batch_bins 12000000 over 4 GPUs), the frozen upstream in float32, float16 and
# bfloat16, and ESPnet's stock S3prlFrontend for a ratio: step time, audio seconds per
# second, peak GPU memory, features' relative difference from float32.
#
#   bash bench/gpu_check.sh                      # on the GPU (about 3-5 minutes on one)
#   bash bench/gpu_check.sh --device cpu --steps 2   # tiny sizes on CPU (CI, < 1 minute)
#
# Options: --device cuda|cpu (default cuda), --steps N (default 5), --out FILE (JSON,
# default gpu_check.json). Put the printed table into bench/README.md with the date,
# revision and machine. Last line: s3prl_ratio=... fp16_err=... bf16_err=...
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
device=cuda
steps=5
out=gpu_check.json
while [ $# -gt 0 ]; do
  case $1 in
    --device) device=$2; shift 2 ;;
    --steps) steps=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "gpu_check.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $steps =~ ^[1-9][0-9]*$ ]] || { echo "gpu_check.sh: --steps '$steps': a positive number" >&2; exit 2; }
. "$here/../path.sh"
tiny=()
batch_seconds=187.5
if [ "$device" = cpu ]; then tiny=(--tiny); batch_seconds=8; fi
python "$here/gpu_check.py" --device "$device" --steps "$steps" --out "$out" \
  --batch_seconds "$batch_seconds" "${tiny[@]}"
