"""The rows of ``report --steps``: each checked `Link` of a derivation written in LaTeX as table
cells, counts and detail lines, for every format (text only: the links come from `gradverify.steps`
as data, so the report imports nothing of the steps machinery)."""

from __future__ import annotations

import re

__all__ = ["HEADERS", "STEP_WIDTH", "shown_condition", "table_rows", "counts", "detail_lines"]

HEADERS = ["derivation", "chain", "link", "step (as written, repaired)", "verdict", "why"]
#: the step's LaTeX is cut to this many characters in the table (whole in report.json)
STEP_WIDTH = 70


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


_SHOWN_RELATIONS = {"\\neq": "≠", "\\ne": "≠", "\\leq": "≤", "\\le": "≤", "\\geq": "≥", "\\ge": "≥", "\\in": "∈",
                    "\\notin": "∉"}


def shown_condition(text: str) -> str:
    """An assumption as a person reads it: ``w \\neq o`` as ``w ≠ o``."""
    return re.sub(r"\\[A-Za-z]+", lambda m: _SHOWN_RELATIONS.get(m.group(), m.group()), text).replace("  ", " ")


def table_rows(links: list) -> list[list[str]]:
    rows = []
    for link in links:
        verdict = link.verdict if link.verdict == "holds" else link.verdict.upper()
        why = {"holds": link.proof and ("proven" if link.proof == "symbolic" else link.proof),
               "conditional": f"only if {shown_condition(link.condition)}"}.get(link.verdict, "")
        if link.verdict in ("refuted", "unparsed", "error"):
            why = "; ".join(p for p in (link.position, link.diagnosis) if p)
        rows.append([link.derivation, str(link.chain), str(link.link), _short(link.latex, STEP_WIDTH), verdict, why])
    return rows


def counts(links: list) -> dict:
    out = {v: 0 for v in ("holds", "conditional", "refuted", "unparsed", "error")}
    for link in links:
        out[link.verdict] += 1
    return out


def _values(value) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_values(v) for v in value) + "]"
    return str(value)


def detail_lines(links: list) -> list[str]:
    """Each link that is not right, whole: the first wrong link of each chain is marked as such."""
    out, seen = [], set()
    for link in links:
        if link.verdict not in ("refuted", "unparsed", "error"):
            continue
        first = (link.derivation, link.chain) not in seen
        seen.add((link.derivation, link.chain))
        head = f"{link.derivation} · chain {link.chain} · link {link.link}: {link.verdict.upper()}"
        out.append(head + (" (the first wrong link of this chain)" if first and link.verdict == "refuted" else ""))
        out.append(f"  step: {link.latex}")
        if link.position:
            out.append(f"  at: {link.position}")
        example = link.counterexample
        if example:
            where = ", ".join(f"{k}={v}" for k, v in {**example.get("sizes", {}), **example.get("indices", {})}.items())
            values = ", ".join(f"{k}={_values(v)}" for k, v in example.get("values", {}).items())
            out.append(f"  counterexample: {where}" + (f"; {values}" if values else ""))
            if "left" in example:
                out.append(f"  left side = {_values(example['left'])}; right side = {_values(example['right'])}")
            else:
                out.append(f"  shapes: left {example['left_shape']}, right {example['right_shape']}")
        if link.diagnosis:
            out.append(f"  why: {link.diagnosis}")
    return out
