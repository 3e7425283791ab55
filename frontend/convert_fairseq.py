"""Convert a fairseq wav2vec2 / HuBERT checkpoint to a Hugging Face folder, without fairseq.

    python -m frontend.convert_fairseq chinese-hubert-large-fairseq-ckpt.pt OUT_DIR

Reads pretraining checkpoints (wav2vec2, hubert) and fine-tuned ones (wav2vec_ctc,
hubert_ctc: their encoder), new style (`cfg`) or legacy (`args` Namespace), with
the restricted unpickler of frontend.checkpoint. Writes config.json,
preprocessor_config.json, model.safetensors and fairseq_conversion.json (what
was converted and which pretraining-only tensors were left out), so that
`transformers.AutoModel.from_pretrained(OUT_DIR)` and `AutoFeatureExtractor`
load it. A tensor that is neither mapped nor known to be pretraining-only, or a
model tensor left without a value, is an error that names it.

Configuration mapping (fairseq -> transformers):
  extractor_mode default | layer_norm -> feat_extract_norm group | layer
  layer_norm_first                    -> do_stable_layer_norm
  encoder_layers / _embed_dim / _ffn_embed_dim / _attention_heads, activation_fn
  conv_feature_layers [(dim, kernel, stride), ...] -> conv_dim, conv_kernel, conv_stride
  conv_bias, conv_pos, conv_pos_groups
  task.normalize -> preprocessor do_normalize; layer-norm extractors also get
                    return_attention_mask (group-norm models are run unpadded)
  no post_extract_proj (conv width = encoder width) -> identity projection

OUT_DIR is written beside itself and moved into place: an existing OUT_DIR is
replaced only when it is empty or an earlier output of this converter (its
.written_by marker), or with --force; never when it holds the checkpoint or the
current folder. A file that is no fairseq checkpoint is a one-line error.
"""

import argparse
import ast
import hashlib
import json
import re
import sys
from pathlib import Path

from fileio.atomic import OutputError, atomic_dir, check_output_dir, umask
from frontend.checkpoint import CheckpointError, config_of, load_fairseq_checkpoint

# fairseq's Wav2Vec2Config / HubertConfig defaults, for keys a legacy checkpoint lacks.
FAIRSEQ_DEFAULTS = {
    "extractor_mode": "default",
    "encoder_layers": 12,
    "encoder_embed_dim": 768,
    "encoder_ffn_embed_dim": 3072,
    "encoder_attention_heads": 12,
    "activation_fn": "gelu",
    "layer_norm_first": False,
    "conv_bias": False,
    "conv_pos": 128,
    "conv_pos_groups": 16,
    "conv_feature_layers": "[(512, 10, 5)] + [(512, 3, 2)] * 4 + [(512,2,2)] + [(512,2,2)]",
    "dropout": 0.1,
    "attention_dropout": 0.1,
    "activation_dropout": 0.0,
    "dropout_input": 0.0,
    "encoder_layerdrop": 0.0,
    "layer_type": "transformer",
    "pos_conv_depth": 1,
}
FINE_TUNED = {"wav2vec_ctc": "wav2vec2", "hubert_ctc": "hubert", "wav2vec_seq2seq": "wav2vec2"}
FINE_TUNED_PREFIX = "w2v_encoder.w2v_model."

# fairseq name -> transformers name (regular expressions, tried in order)
RENAMES = [
    (
        r"feature_extractor\.conv_layers\.(\d+)\.0\.(weight|bias)",
        r"feature_extractor.conv_layers.\1.conv.\2",
    ),
    (
        r"feature_extractor\.conv_layers\.0\.2\.(weight|bias)",
        r"feature_extractor.conv_layers.0.layer_norm.\1",
    ),
    (
        r"feature_extractor\.conv_layers\.(\d+)\.2\.1\.(weight|bias)",
        r"feature_extractor.conv_layers.\1.layer_norm.\2",
    ),
    (r"layer_norm\.(weight|bias)", r"feature_projection.layer_norm.\1"),
    (r"post_extract_proj\.(weight|bias)", r"feature_projection.projection.\1"),
    (r"encoder\.pos_conv\.0\.bias", r"encoder.pos_conv_embed.conv.bias"),
    (r"encoder\.pos_conv\.0\.weight_g", r"encoder.pos_conv_embed.conv.WEIGHT_G"),
    (r"encoder\.pos_conv\.0\.weight_v", r"encoder.pos_conv_embed.conv.WEIGHT_V"),
    (r"encoder\.layer_norm\.(weight|bias)", r"encoder.layer_norm.\1"),
    (
        r"encoder\.layers\.(\d+)\.self_attn\.(k|v|q|out)_proj\.(weight|bias)",
        r"encoder.layers.\1.attention.\2_proj.\3",
    ),
    (
        r"encoder\.layers\.(\d+)\.self_attn_layer_norm\.(weight|bias)",
        r"encoder.layers.\1.layer_norm.\2",
    ),
    (
        r"encoder\.layers\.(\d+)\.fc1\.(weight|bias)",
        r"encoder.layers.\1.feed_forward.intermediate_dense.\2",
    ),
    (
        r"encoder\.layers\.(\d+)\.fc2\.(weight|bias)",
        r"encoder.layers.\1.feed_forward.output_dense.\2",
    ),
    (
        r"encoder\.layers\.(\d+)\.final_layer_norm\.(weight|bias)",
        r"encoder.layers.\1.final_layer_norm.\2",
    ),
]
# Tensors only used by the pretraining (or fine-tuning) objective.
PRETRAINING_ONLY = re.compile(
    r"^(mask_emb|label_embs_concat|final_proj\..*|quantizer\..*|"
    r"project_q\..*|project_inp\..*|target_glu\..*|w2v_encoder\.proj\..*)$"
)


class ConversionError(Exception):
    pass


def architecture(state):
    """(model type 'wav2vec2'|'hubert', model cfg, task cfg, is fine-tuned) of a checkpoint."""
    cfg = config_of(state)
    model = cfg["model"] or {}
    name = model.get("_name") or model.get("arch") or ""
    if name in FINE_TUNED:
        inner = model.get("w2v_args")
        if not inner:
            raise ConversionError(
                f"fine-tuned '{name}' checkpoint without the pretraining configuration "
                "(w2v_args): convert the pretraining checkpoint it came from instead"
            )
        if "model" not in inner:  # legacy: a flat Namespace of pretraining args
            inner = {"model": inner, "task": inner}
        kind, model, task = FINE_TUNED[name], inner["model"], inner.get("task") or {}
        name = model.get("_name") or model.get("arch") or kind
        return _kind(name), model, task, True
    return _kind(name), model, cfg.get("task") or {}, False


def _kind(name):
    for kind in ("wav2vec2", "hubert"):
        if name.startswith(kind):
            return kind
    raise ConversionError(
        f"unsupported fairseq model '{name}' (wav2vec2, hubert and their "
        "CTC fine-tunings are supported)"
    )


def setting(model_cfg, key):
    value = model_cfg.get(key)
    return FAIRSEQ_DEFAULTS[key] if value is None else value


def conv_layers(spec):
    """'[(512, 10, 5)] + [(512, 3, 2)] * 4 ...' -> [(512, 10, 5), ...] without eval()."""
    tree = ast.parse(spec, mode="eval").body

    def value(node):
        if isinstance(node, ast.List):
            return [value(e) for e in node.elts]
        if isinstance(node, ast.Tuple):
            return tuple(value(e) for e in node.elts)
        if isinstance(node, ast.Constant) and isinstance(node.value, int):
            return node.value
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return value(node.left) + value(node.right)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            return value(node.left) * value(node.right)
        raise ConversionError(f"cannot read conv_feature_layers '{spec}'")

    layers = value(tree)
    if not all(isinstance(layer, tuple) and len(layer) == 3 for layer in layers):
        raise ConversionError(
            f"conv_feature_layers '{spec}' is not a list of (dim, kernel, stride)"
        )
    return layers


def hf_configs(kind, model_cfg, task_cfg):
    """(transformers config, feature extractor) for the fairseq settings."""
    from transformers import HubertConfig, Wav2Vec2Config, Wav2Vec2FeatureExtractor

    for key, supported in (("layer_type", "transformer"), ("pos_conv_depth", 1)):
        if setting(model_cfg, key) != supported:
            raise ConversionError(
                f"{key}={setting(model_cfg, key)} is not supported (only {supported})"
            )
    mode = setting(model_cfg, "extractor_mode")
    if mode not in ("default", "layer_norm"):
        raise ConversionError(f"unknown extractor_mode '{mode}'")
    layers = conv_layers(setting(model_cfg, "conv_feature_layers"))
    config_class = Wav2Vec2Config if kind == "wav2vec2" else HubertConfig
    config = config_class(
        hidden_size=setting(model_cfg, "encoder_embed_dim"),
        num_hidden_layers=setting(model_cfg, "encoder_layers"),
        num_attention_heads=setting(model_cfg, "encoder_attention_heads"),
        intermediate_size=setting(model_cfg, "encoder_ffn_embed_dim"),
        hidden_act=setting(model_cfg, "activation_fn"),
        hidden_dropout=setting(model_cfg, "dropout"),
        attention_dropout=setting(model_cfg, "attention_dropout"),
        activation_dropout=setting(model_cfg, "activation_dropout"),
        feat_proj_dropout=setting(model_cfg, "dropout_input"),
        layerdrop=setting(model_cfg, "encoder_layerdrop"),
        feat_extract_norm="group" if mode == "default" else "layer",
        feat_extract_activation="gelu",
        conv_dim=[c for c, _, _ in layers],
        conv_kernel=[k for _, k, _ in layers],
        conv_stride=[s for _, _, s in layers],
        conv_bias=bool(setting(model_cfg, "conv_bias")),
        num_conv_pos_embeddings=setting(model_cfg, "conv_pos"),
        num_conv_pos_embedding_groups=setting(model_cfg, "conv_pos_groups"),
        do_stable_layer_norm=bool(setting(model_cfg, "layer_norm_first")),
        layer_norm_eps=1e-5,
        # a frozen feature extractor: no SpecAugment-style masking, so no mask_emb
        apply_spec_augment=False,
        mask_time_prob=0.0,
        mask_feature_prob=0.0,
        architectures=["Wav2Vec2Model" if kind == "wav2vec2" else "HubertModel"],
    )
    feature_extractor = Wav2Vec2FeatureExtractor(
        feature_size=1,
        sampling_rate=16000,
        padding_value=0.0,
        do_normalize=bool(task_cfg.get("normalize", False)),
        return_attention_mask=mode == "layer_norm",
    )
    return config, feature_extractor


def hf_name(fairseq_name, weight_norm_names):
    """The transformers name of a (pretrained-model) fairseq tensor, or None."""
    gain, direction = weight_norm_names
    for pattern, replacement in RENAMES:
        if re.fullmatch(pattern, fairseq_name):
            target = re.sub(pattern, replacement, fairseq_name)
            return target.replace("WEIGHT_G", gain).replace("WEIGHT_V", direction)
    return None


def map_weights(fairseq_weights, hf_keys, fine_tuned, hf_shapes=None):
    """{hf name: tensor} and the sorted list of dropped pretraining-only names.

    A model whose convolutional feature width equals its encoder width has no
    post_extract_proj in fairseq (the features go to the encoder as they are):
    transformers' projection then gets the identity and a zero bias, which is exact."""
    names = weight_norm_names(hf_keys)
    mapped, dropped, unknown = {}, [], []
    for name, tensor in fairseq_weights.items():
        # a fine-tuned model holds the pretrained one under w2v_encoder.w2v_model.
        inner = name.removeprefix(FINE_TUNED_PREFIX) if fine_tuned else name
        if PRETRAINING_ONLY.match(inner):
            dropped.append(name)
            continue
        target = hf_name(inner, names) if not fine_tuned or inner != name else None
        if target is None:
            unknown.append(name)
        else:
            mapped[target] = tensor
    if unknown:
        raise ConversionError(f"unexpected tensors (no mapping): {', '.join(sorted(unknown))}")
    identity_projection(mapped, hf_shapes or {})
    missing = sorted(set(hf_keys) - set(mapped))
    if missing:
        raise ConversionError(
            f"model tensors without a value in the checkpoint: {', '.join(missing)}"
        )
    return mapped, sorted(dropped)


PROJECTION = "feature_projection.projection"


def identity_projection(mapped, hf_shapes):
    """Fill in the identity projection of a checkpoint without post_extract_proj
    (only when the projection is square, as fairseq builds it then)."""
    weight, bias = f"{PROJECTION}.weight", f"{PROJECTION}.bias"
    shape = tuple(hf_shapes.get(weight, ()))
    if weight in mapped or bias in mapped or len(shape) != 2 or shape[0] != shape[1]:
        return False
    import torch

    mapped[weight] = torch.eye(shape[0])
    mapped[bias] = torch.zeros(shape[0])
    return True


def weight_norm_names(hf_keys):
    """How the installed torch/transformers name the weight-normed conv's g and v."""
    if "encoder.pos_conv_embed.conv.parametrizations.weight.original0" in hf_keys:
        return "parametrizations.weight.original0", "parametrizations.weight.original1"
    return "weight_g", "weight_v"


TOOL = "frontend.convert_fairseq"


def check_output(checkpoint, out_dir, force=False):
    """Refuse (ConversionError) an OUT_DIR this command may not replace: one holding
    the checkpoint (whatever --force says), the current folder or one above it, a
    file, or a folder of other files (unless --force); see fileio.atomic."""
    out = Path(out_dir).resolve()
    if out == Path.cwd().resolve() or out in Path.cwd().resolve().parents:
        raise ConversionError(
            f"{out_dir}: is the current folder or holds it; the output must be a new "
            f"folder (e.g. {out_dir}/converted)"
        )
    try:
        check_output_dir(out_dir, TOOL, force=force, inputs=[checkpoint])
    except OutputError as e:
        raise ConversionError(str(e)) from None


CONVERSION_FILES = {
    "config.json",
    "preprocessor_config.json",
    "model.safetensors",
    "fairseq_conversion.json",
}


def unmarked_conversion(out_dir, extra_files=None):
    """Whether out_dir is a conversion written before the owner marker existed: its
    record and nothing but the files a conversion writes (a single file of the user's
    beside them makes it foreign)."""
    out_dir = Path(out_dir)
    if not (out_dir / "fairseq_conversion.json").is_file() or out_dir.is_symlink():
        return False
    ours = CONVERSION_FILES | set(extra_files or ())
    return all(path.name in ours and path.is_file() for path in out_dir.iterdir())


def convert(checkpoint, out_dir, log=print, force=False, extra_files=None):
    """Write the Hugging Face folder out_dir (atomically, replacing only an earlier
    output of this converter, or any folder with `force`, never one holding the
    checkpoint); extra_files: {name: text} written into it too. Returns the
    conversion record."""
    from transformers import AutoModel

    force = force or unmarked_conversion(out_dir, extra_files)
    check_output(checkpoint, out_dir, force)
    state = load_fairseq_checkpoint(checkpoint)
    try:
        kind, model_cfg, task_cfg, fine_tuned = architecture(state)
        config, feature_extractor = hf_configs(kind, model_cfg, task_cfg)
        model = AutoModel.from_config(config)
        hf_state = model.state_dict()
        identity = not any(name.endswith("post_extract_proj.weight") for name in state["model"])
        shapes = {k: tuple(v.shape) for k, v in hf_state.items()}
        mapped, dropped = map_weights(state["model"], list(hf_state), fine_tuned, shapes)
        for name, tensor in mapped.items():
            if tuple(tensor.shape) != tuple(hf_state[name].shape):
                raise ConversionError(
                    f"{name}: shape {tuple(tensor.shape)} in the checkpoint, "
                    f"{tuple(hf_state[name].shape)} expected from its config"
                )
        model.load_state_dict({k: v.float() for k, v in mapped.items()}, strict=True)
    except (ConversionError, KeyError, TypeError, AttributeError) as e:
        raise ConversionError(f"{checkpoint}: {e}") from None
    record = {
        "source": str(Path(checkpoint).resolve()),
        "sha256": _sha256(checkpoint),
        "model_type": kind,
        "fine_tuned": fine_tuned,
        "extractor_mode": setting(model_cfg, "extractor_mode"),
        "layer_norm_first": bool(setting(model_cfg, "layer_norm_first")),
        "normalize": feature_extractor.do_normalize,
        "identity_projection": identity,
        "converted_tensors": len(mapped),
        "dropped_pretraining_tensors": dropped,
    }
    try:
        with atomic_dir(out_dir, TOOL, force=force, inputs=[checkpoint]) as tmp:
            model.save_pretrained(tmp, safe_serialization=True)
            feature_extractor.save_pretrained(tmp)
            (tmp / "fairseq_conversion.json").write_text(json.dumps(record, indent=1) + "\n")
            for name, text in (extra_files or {}).items():
                (tmp / name).write_text(text)
            for path in tmp.rglob("*"):  # safetensors writes its file private (0600)
                path.chmod((0o777 if path.is_dir() else 0o666) & ~umask())
    except OutputError as e:
        raise ConversionError(str(e)) from None
    log(
        f"{checkpoint} -> {out_dir}: {kind}{' (fine-tuned encoder)' if fine_tuned else ''}, "
        f"{config.num_hidden_layers} layers x {config.hidden_size}, "
        f"extractor {config.feat_extract_norm} norm, normalize={feature_extractor.do_normalize}"
        + (", identity projection (no post_extract_proj)" if identity else "")
    )
    log(f"  dropped {len(dropped)} pretraining-only tensors: {', '.join(dropped) or 'none'}")
    return record


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("checkpoint", help="fairseq checkpoint (.pt)")
    parser.add_argument(
        "out_dir",
        help="Hugging Face folder to write: created, or replaced when it is empty or "
        "an earlier output of this converter",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace OUT_DIR even when it holds other files (never when it holds the "
        "checkpoint, nor the current folder)",
    )
    args = parser.parse_args(argv)
    try:
        convert(args.checkpoint, args.out_dir, force=args.force)
    except (ConversionError, CheckpointError) as e:
        sys.exit(f"convert_fairseq: error: {e}")
    except OSError as e:  # e.g. no permission to write OUT_DIR's parent
        sys.exit(f"convert_fairseq: error: {e.filename or args.out_dir}: {e.strerror or e}")


if __name__ == "__main__":
    main()
