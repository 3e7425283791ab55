"""A packed model (stage 10's archive, or that archive unpacked in any folder) as
ESPnet's Speech2Text.

    speech2text = load_packed("exp/asr_x/packed/asr_x.zip", device="cpu")
    speech2text = load_packed("some/folder/")      # the archive unzipped there

Reads: the archive (zip or tar, as espnet2's `pack` writes it) or the folder:
`meta.yaml` names the model's files (`yaml_files`: asr_train_config,
lm_train_config; `files`: asr_model_file, lm_file) by their names inside the
pack; the configs name other packed files (token list, feature statistics, ...)
by the same names. The decode config packed by stage 10 (`decode*.yaml`, or the
only other YAML file of the pack) gives the search options; a `config` file and
single options replace only the keys they name (local.decode.options says how
they are checked).

Writes: an archive is unpacked once into a cache folder, again when the archive
changes (size or time): `<archive>.unpacked/` beside it when that folder can be
written there, else `$XDG_CACHE_HOME/zh-ssl-asr/<name>-<hash of its path>/`
(`~/.cache/zh-ssl-asr/...`). The folder is built under a temporary name and moved
into place (fileio.atomic.atomic_dir: a failed unpack leaves nothing; a folder
this tool did not write is never replaced). Loading writes the configs with their
file names made absolute to a temporary folder, removed once the model is built;
a packed folder is only read.

Everything wrong with the path (no such path, not an archive, a damaged
archive, no meta.yaml, a file meta.yaml names that is not there) is a PackError
whose one-line message names the path and what is missing.
"""

import functools
import hashlib
import inspect
import os
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

import yaml

from fileio.atomic import OutputError, atomic_dir, owner_of
from fileio.kaldi_table import DataError
from fileio.yaml_file import parse_yaml, read_yaml
from local.decode.options import (
    PROGRAM_ONLY,
    OptionError,
    api_label,
    check_beam,
    check_device,
    file_label,
    search_layer,
)
from local.runtime.quiet import third_party_output_to_stderr

TOOL = "local.decode.packed_model"
STAMP = ".source"  # "<size> <mtime_ns>" of the archive a cache folder was unpacked from
META = "meta.yaml"
SPEECH2TEXT_FILES = ("asr_train_config", "asr_model_file", "lm_train_config", "lm_file")


class PackError(Exception):
    """A path that is not a usable packed model (one-line message)."""


# --- the archive ------------------------------------------------------------------


def _safe_name(name):
    """A member name that stays inside the folder it is unpacked into."""
    parts = PurePosixPath(name).parts
    return bool(parts) and not PurePosixPath(name).is_absolute() and ".." not in parts


class _Archive:
    """Member names and extraction of a zip or tar archive (PackError when it is neither)."""

    def __init__(self, path):
        self.path = path = Path(path)
        try:
            if zipfile.is_zipfile(path):
                self.zip = zipfile.ZipFile(path)
                self.tar = None
                self.names = [n for n in self.zip.namelist() if not n.endswith("/")]
            elif tarfile.is_tarfile(path):
                self.zip = None
                self.tar = tarfile.open(path)
                self.names = [m.name for m in self.tar.getmembers() if m.isfile()]
            else:
                kind = "a readable zip archive" if path.suffix == ".zip" else "a zip or tar archive"
                raise PackError(f"{path}: not a packed model: not {kind} (truncated or damaged?)")
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as e:
            raise PackError(f"{path}: damaged archive ({e})") from e
        except OSError as e:
            raise PackError(f"{path}: cannot read: {e.strerror or e}") from e
        unsafe = [n for n in self.names if not _safe_name(n)]
        if unsafe:
            self.close()
            raise PackError(f"{path}: member {unsafe[0]!r} would be written outside the folder")

    def read(self, name):
        try:
            if self.zip is not None:
                return self.zip.read(name)
            return self.tar.extractfile(name).read()
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as e:
            raise PackError(f"{self.path}: damaged archive ({e})") from e

    def extract_all(self, folder):
        try:
            if self.zip is not None:
                for name in self.names:
                    target = folder / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with self.zip.open(name) as src, open(target, "wb") as dst:
                        while block := src.read(1 << 20):
                            dst.write(block)
            else:
                self.tar.extractall(folder, members=self._tar_files(), filter="data")
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as e:
            raise PackError(f"{self.path}: damaged archive ({e})") from e

    def _tar_files(self):
        return [m for m in self.tar.getmembers() if m.isfile()]

    def close(self):
        (self.zip or self.tar).close()


def _stamp(archive):
    stat = archive.stat()
    return f"{stat.st_size} {stat.st_mtime_ns}"


def _user_cache(archive):
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    digest = hashlib.sha1(str(archive).encode("utf-8", "surrogateescape")).hexdigest()[:12]
    return Path(base) / "zh-ssl-asr" / f"{archive.name}-{digest}"


def _cached(folder, stamp):
    """Whether `folder` is this tool's unpacked copy of the archive with `stamp`."""
    try:
        return owner_of(folder) == TOOL and (folder / STAMP).read_text().strip() == stamp
    except OSError:
        return False


def unpack(path):
    """The cache folder holding the unpacked archive `path` (unpacked now if needed)."""
    archive = Path(path).resolve()
    stamp = _stamp(archive)
    places = [archive.parent / f"{archive.name}.unpacked", _user_cache(archive)]
    for folder in places:
        if _cached(folder, stamp):
            return folder
    opened = _Archive(path)
    try:
        if META not in opened.names:
            raise PackError(f"{path}: not a packed model: the archive has no {META}")
        check_meta(opened.read(META), set(opened.names).__contains__, path)
        failures = []
        for folder in places:
            try:
                with atomic_dir(folder, TOOL) as tmp:
                    opened.extract_all(tmp)
                    (tmp / STAMP).write_text(stamp + "\n")
                return folder
            except (OSError, OutputError) as e:  # not writable, full, or not ours
                failures.append(f"{folder}: {getattr(e, 'strerror', None) or e}")
        raise PackError(f"{path}: cannot unpack it anywhere ({'; '.join(failures)})")
    finally:
        opened.close()


# --- the packed folder ----------------------------------------------------------


def _packed_name(value):
    """A name from meta.yaml as a path inside the pack (espnet2 packs files outside
    the recipe folder under their absolute path, which the archive stores relative)."""
    return str(PurePosixPath(value.lstrip("/")))


def check_meta(text, exists, where):
    """{key: name in the pack} of the model files a meta.yaml text names, each
    checked by `exists(name)`; PackError naming `where` and what is missing."""
    try:
        meta = parse_yaml(text, f"{where}: {META}")
    except DataError as e:
        raise PackError(str(e)) from None
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), dict):
        raise PackError(f"{where}: {META} is not a pack's (no 'files' mapping)")
    entries = {**meta["files"], **(meta.get("yaml_files") or {})}
    names = {}
    for key, value in entries.items():
        if not isinstance(value, str) or not _safe_name(_packed_name(value)):
            raise PackError(f"{where}: {META} entry {key}: {value!r} is not a file of the pack")
        names[key] = _packed_name(value)
        if not exists(names[key]):
            raise PackError(f"{where}: {key} {names[key]} (named in {META}) is missing")
    for key in ("asr_train_config", "asr_model_file"):
        if key not in names:
            raise PackError(f"{where}: {META} names no {key}")
    return names


def read_meta(folder):
    """{key: path} of the model files the meta.yaml of a packed folder names."""
    meta_file = folder / META
    if not meta_file.is_file():
        raise PackError(
            f"{folder}: not a packed model folder: no {META} (a stage 10 archive, or one "
            "unzipped into this folder, is needed)"
        )
    try:
        text = meta_file.read_bytes()
    except OSError as e:
        raise PackError(f"{meta_file}: cannot read: {e.strerror or e}") from e
    names = check_meta(text, lambda name: (folder / name).is_file(), folder)
    return {key: folder / name for key, name in names.items()}


def _members(folder):
    return sorted(
        str(p.relative_to(folder).as_posix())
        for p in folder.rglob("*")
        if p.is_file() and p.name != STAMP
    )


def _absolute_names(value, members, folder):
    """`value` (a loaded YAML document) with every string naming a packed file or
    folder replaced by its path in `folder` (what espnet2's unpack does to configs)."""
    from espnet2.main_funcs.pack_funcs import find_path_and_change_it_recursive

    names = set(members)
    for member in members:  # the folders of packed files too (e.g. an SSL model's config)
        names.update(str(parent) for parent in PurePosixPath(member).parents if str(parent) != ".")
    wanted = set()
    _strings(value, wanted)
    for name in names:
        for form in (name, "/" + name):
            if form in wanted:
                value = find_path_and_change_it_recursive(value, form, str(folder / name))
    return value


def _strings(value, out):
    if isinstance(value, dict):
        for v in value.values():
            _strings(v, out)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _strings(v, out)
    elif isinstance(value, str):
        out.add(str(PurePosixPath(value)) if value else value)


def decode_config(folder, files):
    """The packed decode config: decode*.yaml, else the only YAML file of the pack
    that is not a model config; None when there is none."""
    listed = {p.resolve() for p in files.values()} | {(folder / META).resolve()}
    others = [
        p
        for p in sorted(folder.rglob("*.y*ml"))
        if p.suffix in (".yaml", ".yml") and p.resolve() not in listed
    ]
    named = [p for p in others if p.name.startswith("decode")]
    if named:
        return named[0]
    return others[0] if len(others) == 1 else None


@functools.cache  # ESPnet's parser is built once, not for every config read
def espnet_search_options():
    """{option: default} of ESPnet's Speech2Text that a decode config may name, and
    the options of its decoding program that are not the search's (ignored, as
    stage 7 uses them)."""
    from espnet2.bin.asr_inference import Speech2Text, get_parser

    parameters = inspect.signature(Speech2Text.__init__).parameters
    skip = {"self", *SPEECH2TEXT_FILES, *PROGRAM_ONLY}
    defaults = {k: p.default for k, p in parameters.items() if k not in skip}
    program = {action.dest for action in get_parser()._actions} - set(defaults)
    return defaults, program


def config_options(path):
    """The search options of a decode config file, checked (PackError when the file
    cannot be read, OptionError naming the file and key of a bad value)."""
    try:
        options = read_yaml(path) or {}
    except DataError as e:
        raise PackError(f"the decode config {e}") from None
    if not isinstance(options, dict):
        raise PackError(f"{path}: a decode config is a mapping of options")
    known, program = espnet_search_options()
    return search_layer(options, known, file_label(path), ignore=program)


def model_folder(path):
    """The folder of a packed model given as an archive or a folder."""
    path = Path(path)
    if not path.exists():
        raise PackError(f"{path}: no such file or folder")
    if path.is_dir():
        read_meta(path)
        return path.resolve()
    return unpack(path)


def load_packed(path, config=None, device="cpu", label=api_label, **overrides):
    """Speech2Text of a packed model; its search options are the packed decode
    config's, replaced key by key by those of `config` (a decode config file), then
    by `overrides` (e.g. beam_size=5): local.decode.options."""
    folder = model_folder(path)  # before the slow imports: a bad path fails at once
    if config is not None and (str(config) == "" or not Path(config).is_file()):
        problem = "is a folder" if str(config) and Path(config).is_dir() else "no such file"
        raise PackError(f"the decode config {str(config) or repr('')}: {problem}")
    check_device(device)

    with third_party_output_to_stderr():
        import local.runtime.espnet_bin  # noqa: F401  first: our frontend, deferred g2p_en

        # isort: split
        from espnet2.bin.asr_inference import Speech2Text

    files = read_meta(folder)
    packed = decode_config(folder, files)
    options = config_options(packed) if packed is not None else {}
    source = dict.fromkeys(options, file_label(packed))  # option -> where it was set
    defaults, _ = espnet_search_options()
    layers = [(config_options(config), file_label(config))] if config is not None else []
    layers.append((search_layer(overrides, defaults, label), label))
    for layer, where in layers:
        if "lm_file" not in files and layer.get("lm_weight", 0) > 0:
            raise OptionError(
                f"{where('lm_weight', layer['lm_weight'])}: the model {path} has no language "
                "model (use 0)"
            )
        options.update(layer)
        source.update(dict.fromkeys(layer, where))
    if "lm_file" not in files:
        options["lm_weight"] = 0.0
    members = _members(folder)
    with tempfile.TemporaryDirectory(prefix="zh-ssl-asr-") as tmp:
        kwargs = {}
        for key in SPEECH2TEXT_FILES:
            if key not in files:
                continue
            if key.endswith("_config"):
                try:
                    document = read_yaml(files[key])
                except DataError as e:
                    raise PackError(str(e)) from None
                rewritten = Path(tmp) / f"{key}.yaml"
                rewritten.write_text(
                    yaml.safe_dump(_absolute_names(document, members, folder), allow_unicode=True),
                    encoding="utf-8",
                )
                kwargs[key] = str(rewritten)
            else:
                kwargs[key] = str(files[key])
        with third_party_output_to_stderr():
            speech2text = Speech2Text(**kwargs, **options, device=device)
    beam = speech2text.beam_search.beam_size if speech2text.beam_search is not None else 1
    check_beam(beam, len(speech2text.asr_model.token_list), source.get("beam_size", label))
    return speech2text
