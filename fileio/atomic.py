"""Write files and folders so that readers never see half-written outputs, and so
that no tool removes or overwrites what it did not write.

- atomic_file(path): a temporary file beside `path` that replaces it on success.
- atomic_dir(path, tool): a temporary folder beside `path` that replaces it on
  success. The folder gets a marker file (OWNER_FILE) naming `tool`; an existing
  `path` is replaced only when it is empty or holds the same tool's marker (an
  earlier output of that tool); anything else is refused with OutputError, unless
  `force` (never when the folder holds one of the tool's `inputs`).
- write_text(path, text): atomic_file for a whole text.
- make_folder(folder): mkdir -p, where a file in the way is an OutputError saying
  so (pathlib says "File exists" or "Not a directory", depending on where it is).

A temporary folder of atomic_dir holds a file locked by its writer; one left by a
killed writer (SIGKILL leaves it, Ctrl-C and SIGTERM through terminate_cleanly do
not) is removed by the next atomic_dir of the same output and tool.

Files and folders get the permissions the user's umask gives (mkstemp and mkdtemp
alone would make them private to the user).
"""

import contextlib
import fcntl
import glob
import os
import shutil
import signal
import socket
import tempfile
from pathlib import Path

OWNER_FILE = ".written_by"
WRITER_FILE = ".being_written_by"  # locked by the process while atomic_dir writes


class OutputError(Exception):
    """An output that would remove or overwrite something the tool did not write."""


def terminate_cleanly():
    """Make SIGTERM (what job runners and `kill` send) end the process like Ctrl-C
    does, through the `finally` blocks that remove temporary outputs."""

    def stop(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def umask():
    """The process's umask (read without changing it for longer than a moment)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _make_public(path, directory=False):
    """Give a file from mkstemp / a folder from mkdtemp the umask's permissions."""
    os.chmod(path, (0o777 if directory else 0o666) & ~umask())


def blocking_file(path):
    """The file (or dangling link) among `path` and its parents that keeps a folder
    from being made at `path`; None when there is none."""
    for place in reversed([Path(path), *Path(path).parents]):
        if os.path.lexists(place) and not place.is_dir():
            return place
    return None


def not_a_folder_error(path, for_file=None):
    """The OutputError for a folder `path` that cannot be made because of a file in
    the way (None when there is none); for_file: the output whose folder it is."""
    blocker = blocking_file(path)
    if blocker is None:
        return None
    what = f"{for_file}: cannot make its folder" if for_file else f"{path}: cannot make the folder"
    return OutputError(f"{what}: {blocker} is not a folder")


def make_folder(folder, for_file=None):
    """Make `folder` and its parents (those missing); a file in the way is OutputError
    naming it. for_file: the output whose folder it is, named in the message."""
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        error = not_a_folder_error(folder, for_file)
        if error is None:
            raise
        raise error from None


@contextlib.contextmanager
def atomic_file(path, mode="w", encoding="utf-8", owned=None):
    """Open a temporary file next to `path`; it replaces `path` only on success.

    owned: a function telling whether an existing `path` is an earlier output of
    the caller (e.g. by its first line); when it says no, OutputError is raised
    before anything is written.
    """
    path = Path(path)
    if owned is not None and path.exists() and not (path.is_file() and owned(path)):
        raise OutputError(
            f"{path}: exists and was not written by this tool; not overwritten "
            "(move it away or choose another output)"
        )
    make_folder(path.parent, for_file=path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        _make_public(tmp)
        kwargs = {} if "b" in mode else {"encoding": encoding}
        with open(tmp, mode, **kwargs) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path, text, owned=None):
    with atomic_file(path, owned=owned) as f:
        f.write(text)


def owner_of(folder):
    """The tool named by a folder's marker, or None."""
    try:
        return (Path(folder) / OWNER_FILE).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def check_output_dir(path, tool, force=None, inputs=()):
    """Refuse (OutputError) to replace folder `path` unless it is absent, empty or
    an earlier output of `tool` (or `force`); never when it is, or holds, one of
    `inputs` (whatever `force` says). force=None: the tool has no --force option."""
    path = Path(path)
    resolved = path.resolve()
    for source in inputs:
        source = Path(source).resolve()
        if source == resolved or resolved in source.parents:
            raise OutputError(
                f"{path}: the output folder holds the input {source}; "
                "choose an output folder that does not contain it"
            )
    here = Path.cwd().resolve()
    if resolved == here or resolved in here.parents:
        raise OutputError(f"{path}: the current folder or one above it; choose an output folder")
    if not os.path.lexists(path):
        error = not_a_folder_error(path)
        if error is not None:  # a file where a parent folder should be: refused now
            raise error
        return
    if not path.is_dir() or path.is_symlink():
        raise OutputError(f"{path}: exists and is not a folder; not replaced")
    if force or owner_of(path) == tool or not any(path.iterdir()):
        return
    found = owner_of(path)
    by = f"was written by {found}" if found else "holds files this tool did not write"
    remedy = "move it away or choose another folder" + (
        ", or use --force" if force is False else ""
    )
    raise OutputError(f"{path}: {by}; not replaced ({remedy})")


@contextlib.contextmanager
def atomic_dir(path, tool, force=None, inputs=()):
    """Yield a fresh temporary folder that replaces `path` when the block succeeds.

    The existing `path` stays untouched until the new one is complete, and is
    replaced only as check_output_dir allows (checked before and again after the
    block, in case the folder changed meanwhile); on failure the temporary folder is
    removed and `path` is left as it was.
    """
    path = Path(path)
    check_output_dir(path, tool, force, inputs)
    make_folder(path.parent, for_file=path)
    remove_abandoned(path, tool)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    writer = None
    try:
        _make_public(tmp, directory=True)
        (tmp / OWNER_FILE).write_text(tool + "\n", encoding="utf-8")
        writer = _claim(tmp / WRITER_FILE)
        yield tmp
        check_output_dir(path, tool, force, inputs)
        (tmp / WRITER_FILE).unlink()
        replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if writer is not None:
            writer.close()  # releases the lock, after the folder has moved into place


def _claim(path):
    """Create `path` holding an exclusive lock on it until the returned file is closed
    (the kernel releases it when the process ends in any way, SIGKILL too). Locked
    before it gets its name, so that no one ever finds it unlocked while we live; on a
    file system without locks it stays unlocked, and remove_abandoned, failing to lock
    it too, keeps it."""
    f = open(path.with_name(path.name + ".new"), "w")
    with contextlib.suppress(OSError):
        fcntl.flock(f, fcntl.LOCK_EX)
    f.write(f"{socket.gethostname()} {os.getpid()}\n")  # for a reader's eyes only
    f.flush()
    os.rename(f.name, path)
    return f


def remove_abandoned(path, tool):
    """Remove the temporary folders that atomic_dir(path, tool) left when its process
    was killed (SIGKILL, a crash of the machine): those of this tool whose writer
    file nobody holds locked any more. A live writer's (locked) and other tools' are
    kept."""
    for tmp in Path(path).parent.glob(f".{glob.escape(Path(path).name)}.*.tmp"):
        if tmp.is_symlink() or owner_of(tmp) != tool:
            continue
        try:
            with open(tmp / WRITER_FILE) as f:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                shutil.rmtree(tmp, ignore_errors=True)  # under the lock: no writer can start
        except OSError:  # no writer file (not ours, or moved into place), or locked: alive
            continue


def replace_dir(new, path):
    """Move folder `new` to `path`, replacing what is there (the caller has checked
    that it may: check_output_dir)."""
    path = Path(path)
    if os.path.lexists(path):
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
        os.replace(path, old / "x")
        os.replace(new, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, path)
