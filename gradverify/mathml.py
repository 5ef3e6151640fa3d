"""A claim's math as MathML for report.html, made on the derivation's side (where the derivation
is loaded) and handed to the report as text (`ClaimResult.math`, `ClaimResult.written_math`): the
report imports nothing of sympy or of the machinery that builds a spec.

* `claim_math(derivation)`: each claim's function and claimed derivative (sympy's presentation
  printer), at the derivation's first symbolic size. A spec that cannot be built, or whose
  expression is too long to read (component-level expressions run to thousands of characters), is
  shown as the text the source writes instead.
* `written_math(text)`: a claim's as-written text as inline MathML when it is LaTeX the steps
  grammar reads, else the text itself, escaped.
"""

from __future__ import annotations

import numpy as np

from .report.escape import html_text

__all__ = ["claim_math", "written_math", "attach_math", "MAX_MATHML"]

#: longer MathML than this is unreadable: the as-written text is shown instead
MAX_MATHML = 6000


def _mathml(expr) -> str | None:
    import sympy as sp

    text = sp.mathml(expr, printer="presentation")
    return None if len(text) > MAX_MATHML else f"<math display='block'>{text}</math>"


def _text(text: str) -> str:
    return f"<math display='block'><mtext>{html_text(text)}</mtext></math>"


def _namespace(derivation):
    from .sampling import RandomSource, draw_point
    from .symbolic import symbolic_size_list
    from .sympy_eval import build_namespace

    sizes = (symbolic_size_list(derivation) or [None])[0]
    point = draw_point(derivation, RandomSource(np.random.default_rng(0)), derivation.assumptions, sizes=sizes)
    return build_namespace(derivation, point, "symbols")[0]


def claim_math(derivation) -> dict[str, tuple[str, str]]:
    """claim name → (function, claimed derivative) as MathML, falling back to the as-written text."""
    fallback = {c.name: (_text(derivation.title), _text(c.as_written or c.name)) for c in derivation.claims}
    try:
        s = _namespace(derivation)
        function = _mathml(derivation.function(s))
    except Exception:  # user code: the text is always there to show
        return fallback
    out = {}
    for c in derivation.claims:
        try:
            claimed = _mathml(c.expr(s))
        except Exception:
            claimed = None
        out[c.name] = (function or fallback[c.name][0], claimed or fallback[c.name][1])
    return out


def written_math(text: str) -> str:
    """``text`` as inline MathML when it is LaTeX the steps grammar reads (one side, or
    ``left = right``), else the text itself, escaped (`gradverify.steps.mathml.latex_or_text`)."""
    from .steps.mathml import latex_or_text

    return latex_or_text(text)


def attach_math(rows, derivation=None) -> None:
    """Give each row its as-written MathML (the claim's name when it has no as-written text) and,
    with ``derivation``, its function and claimed derivative (`claim_math`)."""
    math = claim_math(derivation) if derivation is not None else {}
    for row in rows:
        row.written_math = written_math(row.as_written or row.claim)
        if derivation is not None:
            row.math = math.get(row.claim)
