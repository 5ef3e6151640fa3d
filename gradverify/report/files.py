"""Writing files so that a reader never sees half a report; nothing here knows a format
(`formats` names the files and renders their text).

Every file of one run is written to a temporary file beside its target and
renamed over it (`os.replace`, atomic on one file system) only once all are
written, under an exclusive lock on the folder: Ctrl-C leaves the previous
report whole, and two runs into one folder cannot interleave their files. Each
file gets the mode a plain write would leave: the old file's, else 0666 less
the umask.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from ..errors import InvalidArgument
from .escape import encodable

__all__ = ["check_folder", "refuse_folders", "write_files", "write_atomically", "folder_lock", "encodable_texts"]

LOCK_NAME = ".gradverify.lock"


def _unwritable(folder: Path, exc: OSError) -> InvalidArgument:
    return InvalidArgument("a folder the report can be written to", f"--out {folder} ({exc.strerror})",
                           "Pass another --out, or --no-write to only print.")


def refuse_folders(folder: Path, names) -> None:
    """Refuse a folder where a file of ``names`` is to be written."""
    for name in names:
        if (folder / name).is_dir():
            raise InvalidArgument(f"{name} to be a file or absent", f"a folder at {folder / name}",
                                  "Remove or rename that folder, or pass another --out.")


def check_folder(folder: Path, names=()) -> None:
    """Raise `InvalidArgument` unless files ``names`` can be written into ``folder``: before the work,
    not after it. The probe is a fresh unique file, so runs at the same time cannot race on it."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".gradverify-write-test-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _unwritable(folder, exc) from exc
    refuse_folders(folder, names)


@contextlib.contextmanager
def folder_lock(folder: Path):
    """An exclusive lock for writing into ``folder`` (POSIX: the folder itself, so no lock
    file is left behind; Windows: a lock file in it)."""
    if os.name == "nt":  # pragma: no cover - exercised on Windows only
        import msvcrt

        with open(folder / LOCK_NAME, "a+b") as handle:
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _umask() -> int:
    mask = os.umask(0o022)  # the only way to read it is to set it: put it straight back
    os.umask(mask)
    return mask


def _mode(target: Path, umask: int) -> int:
    """The mode ``open(target, "w")`` would leave: the existing file's, else 0666 less the umask
    (mkstemp's own 0600 would hide a report from everyone else)."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return 0o666 & ~umask


def _temporary(target: Path, text: str) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.chmod(name, _mode(target, _umask()))
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def write_atomically(files: dict[Path, str]) -> list[Path]:
    """Write every ``path: text`` to a temporary file beside it, then rename them all. If anything
    fails (or Ctrl-C) before the renames, the temporary files are removed and the old files stay."""
    written: dict[Path, Path] = {}
    try:
        for target, text in files.items():
            written[target] = _temporary(target, text)
    except BaseException:
        for tmp in written.values():
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        raise
    for target, tmp in written.items():
        os.replace(tmp, target)
    return list(files)


def encodable_texts(texts: dict[Path, str], notes=None) -> dict[Path, str]:
    """Each text with its lone surrogates (which no encoding can write: a name read with
    surrogateescape) replaced by U+FFFD; each file that had some is said on ``notes`` (stderr)."""
    import sys

    notes = sys.stderr if notes is None else notes
    out = {}
    for path, text in texts.items():
        out[path], n = encodable(text)
        if n:
            print(f"gradverify: note: {n} character{'s' if n != 1 else ''} that cannot be encoded (lone "
                  f"surrogates in text your derivations wrote) replaced by U+FFFD in {path.name}", file=notes)
    return out


def write_files(folder: Path, texts: dict[Path, str], notes=None) -> list[Path]:
    """Every ``path: text`` (paths in ``folder``) written at once (see the module's docstring)."""
    folder = Path(folder)
    names = [Path(path).name for path in texts]
    texts = encodable_texts(texts, notes)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with folder_lock(folder):
            refuse_folders(folder, names)
            return write_atomically(texts)
    except OSError as exc:
        raise _unwritable(folder, exc) from exc
