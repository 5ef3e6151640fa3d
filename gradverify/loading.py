"""Finding and loading derivations: the seed's and anybody's own.

A derivation module is a Python file that creates `Derivation` objects at top
level; every one it defines is registered. Files whose names start with ``_``
are helpers, not derivations. While a module runs, its folder is first on
``sys.path``, so it can import its neighbours (``from _word2vec import ...``).

Loading never raises for a broken module: it becomes a `LoadFailure`, which
the report shows as an ERROR row while the other derivations are checked.
What a module changes while it is imported (numpy's error state, warning
filters, ``sys.path``) is restored afterwards, and the modules of its folder it imported (itself
and its helpers) are dropped from ``sys.modules``: two folders may each have a ``_common.py``.
The command line goes further:
it imports each file in its own worker process (`gradverify.runner`), so
nothing one derivation does can reach another.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidArgument
from .frameworks.detection import install_hint
from .spec import Derivation
from .tracebacks import describe

__all__ = ["LoadFailure", "load", "load_file", "discover", "select", "import_module_file", "ImportFailed",
           "DEFAULT_FOLDER"]

DEFAULT_FOLDER = Path("derivations")


@dataclass
class LoadFailure:
    path: str
    message: str
    #: the import's traceback in the user's frames, or why there is none (``report --traceback``)
    traceback: str = ""

    @property
    def id(self) -> str:
        return Path(self.path).stem


def discover(paths) -> list[Path]:
    """The derivation files under ``paths`` (files, or folders searched non-recursively)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.glob("*.py") if not p.name.startswith("_"))
            if not found:
                raise InvalidArgument("a folder with derivation modules (*.py not starting with _)",
                                      f"--derivations {raw} (none there)",
                                      "An empty folder would pass with nothing checked; point at your derivations.")
            files += found
        elif path.is_file() and path.suffix == ".py":
            files.append(path)
        elif path.exists():
            raise InvalidArgument("a .py file or a folder of them", f"--derivations {raw}",
                                  "Point --derivations at your derivation module or its folder.")
        else:
            raise InvalidArgument("an existing file or folder", f"--derivations {raw} (no such path)",
                                  "Check the path; it is relative to the current folder "
                                  f"({Path.cwd()}).")
    return files


def load(paths) -> tuple[list[Derivation], list[LoadFailure]]:
    """Every derivation under ``paths``, imported into this process."""
    derivations: list[Derivation] = []
    failures: list[LoadFailure] = []
    seen_ids: dict[str, str] = {}
    files = discover(paths)
    for file in files:
        found, failed = load_file(file, files)
        failures += failed
        for d in found:
            if any(d is known for known in derivations):
                continue  # imported from a neighbour
            if d.id in seen_ids:
                failures.append(duplicate(d.id, str(file), seen_ids[d.id]))
                continue
            seen_ids[d.id] = str(file)
            derivations.append(d)
    return derivations, failures


def duplicate(derivation_id: str, file: str, first: str) -> LoadFailure:
    return LoadFailure(file, f"derivation id {derivation_id!r} in {file} is already used by {first}; "
                             "give it another id")


def load_file(file, neighbours=(), *, keep_modules: bool = False) -> tuple[list[Derivation], list[LoadFailure]]:
    """The derivations ``file`` defines (in the order it defines them) and why it failed, if it did.
    A derivation the module imported from one of the files in ``neighbours`` is theirs, not its own.
    ``keep_modules``: leave the modules of its folder in ``sys.modules`` (a worker process, which
    loads one file and ends: hypothesis draws constants from the modules loaded there)."""
    file = Path(file)
    try:
        module, added = import_module_file(file, keep_modules)
    except ImportFailed as exc:
        return [], [LoadFailure(str(file), str(exc), describe(exc.__cause__))]
    found = [obj for obj in vars(module).values() if isinstance(obj, Derivation)]
    if not found:
        return [], [LoadFailure(str(file), f"{file} defines no Derivation; create one at module level "
                                           "(see docs/tutorial/first-derivation.md)")]
    others = {Path(n).resolve() for n in neighbours} - {file.resolve()}
    theirs = [obj for m in added if Path(getattr(m, "__file__", "") or "").resolve() in others
              for obj in vars(m).values() if isinstance(obj, Derivation)]
    found = [d for d in found if not any(d is t for t in theirs)]
    for d in found:
        d.origin = d.origin or str(file)
    return found, []


class ImportFailed(Exception):
    """A user module could not be imported: the message names the file, the error and its line."""


def import_module_file(file: Path, keep_modules: bool = False):
    """The module and the modules it imported; numpy's error state, warning filters and
    ``sys.path`` as they were before."""
    import numpy as np

    name = file.stem
    resolved = file.resolve()
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == resolved:
        return existing, []
    if existing is not None:  # another module of that name: load this one under a private name
        name = f"gradverify_user_{abs(hash(str(resolved)))}_{file.stem}"
    spec = importlib.util.spec_from_file_location(name, resolved)
    module = importlib.util.module_from_spec(spec)
    before, path = set(sys.modules), list(sys.path)
    sys.modules[name] = module
    sys.path.insert(0, str(resolved.parent))
    try:
        with warnings.catch_warnings(), np.errstate():
            spec.loader.exec_module(module)
    except SystemExit as exc:
        sys.modules.pop(name, None)
        said = "" if exc.code is None or isinstance(exc.code, int) else f"({str(exc.code)[:80]!r})"
        raise ImportFailed(f"{file} exited with status {_status(exc)} during import "
                            f"(sys.exit{said}{_line_in(exc, resolved)})") from exc
    except (Exception, GeneratorExit) as exc:
        sys.modules.pop(name, None)
        hint = install_hint(exc.name) if isinstance(exc, ModuleNotFoundError) else ""
        raise ImportFailed(f"{file} failed to import: {type(exc).__name__}: {exc}{_line_in(exc, resolved, ' ')}"
                            + (f". {hint}" if hint else "")) from exc
    finally:
        sys.path[:] = path
    added = [sys.modules[n] for n in set(sys.modules) - before - {name}]
    if not keep_modules:
        _forget_folder(resolved.parent, set(sys.modules) - before)
    return module, added


def _forget_folder(folder: Path, names) -> None:
    """Drop from ``sys.modules`` the modules of ``folder`` (and below) that an import added: the
    derivation module and its helpers. Another folder's ``_common.py`` is then imported as its own,
    not found already loaded under that name; the module objects live on in what uses them."""
    for n in names:
        file = getattr(sys.modules.get(n), "__file__", None)
        if not file:
            continue
        try:
            inside = Path(file).resolve().is_relative_to(folder)
        except (OSError, ValueError):
            continue
        if inside:
            sys.modules.pop(n, None)


def _status(exc: SystemExit) -> int:
    """The status the process would have ended with: sys.exit("text") ends with 1, as Python does."""
    return 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1


def _line_in(exc: BaseException, file: Path, before: str = ", ") -> str:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == file]
    if not lines:
        return ""
    return f"{before}(line {lines[-1]})" if before == " " else f"{before}line {lines[-1]}"


def select(derivations: list[Derivation], only: str | None, allow_none: bool = False) -> list[Derivation]:
    """``--only ID``: the derivation with that id, or every ``ID-...`` variant (``d`` is d-scalar and d-vector).
    ``allow_none``: no match is not an error (some modules failed to load: the caller shows why)."""
    if only is None:
        return derivations
    chosen = [d for d in derivations if d.id == only or d.id.startswith(only + "-")]
    if not chosen and not allow_none:
        raise InvalidArgument(f"one of the derivation ids ({', '.join(d.id for d in derivations)})",
                              f"--only {only}", "Run `python -m gradverify list` to see them.")
    return chosen
