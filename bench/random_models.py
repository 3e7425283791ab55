"""Random-weight HuBERT models of the real sizes, as Hugging Face folders, for the
benchmarks (nothing is downloaded): the LARGE and BASE architectures of
chinese-hubert-large / -base (the same shapes as their config.json)."""

from pathlib import Path

HUBERT_ARCHITECTURES = {
    "hubert-large": dict(
        hidden_size=1024,
        num_hidden_layers=24,
        num_attention_heads=16,
        intermediate_size=4096,
        feat_extract_norm="layer",
        conv_bias=True,
        do_stable_layer_norm=True,
    ),
    "hubert-base": dict(
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        feat_extract_norm="group",
        conv_bias=False,
        do_stable_layer_norm=False,
    ),
}


def hubert_folder(folder, arch="hubert-large", seed=0):
    """Write a random `arch` model (with its preprocessor config) to `folder`."""
    import torch
    from transformers import HubertConfig, HubertModel, Wav2Vec2FeatureExtractor

    torch.manual_seed(seed)
    large = arch.endswith("large")  # LARGE models normalize their input, with a mask
    config = HubertConfig(
        **HUBERT_ARCHITECTURES[arch], apply_spec_augment=False, mask_time_prob=0.0
    )
    HubertModel(config).save_pretrained(folder)
    Wav2Vec2FeatureExtractor(do_normalize=large, return_attention_mask=large).save_pretrained(
        folder
    )
    return Path(folder)
