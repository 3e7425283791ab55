"""Make tiny wav2vec2 / HuBERT models with random weights, in both formats.

    python -m frontend.make_tiny_models OUT_DIR

For hubert and wav2vec2, a BASE-type (group-norm convolutions, post-LN
transformer) and a LARGE-type (layer-norm convolutions, pre-LN, normalized
input) model with the real architecture at a tiny size, each written twice:

    OUT_DIR/tiny-<model>-<type>/                        Hugging Face folder
    OUT_DIR/tiny-<model>-<type>-fairseq-ckpt.pt         fairseq checkpoint layout

The checkpoint has fairseq's tensor names, `cfg` (model and task sections) and
its pretraining-only tensors, so frontend.convert_fairseq converts it back to the
same network. They let the recipes and tests run the SSL frontend on a CPU with
no download; their features are random, not speech representations. Each is
written atomically; an existing tiny-* folder is replaced only when this command
wrote it (its .written_by marker), otherwise the command stops naming it.
"""

import argparse
import sys
import zipfile
from pathlib import Path

import torch

from fileio.atomic import OutputError, atomic_dir, atomic_file, check_output_dir, umask
from frontend.convert_fairseq import hf_configs, hf_name, weight_norm_names

TOOL = "frontend.make_tiny_models"

CONV = [(32, 10, 5)] + [(32, 3, 2)] * 4 + [(32, 2, 2)] * 2
CONV_SPEC = "[(32, 10, 5)] + [(32, 3, 2)] * 4 + [(32, 2, 2)] * 2"
SIZES = {
    "base": dict(
        extractor_mode="default",
        layer_norm_first=False,
        conv_bias=False,
        normalize=False,
        encoder_layers=3,
        encoder_embed_dim=48,
        encoder_ffn_embed_dim=96,
        encoder_attention_heads=4,
        conv_pos=16,
        conv_pos_groups=4,
    ),
    "large": dict(
        extractor_mode="layer_norm",
        layer_norm_first=True,
        conv_bias=True,
        normalize=True,
        encoder_layers=4,
        encoder_embed_dim=64,
        encoder_ffn_embed_dim=128,
        encoder_attention_heads=4,
        conv_pos=16,
        conv_pos_groups=4,
    ),
}
FINAL_DIM = 16


def fairseq_cfg(kind, size):
    settings = dict(SIZES[size])
    normalize = settings.pop("normalize")
    model = dict(
        _name=kind,
        conv_feature_layers=CONV_SPEC,
        activation_fn="gelu",
        final_dim=FINAL_DIM,
        dropout=0.1,
        attention_dropout=0.1,
        activation_dropout=0.0,
        dropout_input=0.0,
        encoder_layerdrop=0.05,
        **settings,
    )
    task = dict(
        _name=f"{'audio' if kind == 'wav2vec2' else 'hubert'}_pretraining",
        normalize=normalize,
        sample_rate=16000,
    )
    return {"model": model, "task": task}


def fairseq_names(cfg):
    """The tensor names of a pretrained fairseq model with these settings."""
    model = cfg["model"]
    names = []
    for i in range(len(CONV)):
        names.append(f"feature_extractor.conv_layers.{i}.0.weight")
        if model["conv_bias"]:
            names.append(f"feature_extractor.conv_layers.{i}.0.bias")
        if model["extractor_mode"] == "layer_norm":
            names += [f"feature_extractor.conv_layers.{i}.2.1.{p}" for p in ("weight", "bias")]
        elif i == 0:
            names += [f"feature_extractor.conv_layers.0.2.{p}" for p in ("weight", "bias")]
    names += [
        "layer_norm.weight",
        "layer_norm.bias",
        "post_extract_proj.weight",
        "post_extract_proj.bias",
        "encoder.pos_conv.0.bias",
        "encoder.pos_conv.0.weight_g",
        "encoder.pos_conv.0.weight_v",
        "encoder.layer_norm.weight",
        "encoder.layer_norm.bias",
    ]
    for layer in range(model["encoder_layers"]):
        prefix = f"encoder.layers.{layer}."
        for part in (
            "self_attn.q_proj",
            "self_attn.k_proj",
            "self_attn.v_proj",
            "self_attn.out_proj",
            "self_attn_layer_norm",
            "fc1",
            "fc2",
            "final_layer_norm",
        ):
            names += [f"{prefix}{part}.weight", f"{prefix}{part}.bias"]
    return names


def pretraining_tensors(kind, dim):
    """Random stand-ins for the heads a pretraining checkpoint also holds."""
    tensors = {
        "mask_emb": torch.rand(dim),
        "final_proj.weight": torch.randn(FINAL_DIM, dim),
        "final_proj.bias": torch.randn(FINAL_DIM),
    }
    if kind == "hubert":
        tensors["label_embs_concat"] = torch.randn(104, FINAL_DIM)  # 4 specials + 100 clusters
    else:
        tensors.update(
            {
                "quantizer.vars": torch.randn(1, 16, FINAL_DIM // 2),
                "quantizer.weight_proj.weight": torch.randn(16, CONV[-1][0]),
                "quantizer.weight_proj.bias": torch.randn(16),
                "project_q.weight": torch.randn(FINAL_DIM, FINAL_DIM),
                "project_q.bias": torch.randn(FINAL_DIM),
            }
        )
    return tensors


def make(kind, size, out_dir, seed=0):
    """Write the Hugging Face folder and the fairseq checkpoint of one tiny model."""
    from transformers import AutoModel

    torch.manual_seed(seed)
    cfg = fairseq_cfg(kind, size)
    config, feature_extractor = hf_configs(kind, cfg["model"], cfg["task"])
    model = AutoModel.from_config(config)
    with torch.no_grad():  # non-default norms and biases, so that a mis-mapped tensor shows
        for name, parameter in model.named_parameters():
            if "norm" in name or name.endswith("bias"):
                parameter.add_(0.1 * torch.randn_like(parameter))
    folder = model_folder(out_dir, kind, size)
    with atomic_dir(folder, TOOL) as tmp:  # replaces only an earlier tiny model
        model.save_pretrained(tmp, safe_serialization=True)
        feature_extractor.save_pretrained(tmp)
        for path in tmp.rglob("*"):  # safetensors writes its file private (0600)
            path.chmod(0o666 & ~umask())

    hf_state = model.state_dict()
    names = weight_norm_names(list(hf_state))
    weights = {n: hf_state[hf_name(n, names)].clone() for n in fairseq_names(cfg)}
    weights.update(pretraining_tensors(kind, config.hidden_size))
    checkpoint = {
        "args": None,
        "cfg": cfg,
        "model": weights,
        "optimizer_history": [],
        "extra_state": {"epoch": 1, "written_by": TOOL},
        "task_state": {},
    }
    with atomic_file(checkpoint_path(out_dir, kind, size), mode="wb", owned=ours) as f:
        torch.save(checkpoint, f)
    return folder


def model_folder(out_dir, kind, size):
    return Path(out_dir) / f"tiny-{kind}-{size}"


def checkpoint_path(out_dir, kind, size):
    folder = model_folder(out_dir, kind, size)
    return folder.with_name(f"{folder.name}-fairseq-ckpt.pt")


def ours(path):
    """Whether a checkpoint file is one this tool wrote (its pickle names the tool)."""
    try:
        with zipfile.ZipFile(path) as archive:
            pickles = [n for n in archive.namelist() if n.endswith("/data.pkl")]
            return bool(pickles) and TOOL.encode() in archive.read(pickles[0])
    except (OSError, zipfile.BadZipFile):
        return False


def check_outputs(out_dir, models):
    """Refuse (OutputError) before anything is written when an output is not ours."""
    for kind, size in models:
        check_output_dir(model_folder(out_dir, kind, size), TOOL)
        path = checkpoint_path(out_dir, kind, size)
        if path.exists() and not (path.is_file() and ours(path)):
            raise OutputError(f"{path}: exists and was not written by this tool; not replaced")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    models = [(k, s) for k in ("hubert", "wav2vec2") for s in SIZES]
    if not 0 <= args.seed < 2**31:  # a seed every library takes, with room for seed + i
        parser.error(f"--seed {args.seed}: a whole number from 0 to {2**31 - 1}")
    try:
        check_outputs(args.out_dir, models)
        for i, (kind, size) in enumerate(models):
            print(make(kind, size, args.out_dir, seed=args.seed + i))
    except OutputError as e:
        sys.exit(f"frontend.make_tiny_models: error: {e}")
    except OSError as e:
        sys.exit(
            f"frontend.make_tiny_models: error: {e.filename or args.out_dir}: {e.strerror or e}"
        )


if __name__ == "__main__":
    main()
