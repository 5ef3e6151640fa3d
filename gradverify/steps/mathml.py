"""A parsed side, or a whole link ``left = right``, as presentation MathML for report.html.

Written from the same tree the checker reads, so the page shows what was checked. Every piece of
text goes through `html_text`; a side that does not parse is shown as its LaTeX in ``<mtext>``.
"""

from __future__ import annotations

from lark import Token, Tree

from ..report.escape import html_text
from .latex import LatexError, parse

__all__ = ["side_mathml", "link_mathml", "latex_or_text"]

_GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ϵ", "varepsilon": "ε", "zeta": "ζ",
          "eta": "η", "theta": "θ", "vartheta": "ϑ", "iota": "ι", "kappa": "κ", "lambda": "λ", "mu": "μ", "nu": "ν",
          "xi": "ξ", "pi": "π", "rho": "ρ", "varrho": "ϱ", "sigma": "σ", "tau": "τ", "upsilon": "υ", "phi": "ϕ",
          "varphi": "φ", "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
          "Lambda": "Λ", "Xi": "Ξ", "Pi": "Π", "Sigma": "Σ", "Upsilon": "Υ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω"}
_OPS = {"\\cdot": "·", "\\times": "×", "\\odot": "⊙", "\\circ": "∘"}
_RELS = {"\\in": "∈", "\\notin": "∉", "\\neq": "≠", "\\ne": "≠", "\\leq": "≤", "\\le": "≤", "\\geq": "≥",
         "\\ge": "≥", "=": "=", "<": "&lt;", ">": "&gt;"}
_DOTS = {"\\ldots": "…", "\\dots": "…", "\\cdots": "⋯", "\\vdots": "⋮", "\\ddots": "⋱"}


def _mo(text: str) -> str:
    return f"<mo>{text}</mo>"


def _mi(text: str) -> str:
    return f"<mi>{html_text(text)}</mi>"


def _row(*parts: str) -> str:
    return "<mrow>" + "".join(parts) + "</mrow>"


def _delim(tok) -> str:
    text = str(tok)
    for prefix in ("\\left", "\\right", "\\bigl", "\\bigr", "\\Bigl", "\\Bigr", "\\biggl", "\\biggr", "\\Biggl",
                   "\\Biggr", "\\bigg", "\\Bigg", "\\big", "\\Big"):
        if text.startswith(prefix):
            text = text[len(prefix):].strip()
            break
    return {"\\{": "{", "\\}": "}", ".": ""}.get(text, html_text(text))


def _name(tok) -> str:
    text = str(tok)
    if text.startswith("\\"):
        bare = text[1:]
        return _mi(_GREEK.get(bare, bare))
    return _mi(text)


def _render(node) -> str:
    if isinstance(node, Token):
        if node.type in ("CHAR", "WORD", "GREEK", "FUNC"):
            return _name(node)
        if node.type == "NUMBER":
            return f"<mn>{html_text(str(node))}</mn>"
        if node.type == "TOP":
            return _mo("⊤")
        return _mo(html_text(str(node)))
    kind, kids = node.data, node.children
    if kind == "name":
        child = kids[0]
        return _render(child.children[0] if isinstance(child, Tree) else child)
    if kind == "name_cmd":
        return _render(kids[0])
    if kind == "number":
        return _render(kids[0])
    if kind == "text":
        return f"<mtext>{html_text(str(kids[0])[len(chr(92) + 'text{'):-1])}</mtext>"
    if kind in ("add", "minus"):
        return _row(_render(kids[0]), _mo("+" if kind == "add" else "−"), _render(kids[1]))
    if kind == "neg":
        return _row(_mo("−"), _render(kids[0]))
    if kind == "product":
        return _row(_render(kids[0]), _mo(_OPS.get(str(kids[1]), "·")), _render(kids[2]))
    if kind == "divide":
        return _row(_render(kids[0]), _mo("/"), _render(kids[1]))
    if kind == "juxt":
        return _row(*(_render(k) for k in kids))
    if kind == "sup":
        script = kids[1]
        sup = _mi("T") if isinstance(script, Token) and str(script) == "T" else _render(script)
        return f"<msup>{_render(kids[0])}{sup}</msup>"
    if kind == "subscript":
        return f"<msub>{_render(kids[0])}{_render(kids[1])}</msub>"
    if kind == "prime":
        return f"<msup>{_render(kids[0])}{_mo('′')}</msup>"
    if kind == "hat":
        return f"<mover accent='true'>{_render(kids[-1])}{_mo('^')}</mover>"
    if kind == "font":
        return _render(kids[1])
    if kind == "frac":
        return f"<mfrac>{_render(kids[1])}{_render(kids[2])}</mfrac>"
    if kind == "dfrac":
        return f"<mfrac>{_row(_mo('∂'), _render(kids[2]))}{_row(_mo('∂'), _render(kids[4]))}</mfrac>"
    if kind == "dop":
        return f"<mfrac>{_mo('∂')}{_row(_mo('∂'), _render(kids[-1]))}</mfrac>"
    if kind == "dapply":
        return _row(_render(kids[0]), _render(kids[1]))
    if kind in ("group", "tuple", "event"):
        open_, close = _delim(kids[0].children[0]), _delim(kids[-1].children[0])
        inner = kids[1:-1]
        if kind == "tuple":
            body = _mo(",").join(_render(k) for k in inner)
        elif kind == "event":
            body = "".join(_render(k) if isinstance(k, Tree) else _mo(_RELS.get(str(k), "|")) for k in inner[0].children)
        else:
            body = _render(inner[0])
        return _row(_mo(open_) if open_ else "", body, _mo(close) if close else "")
    if kind == "relchain":
        return _row(*(_render(k) if isinstance(k, Tree) else _mo(_RELS.get(str(k), html_text(str(k))))
                      for k in kids))
    if kind == "lower":
        return _row(*(_render(k) if isinstance(k, Tree) else _mo(",") for k in kids))
    if kind == "bigsum":
        _, limits, body = kids
        parts = limits.children
        if limits.data == "limits_swapped":
            upper, lower = parts[0], parts[1]
        else:
            lower, upper = parts[0], (parts[1] if len(parts) > 1 else None)
        op = _mo("∑")
        if upper is not None:
            op = f"<munderover>{op}{_render(lower)}{_render(upper)}</munderover>"
        else:
            op = f"<munder>{op}{_render(lower)}</munder>"
        return _row(op, _render(body))
    if kind == "matrix":
        rows = [r for r in kids if isinstance(r, Tree) and r.data == "mrow"]
        table = "".join("<mtr>" + "".join(f"<mtd>{_render(e)}</mtd>" for e in r.children) + "</mtr>" for r in rows)
        return _row(_mo("["), f"<mtable>{table}</mtable>", _mo("]"))
    if kind == "dots":
        return _mo(_DOTS.get(str(kids[0]), "…"))
    return _row(*(_render(k) for k in kids))


def side_mathml(text: str) -> str:
    """One side as MathML content (no ``<math>`` root); its LaTeX as text when it does not parse."""
    try:
        return _render(parse(text))
    except (LatexError, RecursionError):
        return f"<mtext>{html_text(text)}</mtext>"
    except Exception:  # a node the renderer does not know: the text is always there to show
        return f"<mtext>{html_text(text)}</mtext>"


def link_mathml(latex: str) -> str:
    """``left = right`` (as a `Link`'s ``latex``) as one ``<math display='block'>``."""
    from .extract import top_level

    cuts = [at for at, token in top_level(latex) if token == "="]
    if len(cuts) != 1:
        return f"<math display='block'><mtext>{html_text(latex)}</mtext></math>"
    left, right = latex[:cuts[0]].strip(), latex[cuts[0] + 1:].strip()
    return f"<math display='block'><mrow>{side_mathml(left)}<mo>=</mo>{side_mathml(right)}</mrow></math>"


def latex_or_text(text: str) -> str:
    """A claim's as-written text as inline MathML when it is LaTeX the grammar reads (one side, or
    ``left = right``), else the text itself, escaped."""
    from .extract import top_level

    if not text or not any(ch in text for ch in "\\^_"):
        return html_text(text or "")
    cuts = [at for at, token in top_level(text) if token == "="]
    parts = [text] if not cuts else [text[:cuts[0]], text[cuts[0] + 1:]] if len(cuts) == 1 else None
    if parts is None:
        return html_text(text)
    rendered = []
    for part in parts:
        try:
            rendered.append(_render(parse(part.strip())))
        except Exception:  # not LaTeX the grammar reads (Unicode text, say): shown as written
            return html_text(text)
    return "<math display='inline'><mrow>" + "<mo>=</mo>".join(rendered) + "</mrow></math>"
