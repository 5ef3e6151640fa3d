"""report.html: one self-contained file (no network at view time): the table, each claim's
function and claimed derivative as MathML, and the details of every claim that does not hold.
Every user-written text is HTML-escaped; the page has no script."""

from __future__ import annotations

from . import pictures
from .escape import html_text
from .rows import COLUMNS

__all__ = ["render", "pictures_note"]

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; } th, td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; }
tr.failed td, tr.error td, tr.unexpected_pass td { background: #fde8e8; }
tr.expected td { background: #fff6dd; } pre { background: #f6f6f6; padding: .6em; white-space: pre-wrap; }
.math { overflow-x: auto; max-width: 40em; } .note { color: #666; }
section.pictures { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
section.pictures h3 { flex-basis: 100%; margin: .8em 0 0; } figure { margin: 0; max-width: 100%; }
figure svg { max-width: 100%; height: auto; } figcaption { color: #666; font-size: 12px; max-width: 36em; }
"""


def pictures_note() -> str:
    """What the page says about pictures of refuted claims."""
    if not pictures.available():
        return ("Pictures of refuted claims need matplotlib, which is not installed: "
                "pip install 'gradverify[html]'.")
    return ("For each refuted claim: a heatmap of claimed − reference over the gradient's entries, per failed "
            "check, and the finite-difference error against the step h at its worst entry.")


def _pictures(report) -> str:
    if not pictures.available():
        return ""
    return "\n".join(filter(None, (pictures.claim_pictures(row.result, i) for i, row in enumerate(report.table))))


def _math_cells(report) -> dict:
    from .mathml import claim_math

    out = {(r.derivation, r.claim): r.math for r in report.rows if r.math}
    for d in report.derivations:
        for name, pair in claim_math(d).items():
            out[(d.id, name)] = pair
    return out


def _row(row, math) -> str:
    r = row.result
    cells = "".join(f"<td>{html_text(c)}</td>" for c in row.cells)
    function, claimed = math.get((r.derivation, r.claim), ("", f"<math><mtext>{html_text(r.as_written)}</mtext></math>"))
    return (f"<tr class='claim {row.outcome}' data-derivation='{html_text(r.derivation)}' "
            f"data-claim='{html_text(r.claim)}'>{cells}<td class='math'>{function}</td>"
            f"<td class='math'>{claimed}</td></tr>")


def render(report) -> str:
    math = _math_cells(report)
    head = "".join(f"<th>{html_text(c)}</th>" for c in [*COLUMNS, "function", "claimed"])
    rows = "\n".join(_row(row, math) for row in report.table)
    details = "\n".join(f"<pre class='details'>{html_text(chr(10).join(row.details))}</pre>"
                        for row in report.table if row.details)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gradverify report</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>{STYLE}</style></head>
<body>
<h1>gradverify report</h1>
<p><code>{html_text(report.header())}</code></p>
<table id="claims"><thead><tr>{head}</tr></thead>
<tbody>
{rows}
</tbody></table>
<h2>Details</h2>
{details or "<p>Every claim holds.</p>"}
<h2>Pictures</h2>
<p class="note">{html_text(pictures_note())}</p>
{_pictures(report)}
<h2>Summary</h2>
<p id="summary">{html_text(report.summary_sentence())}</p>
<p>Reproduce: <code>{html_text(report.reproduce())}</code></p>
</body></html>
"""
