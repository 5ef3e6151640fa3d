"""reports/report.md: the full table and sections, every user-written text escaped for Markdown."""

from __future__ import annotations

from .escape import md_cell, md_code, md_fence, md_text
from .rows import COLUMNS
from .steprows import HEADERS as STEP_HEADERS, detail_lines, table_rows
from .terminal import NECESSITY_COLUMNS

__all__ = ["render", "table"]


def table(headers: list[str], rows: list[list[str]]) -> list[str]:
    """A GitHub table whose cells cannot add a cell or split a row."""
    cells = [[md_cell(c) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values):
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"

    return [line(headers), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *(line(r) for r in cells)]


def render(report) -> str:
    parts = ["# gradverify report", "", md_code(report.header()), ""]
    parts += table(COLUMNS, [list(row.cells) for row in report.table]) + [""]
    if report.methods():
        parts += ["Estimators: " + md_text("; ".join(report.methods())), ""]
    if report.cost_lines():
        parts += ["## Cost claims", ""] + [f"- {md_text(c)}" for c in report.cost_lines()] + [""]
    if report.assumptions():
        parts += ["## Assumptions", ""] + [f"- {md_text(a)}" for a in report.assumptions()] + [""]
    if report.necessity_rows():
        parts += ["## Each assumption dropped in turn", ""] + table(NECESSITY_COLUMNS, report.necessity_rows()) + [""]
    if report.steps is not None:
        parts += ["## Steps as written", ""] + table(STEP_HEADERS, table_rows(report.steps)) + [""]
        if detail_lines(report.steps):
            parts += md_fence(detail_lines(report.steps)) + [""]
        for derivation, made in report.step_repairs.items():
            if made:
                parts += [f"Repairs made to {md_text(derivation)}'s text before reading it:", ""]
                parts += [f"- {md_text(r)}" for r in made] + [""]
    if report.details():
        parts += ["## Details", ""] + md_fence(report.details()) + [""]
    parts += ["## Summary", "", md_text(report.summary_sentence()), "", "Reproduce: " + md_code(report.reproduce()), ""]
    return "\n".join(parts)
