"""Registering written derivations (`Steps`), finding them, checking them, and the table.

A ``Steps`` object names a text (a ``.md``/``.tex``/``.txt`` file beside its module, or LaTeX given
inline), the section of it (``Question c:``) whose ``$$ … $$`` displays hold the chains, and the
`SymbolTable` (one per display where they differ). Modules ``_steps_*.py`` in the derivations
folder define them (a derivation module may too, with its LaTeX inline); ``python -m gradverify steps`` checks every chain of every one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidArgument
from ..report.steprows import HEADERS, counts, detail_lines, table_rows
from .chain import Link, check_chain
from .extract import Display, chains, displays
from .table import SymbolTable

__all__ = ["Steps", "discover_steps", "load_steps", "check_steps", "table_rows", "render_table", "HEADERS", "counts",
           "detail_lines"]


@dataclass
class Steps:
    """A derivation written in LaTeX: where its text is and what its names are."""
    id: str
    source: str | None = None          #: a file, relative to the module that defines this
    section: str | None = None         #: the ``Question x:`` section (None: the whole text)
    table: SymbolTable | None = None
    tables: dict = field(default_factory=dict)  #: display number (1-based in the section) -> its own table
    text: str | None = None            #: the LaTeX itself, instead of ``source``
    origin: str = ""                   #: the module that defined it (set when loaded)

    def __post_init__(self):
        if not isinstance(self.id, str) or not self.id:
            raise InvalidArgument("a non-empty id", f"id={self.id!r}", "e.g. Steps('b', 'notes.md', table=...).")
        if (self.source is None) == (self.text is None):
            raise InvalidArgument("exactly one of source= (a file) and text= (the LaTeX)",
                                  f"source={self.source!r}, text={'…' if self.text else None}",
                                  "Give the file the chains are in, or the LaTeX itself.")
        if not isinstance(self.table, SymbolTable):
            raise InvalidArgument("table= a SymbolTable", f"table={self.table!r}",
                                  "Say what each name is: SymbolTable(sizes=[...], names=[Real(...), ...]).")

    def read(self) -> str:
        if self.text is not None:
            return self.text
        path = Path(self.source)
        if not path.is_absolute() and self.origin:
            path = Path(self.origin).parent / path
        try:
            return path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InvalidArgument("a readable text file", f"source={str(path)!r} ({exc.strerror})",
                                  "The path is relative to the module that defines the Steps.") from None


def discover_steps(paths) -> list[Path]:
    """The modules that may define `Steps`: ``_steps_*.py`` helpers and the derivation modules
    themselves (``*.py`` not starting with ``_``) in the given folders; a file given by name as is."""
    out = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            out += sorted(p.glob("_steps_*.py")) + sorted(q for q in p.glob("*.py") if not q.name.startswith("_"))
        elif p.is_file() and p.suffix == ".py":
            out.append(p)
    return out


def load_steps(paths) -> list[Steps]:
    """Every `Steps` the ``_steps_*.py`` modules under ``paths`` define (imported in this process,
    with ``sys.path`` and the warning filters restored afterwards)."""
    from ..loading import ImportFailed, import_module_file

    found: list[Steps] = []
    for file in discover_steps(paths):
        try:
            module, _ = import_module_file(file)
        except ImportFailed as exc:
            if not file.name.startswith("_steps_"):
                continue  # a derivation module that fails: the report shows it as an ERROR row
            raise InvalidArgument("a steps module that imports", str(exc), "Fix the module and run again.") from None
        for obj in vars(module).values():
            if isinstance(obj, Steps) and not any(obj is f for f in found):
                obj.origin = obj.origin or str(file)
                found.append(obj)
    return found


def _repairs_between(display: Display, start: int, end: int) -> list[str]:
    return [str(r) for r in display.repairs if start <= r.at <= end]


def check_steps(steps: Steps, *, seed: int = 0, alarm: bool = False) -> list[Link]:
    """Every link of every chain in the text's section, in order."""
    text = steps.read()
    found = [d for d in displays(text) if steps.section is None or d.section == steps.section]
    if not found:
        where = f"section {steps.section!r} of " if steps.section else ""
        raise InvalidArgument("display math ($$ … $$) to check", f"none in {where}{steps.source or 'the text'}",
                              "Check the section letter and that the chains are in $$ … $$ blocks.")
    links: list[Link] = []
    number = 1
    for display in found:
        table = steps.tables.get(display.number, steps.table)
        for chain in chains(display, number):
            sides = chain.sides

            def where(i, offset, sides=sides, display=display):
                line, col = display.where(sides[i].offset + offset)
                name = Path(steps.source).name if steps.source else "text"
                return f"{name} line {line}, column {col}"

            result = check_chain([s.text for s in sides], table, derivation=steps.id, chain=chain.number,
                                 seed=seed + 104729 * chain.number, where=where, alarm=alarm)
            for link in result:
                left, right = sides[link.link - 1], sides[link.link]
                link.repairs = _repairs_between(display, left.offset, right.offset + len(right.text))
            links += result
        number += len(chains(display))
    return links


def render_table(links: list[Link]) -> str:
    from tabulate import tabulate

    return tabulate(table_rows(links), headers=HEADERS, tablefmt="simple", maxcolwidths=[None, None, None, 40, None, 60])


def repairs_of(steps: Steps) -> list[str]:
    """Every repair made to the displays of ``steps``' section, in order."""
    text = steps.read()
    return [str(r) for d in displays(text) if steps.section is None or d.section == steps.section
            for r in d.repairs]


def check_paths(paths, only: str | None = None, seed: int = 0, strict: bool = True, alarm: bool = False) -> dict:
    """The links (as dicts) and repairs of every `Steps` under ``paths`` (``only``: that id).
    Picklable in and out: `gradverify.cli` runs it in a worker process (``alarm``: there, a proof
    may be cut off by a timer signal)."""
    found = load_steps(paths)
    if only is not None:
        found = [s for s in found if s.id == only]
        if not found and strict:
            raise InvalidArgument("--only naming a derivation written in LaTeX",
                                  f"--only {only}", "See which ones there are: python -m gradverify steps.")
    if not found and strict:
        raise InvalidArgument("a _steps_*.py module defining Steps(...)", f"none under {', '.join(map(str, paths))}",
                              "See docs/how-to/latex-steps.md.")
    return {"links": [link.as_dict() for s in found for link in check_steps(s, seed=seed, alarm=alarm)],
            "repairs": {s.id: repairs_of(s) for s in found}}


def links_from(records: list[dict]) -> list[Link]:
    return [Link(**r) for r in records]
