"""The terminal table: abbreviated cells, wrapped to fit ``$COLUMNS`` (default 100).

The full text of every cell is in the Markdown, JSON and HTML reports; the
details below the table (what failed, where, the reproduce command) are
printed whole, since a command must stay copyable.
"""

from __future__ import annotations

import shutil
import textwrap

from tabulate import tabulate

from .escape import terminal_text
from .steprows import HEADERS as STEP_HEADERS, table_rows

__all__ = ["render", "fit_widths", "terminal_columns", "DEFAULT_COLUMNS"]

DEFAULT_COLUMNS = 100
#: `rows.COLUMNS`, abbreviated
HEADERS = ["derivation", "claim", "symbolic", "finite diff.", "agreement", "verdict", "diagnosis"]
#: how narrow each column may get before the others are cut further: ids, claims and statuses
#: stay whole; the verdict and the diagnosis wrap first
FLOORS = [40, 20, 8, 12, 11, 11, 8]
NECESSITY_COLUMNS = ["derivation", "claim", "assumption", "source", "dropped", "counterexample"]
#: tabulate's "simple" format puts two spaces between columns
GAP = 2
NARROWEST = 6


def terminal_columns() -> int:
    """``$COLUMNS``, else the terminal's width, else 100."""
    return shutil.get_terminal_size((DEFAULT_COLUMNS, 24)).columns


def fit_widths(natural: list[int], total: int, floors: list[int] | None = None, gap: int = GAP,
               narrowest: int = NARROWEST) -> list[int]:
    """Column widths whose table (with ``gap`` between columns) fits ``total``: the widest column
    above its floor gives up one character at a time; once all are at their floors, the widest of
    all, down to ``narrowest``."""
    widths = list(natural)
    budget = total - gap * (len(widths) - 1)
    for limits in (floors or [narrowest] * len(widths), [narrowest] * len(widths)):
        while sum(widths) > budget:
            above = [i for i in range(len(widths)) if widths[i] > max(limits[i], narrowest)]
            if not above:
                break
            widths[max(above, key=lambda i: widths[i])] -= 1
    return widths


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(text), width, break_on_hyphens=False) or [""])


def _wrapped(rows: list[list[str]], headers: list[str], total: int, floors: list[int] | None = None) -> str:
    """A table of ``rows`` that fits ``total`` columns; the header is a row like the others (tabulate
    would pad it), underlined by hand."""
    natural = [max(len(line) for r in [headers, *rows] for line in str(r[i]).splitlines() or [""])
               for i in range(len(headers))]
    widths = fit_widths(natural, total, [min(f, n) for f, n in zip(floors, natural)] if floors else None)
    cells = [[_wrap(c, w) for c, w in zip(r, widths)] for r in [headers, *rows]]
    cells.insert(1, ["-" * w for w in widths])
    return tabulate(cells, tablefmt="plain", disable_numparse=True)


def _paragraph(text: str, total: int, indent: str = "") -> list[str]:
    return textwrap.wrap(text, total, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False) or [""]


def _section(title: str, lines: list[str], total: int) -> list[str]:
    out = [title]
    for line in lines:
        out += _paragraph(line, total, "  ")
    return out + [""]


def _traceback_lines(text: str, total: int) -> list[str]:
    """A traceback whole (file names and lines to jump to, code as written); the sentence that
    says why there is none, wrapped."""
    if text.startswith("no traceback"):  # a path stays whole, on a line of its own if need be
        return textwrap.wrap(text, total, initial_indent="    ", subsequent_indent="      ",
                             break_long_words=False, break_on_hyphens=False)
    return ["    " + line for line in text.splitlines()]


def render(report, columns: int | None = None) -> str:
    """The report for a terminal; every control or escape character a user wrote shown escaped
    (`escape.terminal_text`): a claim name cannot retitle, clear or recolour the terminal."""
    return terminal_text(_render(report, columns))


def _render(report, columns: int | None = None) -> str:
    total = columns or terminal_columns()
    parts = _paragraph(report.header(), total) + [""]
    parts += [_wrapped([list(row.short) for row in report.table], HEADERS, total, FLOORS), ""]
    if report.methods():
        parts += _section("Estimators:", report.methods(), total)
    if report.cost_lines():
        parts += _section("Cost claims (element operations counted, fitted over a range of sizes):",
                          report.cost_lines(), total)
    if report.assumptions():
        parts += _section("Assumptions (inputs are drawn within them):", report.assumptions(), total)
    if report.necessity_rows():
        parts += ["Each assumption dropped in turn:", _wrapped(report.necessity_rows(), NECESSITY_COLUMNS, total), ""]
    if report.steps is not None:
        parts += ["Steps as written (report --steps):",
                  _wrapped(table_rows(report.steps), STEP_HEADERS, total, [1, 5, 4, 30, 11, 20]), ""]
        made = sum(len(r) for r in report.step_repairs.values())
        if made:
            parts += _paragraph(f"{made} repairs were made to the texts before reading them (each listed in "
                                "report.md and in steps[].repairs of report.json).", total) + [""]
    if report.details():  # whole: they hold commands to paste
        parts += ["Details:"] + ["  " + d for d in report.details()] + [""]
    if report.show_tracebacks and report.tracebacks():
        parts += ["Tracebacks (--traceback):"]
        for heading, text in report.tracebacks():
            parts += _paragraph(heading, total, "  ") + _traceback_lines(text, total) + [""]
    elif any(text.startswith("Traceback") for _, text in report.tracebacks()):  # one to show
        parts += _paragraph("(--traceback shows the whole traceback of each error, in your code's frames)", total)
        parts.append("")
    parts += _paragraph(report.summary_sentence(), total)
    parts.append(f"Reproduce: {report.reproduce()}")
    return "\n".join(parts)
