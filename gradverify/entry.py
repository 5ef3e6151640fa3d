"""The command line's door (``python -m gradverify``, the ``gradverify`` script): gradverify's
dependencies are looked for before anything imports them, so that a missing one is said in one
line with what to do (exit status 2), never as a traceback from deep inside an import."""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["REQUIRED", "WORKER_COMMANDS", "main", "missing_dependencies", "start_workers_early"]

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


#: the commands that run derivations in workers: their forkserver starts before gradverify's imports
WORKER_COMMANDS = ("report", "mutants", "list", "steps")


def start_workers_early(argv: list[str]) -> bool:
    """For a command that runs derivations in workers, start their forkserver now, so that it imports
    numpy, sympy and hypothesis while this process imports the command line (side by side on two
    cores); with the steps' grammar as well when the command may show formulas or check steps (an
    option named in ``argv``: a guess that only costs or saves time, never changes a result)."""
    if not argv or argv[0] not in WORKER_COMMANDS or {"--in-process", "-h", "--help"} & set(argv):
        return False
    from .isolation import MATHML_PRELOAD, PRELOAD, start_early

    formulas = argv[0] == "steps" or "--steps" in argv or any("html" in a for a in argv)
    return start_early(PRELOAD + MATHML_PRELOAD if formulas else PRELOAD)


def main(argv=None) -> int:
    """The command line with ``argv`` (``sys.argv[1:]`` when None: then workers start early)."""
    message = missing_dependencies()
    if message:
        print(f"gradverify: error: {message}", file=sys.stderr)
        return 2
    if argv is None:
        start_workers_early(sys.argv[1:])
    from .cli import main as run

    return run(argv)
