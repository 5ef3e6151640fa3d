"""A verdict baseline: compare a run with a committed report.json, verdicts not figures.

For every claim (derivation id, claim name) the verdict, the diagnosis and the
status of each check are compared; figures (errors, ratios, counterexamples)
are not, so a baseline does not change when a CPU rounds differently. New and
removed claims are changes too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import InvalidArgument

__all__ = ["Change", "Comparison", "compare", "load_baseline", "claim_key", "verdict_fields"]


def claim_key(row: dict) -> tuple[str, str]:
    return row["derivation"], row["claim"]


def verdict_fields(row: dict) -> dict[str, str]:
    """What a baseline compares for one claim (a JSON row): verdict, diagnosis, each check's status."""
    out = {"verdict": row.get("verdict", ""), "diagnosis": row.get("diagnosis", "")}
    for name, check in (row.get("checks") or {}).items():
        out[f"{name} status"] = check.get("status", "")
    return out


@dataclass(frozen=True)
class Change:
    derivation: str
    claim: str
    #: "verdict", "diagnosis", "<check> status"; or "new" / "removed" for a whole claim
    field: str
    old: str = ""
    new: str = ""

    def describe(self) -> str:
        where = f"{self.derivation} · {self.claim}"
        if self.field == "new":
            return f"{where}: new claim (not in the baseline), verdict {self.new}"
        if self.field == "removed":
            return f"{where}: removed (in the baseline with verdict {self.old})"
        return f"{where}: {self.field} changed from {self.old or '(none)'!s} to {self.new or '(none)'!s}"


@dataclass
class Comparison:
    baseline: str
    changes: list[Change] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)

    def of(self, derivation: str, claim: str) -> list[Change]:
        return [c for c in self.changes if (c.derivation, c.claim) == (derivation, claim)]

    def text(self) -> str:
        if not self.changes:
            return f"No verdict changed since the baseline {self.baseline}."
        lines = [f"{len(self.changes)} change{'s' if len(self.changes) != 1 else ''} since the baseline "
                 f"{self.baseline}:"]
        return "\n".join(lines + ["  " + c.describe() for c in self.changes])


def compare(current: dict, baseline: dict, name: str = "baseline") -> Comparison:
    """Every change from ``baseline`` to ``current`` (both report JSON documents)."""
    old = {claim_key(r): r for r in baseline.get("rows", [])}
    new = {claim_key(r): r for r in current.get("rows", [])}
    changes = []
    for key, row in new.items():
        if key not in old:
            changes.append(Change(*key, "new", new=row.get("verdict", "")))
            continue
        before, after = verdict_fields(old[key]), verdict_fields(row)
        for what in dict.fromkeys([*before, *after]):
            if before.get(what, "") != after.get(what, ""):
                changes.append(Change(*key, what, before.get(what, ""), after.get(what, "")))
    changes += [Change(*key, "removed", old=row.get("verdict", "")) for key, row in old.items() if key not in new]
    return Comparison(name, changes)


#: the report.json schema this gradverify reads (`gradverify.report.jsondoc.SCHEMA_VERSION`)
READS_SCHEMA = 1
_HINT = "Rewrite it with --update-baseline."


def load_baseline(path: Path, flag: str = "--baseline") -> dict:
    """A committed report.json, its shape checked before any work: a clear `InvalidArgument`
    naming the file and what is wrong when it is missing, not JSON, of another schema, or its
    rows are not what `compare` reads (objects with string ``derivation``, ``claim`` and
    ``verdict``, ``checks`` an object of objects with a string ``status``)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidArgument(f"an existing report.json as {flag}", f"{flag} {path} (no such file)",
                              "Create it with --update-baseline.") from None
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"a report.json written by gradverify as {flag}", f"{flag} {path} ({exc})",
                              _HINT) from None
    problem = _problem(data)
    if problem:
        raise InvalidArgument(f"a report.json written by gradverify as {flag}", f"{flag} {path} ({problem})",
                              _HINT)
    return data


def _kind(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def _problem(data) -> str:
    """What is wrong with a baseline document, in a few words; "" when nothing is."""
    if not isinstance(data, dict):
        return f"{_kind(data)}, not a report object: no rows"
    schema = data.get("schema")
    if "schema" not in data:
        return f"no schema field: not a report.json of gradverify's schema {READS_SCHEMA}, so it is refused"
    if schema != READS_SCHEMA:
        return (f"schema {schema!r}; this gradverify reads schema {READS_SCHEMA} and does not migrate others, "
                "so it is refused")
    if not isinstance(data.get("rows"), list):
        return "no rows" if "rows" not in data else f"rows is {_kind(data['rows'])}, not a list: no rows"
    seen = set()
    for i, row in enumerate(data["rows"]):
        where = f"rows[{i}]"
        if not isinstance(row, dict):
            return f"{where} is {_kind(row)}, not an object"
        for key in ("derivation", "claim", "verdict"):
            if not isinstance(row.get(key), str):
                return (f"{where} has no {key}" if key not in row
                        else f"{where}.{key} is {_kind(row[key])}, not a string")
        if not isinstance(row.get("diagnosis", ""), (str, type(None))):
            return f"{where}.diagnosis is {_kind(row['diagnosis'])}, not a string"
        checks = row.get("checks", {})
        if checks is not None and not isinstance(checks, dict):
            return f"{where}.checks is {_kind(checks)}, not an object"
        for name, check in (checks or {}).items():
            if not isinstance(check, dict) or not isinstance(check.get("status", ""), str):
                return f"{where}.checks.{name} is not an object with a string status"
        key = claim_key(row)
        if key in seen:
            return f"{where} repeats the claim {key[0]} · {key[1]}"
        seen.add(key)
    return ""
