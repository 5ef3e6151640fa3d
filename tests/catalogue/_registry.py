"""The catalogue's entries with their expected verdicts, read from each file's data.

Each catalogue file defines its derivations and a module-level ``EXPECTED = {id: (verdict,
planted mistake)}``, the verdict a string or, when the claims of one derivation differ,
``{claim name: verdict}``; ``DIAGNOSIS = {id: text}`` (optional) the diagnosis each must get ("" none);
``PENDING = {id: why}`` names the entries whose right verdict needs a
feature gradverify does not have yet (they are run and shown, not asserted).
"""

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from gradverify.loading import load

FOLDER = Path(__file__).resolve().parent


@dataclass
class Entry:
    derivation: object
    expected: str
    mistake: str
    #: why the right verdict cannot be reached yet ("" when it can)
    pending: str
    #: for an expected error: a phrase its message must contain
    message: str = ""
    #: the diagnosis the row must get (its beginning; "" none at all), when the file says (``DIAGNOSIS``)
    diagnosis: str | None = None

    def expect(self, claim: str) -> str:
        return self.expected if isinstance(self.expected, str) else self.expected[claim]

    def describe(self) -> str:
        if isinstance(self.expected, str):
            return self.expected
        return ", ".join(f"{c}: {v}" for c, v in self.expected.items())


def _module_of(path):
    """The catalogue file's module, for its EXPECTED table: imported again here (the loader leaves no
    module of a derivations folder in sys.modules), its folder first on sys.path meanwhile."""
    import importlib.util

    resolved = Path(path).resolve()
    for module in list(sys.modules.values()):
        file = getattr(module, "__file__", None)
        # (the name first: resolving every loaded module's path, for each of 70 entries, took seconds)
        if file and os.path.basename(file) == resolved.name and Path(file).resolve() == resolved:
            return module
    spec = importlib.util.spec_from_file_location(f"_catalogue_{resolved.stem}", resolved)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(resolved.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(resolved.parent))
    return module


#: the same losses written in torch and jax, one file per library (its entries need the library)
FRAMEWORKS = FOLDER.parent / "catalogue_frameworks"


def framework_entries() -> list[Entry]:
    """The torch and jax catalogue's entries, for each library that is installed."""
    import importlib.util

    if str(FRAMEWORKS) not in sys.path:
        sys.path.insert(0, str(FRAMEWORKS))
    paths = [FRAMEWORKS / f"{lib}_losses.py" for lib in ("torch", "jax") if importlib.util.find_spec(lib)]
    return entries(paths) if paths else []


def entries(paths=(FOLDER,)) -> list[Entry]:
    derivations, failures = load(list(paths))
    if failures:
        raise RuntimeError(f"catalogue files failed to load: {failures}")
    out = []
    for d in derivations:
        module = _module_of(d.origin)
        verdict, mistake = module.EXPECTED[d.id]
        pending = getattr(module, "PENDING", {}).get(d.id, "")
        message = mistake if verdict == "error" else ""
        out.append(Entry(d, verdict, mistake, pending, message, getattr(module, "DIAGNOSIS", {}).get(d.id)))
    return out
