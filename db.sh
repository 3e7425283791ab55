# Where the corpora and the pretrained models are (recipes link to this file).
# An environment variable of the same name overrides each line, e.g.
#   AISHELL=/data/aishell ./run.sh
MAIN_ROOT=${MAIN_ROOT:-$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)}

# Aishell-1: the folder holding data_aishell/ (https://www.openslr.org/33/)
AISHELL=${AISHELL:-downloads}
# WenetSpeech: the folder holding WenetSpeech.json and audio/ (https://wenet.org.cn/WenetSpeech/)
WENETSPEECH=${WENETSPEECH:-downloads/wenetspeech}
# The embedded mini corpus (Aishell layout, shipped with the project)
MINI_ZH=${MINI_ZH:-$MAIN_ROOT/egs2/mini_zh/asr1/corpus}

# Pretrained Chinese SSL models (https://github.com/TencentGameMate/chinese_speech_pretrain):
# a Hugging Face folder (config.json, preprocessor_config.json, weights) or a fairseq
# checkpoint (chinese-*-fairseq-ckpt.pt, converted once without fairseq).
CHINESE_WAV2VEC2_BASE=${CHINESE_WAV2VEC2_BASE:-downloads/chinese-wav2vec2-base}
CHINESE_WAV2VEC2_LARGE=${CHINESE_WAV2VEC2_LARGE:-downloads/chinese-wav2vec2-large}
CHINESE_HUBERT_BASE=${CHINESE_HUBERT_BASE:-downloads/chinese-hubert-base}
CHINESE_HUBERT_LARGE=${CHINESE_HUBERT_LARGE:-downloads/chinese-hubert-large}

# Tiny random-weight SSL models of the mini recipe (frontend.make_tiny_models writes
# them; egs2/mini_zh/asr1/run_ssl.sh does it when they are missing)
TINY_SSL=${TINY_SSL:-$MAIN_ROOT/egs2/mini_zh/asr1/downloads/tiny_ssl}
TINY_HUBERT_BASE=${TINY_HUBERT_BASE:-$TINY_SSL/tiny-hubert-base-fairseq-ckpt.pt}
TINY_HUBERT_LARGE=${TINY_HUBERT_LARGE:-$TINY_SSL/tiny-hubert-large-fairseq-ckpt.pt}
TINY_WAV2VEC2_BASE=${TINY_WAV2VEC2_BASE:-$TINY_SSL/tiny-wav2vec2-base}
TINY_WAV2VEC2_LARGE=${TINY_WAV2VEC2_LARGE:-$TINY_SSL/tiny-wav2vec2-large}
