"""Pictures of a refuted claim for report.html, drawn with matplotlib as inline SVG.

* a heatmap of claimed − reference over the gradient's entries (which rows and columns are
  wrong), one per failed check that compared at a point;
* the finite-difference error against the step h at the worst entry: |D_h − claimed| and, for
  contrast, |D_h − D_{h*}| (the truncation/rounding V), with the claim's error marked. A right
  gradient's first curve dips to rounding level; a wrong one flattens at the claim's error.

matplotlib is an optional extra (``gradverify[html]``): imported only here, and only when
drawing. The SVG is deterministic: Agg-free SVG backend, a fixed hash salt per picture, no
date in the metadata, text as ``<text>`` (the same evidence gives the same bytes).
"""

from __future__ import annotations

import importlib.util
import io
import math

from ..results import CheckResult, ClaimResult, Evidence, Verdict
from .escape import html_text

__all__ = ["available", "heatmap_svg", "curve_svg", "claim_pictures", "ORDER"]

#: the failed checks whose heatmaps are drawn, in this order
ORDER = ("symbolic", "finite_difference", "agreement")
#: the longest point text in a picture's title (the caption has all of it)
TITLE_POINT = 60
#: entries annotated with their value when the table has at most this many
ANNOTATE = 30


def available() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def _rc(salt: str) -> dict:
    return {"svg.hashsalt": salt, "svg.fonttype": "none", "font.size": 8, "axes.titlesize": 8,
            "path.simplify": False}


def _svg(fig) -> str:
    """The figure as an ``<svg>`` element (no XML prolog, no date)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    return text[text.index("<svg"):].strip()


def _figure(width: float, height: float):
    from matplotlib.figure import Figure  # no pyplot: no global figure state

    return Figure(figsize=(width, height), dpi=72)


def _short(text: str, n: int = TITLE_POINT) -> str:
    """At most ``n`` characters, with ``$`` kept literal (matplotlib reads $…$ as math)."""
    text = text if len(text) <= n else text[:n - 1] + "…"
    return text.replace("$", r"\$")


def heatmap_svg(evidence: Evidence, salt: str) -> str:
    """claimed − reference as a diverging heatmap (0 white), titled with the reference and the point."""
    import matplotlib

    table = evidence.difference
    rows, cols = len(table), len(table[0]) if table else 0
    with matplotlib.rc_context(_rc(salt)):
        fig = _figure(min(7.0, 2.2 + 0.32 * cols), min(6.0, 1.4 + 0.32 * rows))
        ax = fig.add_subplot()
        m = max((abs(v) for row in table for v in row), default=0.0) or 1.0
        image = ax.imshow(table, cmap="RdBu_r", vmin=-m, vmax=m, interpolation="nearest", aspect="auto")
        fig.colorbar(image, ax=ax, label="claimed − reference")
        _annotate(ax, table, m)
        _axes_labels(ax, evidence, rows, cols)
        ax.set_title(f"claimed − {evidence.reference}\nat {_short(evidence.point)}")
        return _svg(fig)


def _annotate(ax, table, m: float) -> None:
    if len(table) * len(table[0]) > ANNOTATE:
        return
    for i, row in enumerate(table):
        for j, v in enumerate(row):
            ax.text(j, i, f"{v:.2g}", ha="center", va="center", color="white" if abs(v) > 0.6 * m else "black")


def _axes_labels(ax, evidence: Evidence, rows: int, cols: int) -> None:
    from matplotlib.ticker import MaxNLocator

    for axis, n in ((ax.xaxis, cols), (ax.yaxis, rows)):
        if n <= 12:
            axis.set_ticks(range(n))
        else:
            axis.set_major_locator(MaxNLocator(integer=True, nbins=10))
    shape = "×".join(map(str, evidence.shape)) or "scalar"
    notes = [f"gradient {shape}"]
    if evidence.flattened:
        notes.append(f"rank {len(evidence.shape)} flattened: rows are the first {len(evidence.shape) - 1} axes")
    if evidence.clipped:
        notes.append(f"first {rows}×{cols} entries drawn")
    ax.set_xlabel("column (last axis)" + "\n" + "; ".join(notes))
    ax.set_ylabel("row" if len(evidence.shape) >= 2 else "")
    if len(evidence.shape) < 2:
        ax.set_yticks([])


def _positive(values) -> list[float]:
    """Zeros (exact agreement) cannot sit on a log axis: left out of the line."""
    return [v if v > 0 and math.isfinite(v) else math.nan for v in values]


def curve_svg(evidence: Evidence, salt: str) -> str:
    """|D_h − claimed| and |D_h − D_{h*}| against h on log-log axes, the claim's error marked."""
    import matplotlib

    with matplotlib.rc_context(_rc(salt)):
        fig = _figure(5.2, 3.4)
        ax = fig.add_subplot()
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.plot(evidence.steps, _positive(evidence.claim_gap), "o-", color="#c0392b", label="|D_h − claimed|")
        ax.plot(evidence.steps, _positive(evidence.spread), "s--", color="#2c7fb8", markersize=3,
                label="|D_h − D_h*| (h* ≈ ∛ε·max(1,|x|)): truncation and rounding")
        if evidence.claim_error > 0:
            ax.axhline(evidence.claim_error, color="black", linestyle=":",
                       label=f"the claim's error |claimed − reference| = {evidence.claim_error:.3g}")
        ax.set_xlabel("step h")
        ax.set_ylabel("error")
        entry = f", entry [{', '.join(map(str, evidence.entry))}]" if evidence.entry else ""
        ax.set_title(f"central difference D_h against the step{entry}\nat {_short(evidence.point)}")
        ax.legend(loc="best", fontsize=6)
        return _svg(fig)


def _failed_with_evidence(result: ClaimResult) -> list[tuple[str, CheckResult]]:
    return [(name, result.checks[name]) for name in ORDER
            if name in result.checks and result.checks[name].failed and result.checks[name].evidence is not None]


def claim_pictures(result: ClaimResult, number: int) -> str:
    """The pictures of one claim as an HTML ``<section>`` ("" for a claim that is not refuted or
    has nothing to draw). ``number`` makes each picture's SVG ids unique on the page."""
    if result.verdict not in (Verdict.REFUTED, Verdict.CONDITIONAL):
        return ""
    failed = _failed_with_evidence(result)
    if not failed:
        return ""
    figures = []
    for name, check in failed:
        svg = heatmap_svg(check.evidence, f"gradverify-{number}-{name}-heatmap")
        figures.append(_figure_html("heatmap", name, svg, f"{name}: claimed − {check.evidence.reference} at "
                                    f"{check.evidence.point}"))
    curve = next(((name, c) for name, c in failed if c.evidence.steps), None)
    if curve is not None:
        name, check = curve
        svg = curve_svg(check.evidence, f"gradverify-{number}-{name}-curve")
        figures.append(_figure_html("fd-curve", name, svg, (
            f"{name}: the finite-difference error against the step h at entry {check.evidence.entry}. "
            "A right gradient's |D_h − claimed| dips to rounding level; a wrong one flattens at its error.")))
    return (f"<section class='pictures' data-derivation='{html_text(result.derivation)}' "
            f"data-claim='{html_text(result.claim)}'><h3>{html_text(result.derivation)} · "
            f"{html_text(result.claim)}</h3>{''.join(figures)}</section>")


def _figure_html(kind: str, check: str, svg: str, caption: str) -> str:
    return (f"<figure class='{kind}' data-check='{check}'>{svg}"
            f"<figcaption>{html_text(caption)}</figcaption></figure>")
