"""reports/report.json: the report as data. Field names are stable and documented in docs/reference/json-report.md
("The JSON report"); figures at rounding level are their decade bound (see `figures`)."""

from __future__ import annotations

import json

from .figures import json_figures
from .model import environment

__all__ = ["render", "document", "dumps", "clean", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1


def _row(row) -> dict:
    r = row.result
    data = clean(r.as_dict())
    data["checks"] = {name: json_figures(name, c, data["checks"][name]) for name, c in r.checks.items()}
    data["outcome"] = str(row.outcome)
    return data


def document(report) -> dict:
    """The report as data (what report.json holds)."""
    from .. import __version__

    out = {"tool": "gradverify", "version": __version__, "schema": SCHEMA_VERSION, "seed": report.seed,
            "environment": environment(),
            "examples": report.examples, "derivation_paths": report.paths, "command": report.command,
            "reproduce": report.reproduce(), "summary": report.summary(),
            "assumptions_checked": report.assumptions_checked,
            "rows": [_row(row) for row in report.table],
            "costs": [clean(c.as_dict()) for c in report.costs]}
    if report.steps is not None:  # report --steps: one record per link of each derivation written in LaTeX
        out["steps"] = [clean(link.as_dict()) for link in report.steps]
    return out


def dumps(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def render(report) -> str:
    """report.json's text."""
    return dumps(document(report))


def clean(obj):
    """JSON-safe: inf/nan as strings, timings dropped (files stay the same run to run)."""
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items() if k != "seconds"}
    if isinstance(obj, list):
        return [clean(v) for v in obj]
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return str(obj)
    return obj
