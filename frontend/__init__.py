"""The SSL frontend: Chinese wav2vec2 / HuBERT models without fairseq.

- frontend.checkpoint: read fairseq checkpoints with a restricted unpickler
- frontend.convert_fairseq: fairseq checkpoint -> Hugging Face folder
- frontend.models: find a model (HF folder or fairseq .pt, converted once)
- frontend.ssl_forward: the frozen model's forward pass (frontend and extraction, with
  fairseq's input normalization)
- frontend.espnet_frontend: the weighted-sum-of-layers frontend for ESPnet
- frontend.pack: a trained model's config made self-contained for stage 10
- frontend.extract: hidden states as Kaldi feature matrices
- frontend.layer_weights: the learned layer weights of an experiment
- frontend.make_tiny_models: tiny random-weight models in both formats

May import: fileio (files and audio). Nothing from local/: ESPnet learns about the
frontend in local.runtime.espnet_bin.
"""
