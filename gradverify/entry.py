"""The command line's door (``python -m gradverify``, the ``gradverify`` script): gradverify's
dependencies are looked for before anything imports them, so that a missing one is said in one
line with what to do (exit status 2), never as a traceback from deep inside an import."""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["REQUIRED", "main", "missing_dependencies"]

#: what gradverify needs at run time (pyproject.toml's dependencies), by import name
REQUIRED = ("numpy", "sympy", "hypothesis", "tabulate", "lark")


def missing_dependencies() -> str:
    """"" when every dependency can be imported, else the message that says which are missing."""
    from .errors import InvalidArgument

    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if not missing:
        return ""
    return str(InvalidArgument(f"gradverify's dependencies ({', '.join(REQUIRED)}) installed",
                               f"{', '.join(missing)} missing in {sys.executable}",
                               "Install gradverify with its dependencies: pip install -e . (in a virtual environment "
                               "made with python3 -m venv .venv; see the README's first command)."))


def main(argv=None) -> int:
    message = missing_dependencies()
    if message:
        print(f"gradverify: error: {message}", file=sys.stderr)
        return 2
    from .cli import main as run

    return run(argv)
