"""Load a fairseq checkpoint without fairseq and without running its pickle.

torch.load unpickles whatever a checkpoint names; a checkpoint can therefore run
code (a `__reduce__` returning os.system, say). Here the unpickler resolves only
the globals real fairseq checkpoints hold: torch's tensor rebuilding, containers,
argparse.Namespace, numpy scalars and arrays, and fairseq / omegaconf classes,
which become inert stand-ins that only keep their data. Any other global is
refused with CheckpointError before anything is called.

    state = load_fairseq_checkpoint("chinese-hubert-large-fairseq-ckpt.pt")
    state["model"]                      # name -> tensor
    model_config(state), task_config(state)   # plain dicts, new or legacy style
"""

import argparse
import collections
import pickle
import types
import zipfile
from pathlib import Path

import torch


class CheckpointError(Exception):
    """A checkpoint that cannot be read safely or is not what we expect."""


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle naming a global that is not on the allowlist."""


class Inert:
    """Stand-in for a fairseq or omegaconf class: keeps constructor args and state."""

    qualified_name = "?"
    args, kwargs, state = (), {}, {}  # objects rebuilt with __new__ skip __init__

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs, self.state = args, kwargs, {}

    def __setstate__(self, state):
        self.state = state

    def __repr__(self):
        return f"<inert {self.qualified_name}>"


def inert_class(module, name):
    return type(name, (Inert,), {"qualified_name": f"{module}.{name}"})


def _numpy_globals():
    import numpy

    try:
        from numpy._core import multiarray
    except ImportError:  # numpy < 2
        from numpy.core import multiarray
    allowed = {("numpy", "dtype"): numpy.dtype, ("numpy", "ndarray"): numpy.ndarray}
    for core in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(core, "scalar")] = multiarray.scalar
        allowed[(core, "_reconstruct")] = multiarray._reconstruct
    return allowed


def _latin1_bytes(text, encoding="latin1"):
    """How protocol-2 pickles store bytes; only this codec is accepted."""
    if encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError(f"refused codec '{encoding}'")
    return text.encode(encoding)


# Globals that real checkpoints hold and that are safe to call while unpickling.
SAFE_GLOBALS = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor"): torch._utils._rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch", "Size"): torch.Size,
    ("argparse", "Namespace"): argparse.Namespace,
    ("_codecs", "encode"): _latin1_bytes,
    ("typing", "Any"): "typing.Any",  # omegaconf metadata: a type, used as data
}
for _name in ("dict", "list", "str", "int", "float", "bool", "tuple", "object"):
    SAFE_GLOBALS[("builtins", _name)] = f"builtins.{_name}"  # types used as data only
# Packages whose classes become inert stand-ins (never imported).
INERT_PACKAGES = ("fairseq", "omegaconf")


class RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in SAFE_GLOBALS:
            return SAFE_GLOBALS[(module, name)]
        numpy_globals = _numpy_globals()
        if (module, name) in numpy_globals:
            return numpy_globals[(module, name)]
        if module.split(".")[0] in INERT_PACKAGES:
            return inert_class(module, name)
        raise RefusedGlobal(
            f"refused to load global '{module}.{name}': it is not a class that fairseq "
            "checkpoints hold, and loading it could run code"
        )


# torch.load(..., pickle_module=restricted) uses our Unpickler for every pickle it reads.
restricted = types.SimpleNamespace(
    Unpickler=RestrictedUnpickler,
    load=lambda f, **kw: RestrictedUnpickler(f, **kw).load(),
    __name__="restricted",
)


def plain(obj):
    """Stand-ins and containers -> plain dicts, lists and values (recursively)."""
    if isinstance(obj, Inert):
        state = obj.state if isinstance(obj.state, dict) else {}
        if "_content" in state:  # omegaconf DictConfig / ListConfig
            return plain(state["_content"])
        if "_val" in state:  # omegaconf value nodes
            return plain(state["_val"])
        if obj.args and not state:  # an enum stand-in called with its value
            return plain(obj.args[0])
        return {k: plain(v) for k, v in state.items()}
    if isinstance(obj, argparse.Namespace):
        return {k: plain(v) for k, v in vars(obj).items()}
    if isinstance(obj, dict):
        return {k: plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(plain(v) for v in obj)
    return obj


def load_fairseq_checkpoint(path):
    """The checkpoint's top-level dict, with config objects turned into plain data."""
    if Path(path).is_dir():
        raise CheckpointError(
            f"{path}: is a folder, not a fairseq checkpoint (.pt file); a Hugging Face "
            "folder needs no conversion"
        )
    try:
        state = torch.load(path, map_location="cpu", pickle_module=restricted, weights_only=False)
    except RefusedGlobal as e:
        raise CheckpointError(f"{path}: {e}") from None
    except OSError as e:
        raise CheckpointError(f"{path}: {e.strerror or e}") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError, TypeError) as e:
        raise CheckpointError(f"{path}: {_unreadable(path, e)}") from None
    except Exception as e:  # whatever else a damaged pickle makes torch raise
        raise CheckpointError(
            f"{path}: not a readable PyTorch checkpoint ({type(e).__name__}: "
            f"{str(e).splitlines()[0][:120] if str(e) else ''})"
        ) from None
    if not isinstance(state, dict) or "model" not in state:
        raise CheckpointError(
            f"{path}: a PyTorch file but not a fairseq checkpoint (no 'model' entry)"
        )
    if not isinstance(state["model"], dict):
        raise CheckpointError(f"{path}: its 'model' entry is not a state dict")
    return {key: (value if key == "model" else plain(value)) for key, value in state.items()}


def _unreadable(path, error):
    """Why torch could not read `path`, in words."""
    if Path(path).stat().st_size == 0:
        return "an empty file, not a fairseq checkpoint"
    if zipfile.is_zipfile(path) or isinstance(error, RuntimeError):
        return "a damaged or truncated PyTorch checkpoint (the archive cannot be read)"
    return "not a PyTorch checkpoint (a fairseq .pt file is expected)"


def config_of(state):
    """The training configuration: cfg (fairseq >= 0.10) or the legacy args Namespace."""
    if state.get("cfg"):
        return state["cfg"]
    if state.get("args"):
        args = state["args"]
        return {"model": args, "task": args, "legacy": True}
    raise CheckpointError("the checkpoint has neither 'cfg' nor 'args'")
