"""Finding and loading derivations: the seed's and anybody's own.

A derivation module is a Python file that creates `Derivation` objects at top
level; every one it defines is registered. Files whose names start with ``_``
are helpers, not derivations. While a module runs, its folder is first on
``sys.path``, so it can import its neighbours (``from _word2vec import ...``).

Loading never raises for a broken module: it becomes a `LoadFailure`, which
the report shows as an ERROR row while the other derivations are checked.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from .errors import InvalidArgument
from .spec import Derivation

__all__ = ["LoadFailure", "load", "discover", "select", "DEFAULT_FOLDER"]

DEFAULT_FOLDER = Path("derivations")


@dataclass
class LoadFailure:
    path: str
    message: str

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
    derivations: list[Derivation] = []
    failures: list[LoadFailure] = []
    seen_ids: dict[str, str] = {}
    for file in discover(paths):
        try:
            module = _import(file)
        except _ImportFailed as exc:
            failures.append(LoadFailure(str(file), str(exc)))
            continue
        found = [obj for obj in vars(module).values() if isinstance(obj, Derivation)]
        if not found:
            failures.append(LoadFailure(str(file), f"{file} defines no Derivation; create one at module level "
                                                   "(see README, 'Add your own loss')"))
        for d in found:
            if any(d is known for known in derivations):
                continue  # imported from a neighbour
            if d.id in seen_ids:
                failures.append(LoadFailure(str(file), f"derivation id {d.id!r} in {file} is already used by "
                                                       f"{seen_ids[d.id]}; give it another id"))
                continue
            d.origin = d.origin or str(file)
            seen_ids[d.id] = str(file)
            derivations.append(d)
    return derivations, failures


class _ImportFailed(Exception):
    pass


def _import(file: Path):
    name = file.stem
    resolved = file.resolve()
    existing = sys.modules.get(name)
    if existing is not None and Path(getattr(existing, "__file__", "") or "").resolve() == resolved:
        return existing
    if existing is not None:  # another module of that name: load this one under a private name
        name = f"gradverify_user_{abs(hash(str(resolved)))}_{file.stem}"
    folder = str(resolved.parent)
    spec = importlib.util.spec_from_file_location(name, resolved)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(name, None)
        raise _ImportFailed(f"{file} failed to import: {type(exc).__name__}: {exc}{_line_in(exc, resolved)}") from exc
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    return module


def _line_in(exc: BaseException, file: Path) -> str:
    lines = [f.lineno for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).resolve() == file]
    return f" (line {lines[-1]})" if lines else ""


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
