"""The SSL frontend: Chinese wav2vec2 / HuBERT models without fairseq.

- frontend.checkpoint: read fairseq checkpoints with a restricted unpickler
- frontend.convert_fairseq: fairseq checkpoint -> Hugging Face folder
- frontend.models: find a model (HF folder or fairseq .pt, converted once)
- frontend.espnet_frontend: the weighted-sum-of-layers frontend for ESPnet
"""
