"""report.html: one self-contained file (no network at view time): the summary first (counts, the
claims that fail as links), the table, the written steps (report --steps) with a mark per link and
their LaTeX as MathML, then each claim folded in a ``<details>`` (open when it fails): its
function and claimed derivative as MathML, what failed, and its pictures. Nothing is wider than
the window at 1,400 px: long cells wrap and long formulas scroll inside their own box.
Every user-written text is HTML-escaped; the page has no script."""

from __future__ import annotations

from . import pictures
from .escape import html_text
from .rows import COLUMNS
from .steprows import table_rows

__all__ = ["render", "pictures_note"]

STYLE = """
* { box-sizing: border-box; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5em auto; max-width: 1360px; padding: 0 1em; color: #222; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; overflow-wrap: anywhere; text-align: left; }
tr.failed td, tr.error td, tr.unexpected_pass td, tr.step.refuted td, tr.step.unparsed td, tr.step.error td
  { background: #fde8e8; }
tr.expected td, tr.step.conditional td { background: #fff6dd; }
pre { background: #f6f6f6; padding: .6em; white-space: pre-wrap; overflow-wrap: anywhere; }
.math { overflow-x: auto; max-width: 100%; } .note { color: #666; }
#overview { border: 1px solid #ccc; border-radius: 4px; padding: .2em 1em .6em; background: #fafafa; }
#overview ul { margin: .2em 0; } code { overflow-wrap: anywhere; }
details { border: 1px solid #ddd; border-radius: 4px; margin: .4em 0; padding: .3em .8em; }
details > summary { cursor: pointer; } details.failed > summary, details.error > summary { color: #a00; }
.mark { font-weight: bold; text-align: center; } .holds .mark { color: #070; }
section.pictures { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; }
section.pictures h3 { flex-basis: 100%; margin: .8em 0 0; } figure { margin: 0; max-width: 100%; }
figure svg { max-width: 100%; height: auto; } figcaption { color: #666; font-size: 12px; max-width: 36em; }
"""

#: the mark of each verdict of a written step, in the steps table
STEP_MARKS = {"holds": "✓", "conditional": "◐", "refuted": "✗", "unparsed": "?", "error": "!"}


def pictures_note() -> str:
    """What the page says about pictures of refuted claims."""
    if not pictures.available():
        return ("Pictures of refuted claims need matplotlib, which is not installed: "
                "pip install 'gradverify[html]'.")
    return ("For each refuted claim: a heatmap of claimed − reference over the gradient's entries, per failed "
            "check, and the finite-difference error against the step h at its worst entry.")


def _math_cells(report) -> dict:
    """(derivation, claim) → (function, claimed derivative) as MathML, as the rows carry it (made
    where the derivation was loaded: `gradverify.mathml`)."""
    return {(r.derivation, r.claim): r.math for r in report.rows if r.math}


def _row(row, number: int) -> str:
    r = row.result
    cells = "".join(f"<td>{html_text(c)}</td>" for c in row.cells)
    return (f"<tr class='claim {row.outcome}' id='claim-{number}' data-derivation='{html_text(r.derivation)}' "
            f"data-claim='{html_text(r.claim)}'>{cells}<td>{_as_written(r) if r.as_written else ''}</td></tr>")


def _as_written(r) -> str:
    """The claim as its source writes it (its name when it has no text): MathML when it is LaTeX the
    steps grammar reads (made where the derivation was loaded: ``written_math``), else text."""
    return r.written_math or html_text(r.as_written or r.claim)


def _claim_details(row, number: int, math) -> str:
    """One claim folded: its math as MathML, what failed, its pictures (open when it fails the run)."""
    r = row.result
    function, claimed = math.get((r.derivation, r.claim), ("", f"<math><mtext>{html_text(r.as_written)}</mtext></math>"))
    opened = " open" if row.outcome.fails_run else ""
    details = f"<pre class='details'>{html_text(chr(10).join(row.details))}</pre>" if row.details else ""
    picture = pictures.claim_pictures(r, number) if pictures.available() else ""
    return (f"<details class='claim-details {row.outcome}' id='details-{number}'{opened}>"
            f"<summary>{html_text(r.derivation)} · {html_text(r.claim)}: {html_text(str(r.verdict))}</summary>"
            f"<p>As written: {_as_written(r)}</p>"
            f"<div class='math'><p class='note'>function</p>{function}</div>"
            f"<div class='math'><p class='note'>claimed</p>{claimed}</div>{details}{picture}</details>")


def _overview(report) -> str:
    failing = [(i, row) for i, row in enumerate(report.table) if row.outcome.fails_run]
    items = "".join(f"<li><a href='#claim-{i}'>{html_text(row.result.derivation)} · {html_text(row.result.claim)}"
                    f"</a>: {html_text(str(row.result.verdict))}</li>" for i, row in failing)
    out = [f"<p id='summary'>{html_text(report.summary_sentence())}</p>"]
    if items:
        out.append(f"<p>Claims that fail the run:</p><ul id='failing'>{items}</ul>")
    steps = report.steps or []
    bad = [(i, s) for i, s in enumerate(steps) if s.verdict in ("refuted", "unparsed", "error")]
    if bad:
        out.append("<p>Written steps that do not hold:</p><ul id='failing-steps'>" + "".join(
            f"<li><a href='#step-{i}'>{html_text(s.derivation)} chain {s.chain} link {s.link}</a>: "
            f"{html_text(s.verdict)}</li>" for i, s in bad) + "</ul>")
    out.append(f"<p>Reproduce: <code>{html_text(report.reproduce())}</code></p>")
    return "\n".join(out)


def _steps(report) -> str:
    """report --steps: each link of the derivations written in LaTeX, with its mark and its MathML."""
    if report.steps is None:
        return ""
    rows = []
    for i, (link, cells) in enumerate(zip(report.steps, table_rows(report.steps))):
        rows.append(f"<tr class='step {html_text(link.verdict)}' id='step-{i}' "
                    f"data-derivation='{html_text(link.derivation)}'><td>{html_text(link.derivation)}</td>"
                    f"<td>{link.chain}</td><td>{link.link}</td><td class='mark'>{STEP_MARKS.get(link.verdict, '')}</td>"
                    f"<td class='math'>{link.mathml}</td><td>{html_text(cells[4])}</td>"
                    f"<td>{html_text(cells[5])}</td></tr>")
    repairs = "".join(f"<details><summary>{html_text(d)}: {len(made)} repairs made to the text before reading it"
                      f"</summary><ul>" + "".join(f"<li>{html_text(r)}</li>" for r in made) + "</ul></details>"
                      for d, made in report.step_repairs.items() if made)
    return f"""<h2>Steps as written</h2>
<table id="steps"><colgroup><col style="width:7em"><col style="width:4em"><col style="width:3.5em">
<col style="width:4.5em"><col><col style="width:8em"><col style="width:24em"></colgroup>
<thead><tr><th>derivation</th><th>chain</th><th>link</th><th>mark</th><th>step (as written, repaired)</th>
<th>verdict</th><th>why</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table>
{repairs}"""


def render(report) -> str:
    math = _math_cells(report)
    head = "".join(f"<th>{html_text(c)}</th>" for c in [*COLUMNS, "as written"])
    rows = "\n".join(_row(row, i) for i, row in enumerate(report.table))
    claims = "\n".join(_claim_details(row, i, math) for i, row in enumerate(report.table))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gradverify report</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<style>{STYLE}</style></head>
<body>
<h1>gradverify report</h1>
<p><code>{html_text(report.header())}</code></p>
<section id="overview"><h2>Summary</h2>
{_overview(report)}
</section>
<h2>Claims</h2>
<table id="claims"><thead><tr>{head}</tr></thead>
<tbody>
{rows}
</tbody></table>
{_steps(report)}
<h2>Each claim</h2>
<p class="note">{html_text(pictures_note())} Claims that fail the run are open; click any other to unfold it.</p>
{claims}
</body></html>
"""
