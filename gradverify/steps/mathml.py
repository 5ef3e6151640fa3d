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


def _token(tok) -> str:
    if tok.type in ("CHAR", "WORD", "GREEK", "FUNC"):
        return _name(tok)
    if tok.type == "NUMBER":
        return f"<mn>{html_text(str(tok))}</mn>"
    if tok.type == "TOP":
        return _mo("⊤")
    return _mo(html_text(str(tok)))


def _name_node(kids) -> str:
    child = kids[0]
    return _render(child.children[0] if isinstance(child, Tree) else child)


def _text_node(kids) -> str:
    return f"<mtext>{html_text(str(kids[0])[len(chr(92) + 'text{'):-1])}</mtext>"


def _binary(op: str):
    return lambda kids: _row(_render(kids[0]), _mo(op), _render(kids[1]))


def _sup(kids) -> str:
    script = kids[1]
    sup = _mi("T") if isinstance(script, Token) and str(script) == "T" else _render(script)
    return f"<msup>{_render(kids[0])}{sup}</msup>"


def _fenced(kind: str):
    """A group, tuple or event between its delimiters."""
    def render(kids) -> str:
        open_, close = _delim(kids[0].children[0]), _delim(kids[-1].children[0])
        body = _FENCED_BODIES[kind](kids[1:-1])
        return _row(_mo(open_) if open_ else "", body, _mo(close) if close else "")
    return render


def _event_body(inner) -> str:
    return "".join(_render(k) if isinstance(k, Tree) else _mo(_RELS.get(str(k), "|")) for k in inner[0].children)


_FENCED_BODIES = {"group": lambda inner: _render(inner[0]),
                  "tuple": lambda inner: _mo(",").join(_render(k) for k in inner),
                  "event": _event_body}


def _relchain(kids) -> str:
    return _row(*(_render(k) if isinstance(k, Tree) else _mo(_RELS.get(str(k), html_text(str(k)))) for k in kids))


def _bigsum(kids) -> str:
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


def _matrix(kids) -> str:
    rows = [r for r in kids if isinstance(r, Tree) and r.data == "mrow"]
    table = "".join("<mtr>" + "".join(f"<mtd>{_render(e)}</mtd>" for e in r.children) + "</mtr>" for r in rows)
    return _row(_mo("["), f"<mtable>{table}</mtable>", _mo("]"))


def _children(kids) -> str:
    return _row(*(_render(k) for k in kids))


#: each kind of node of the steps grammar → its MathML from its children (any other: its children in a row)
_NODES = {
    "name": _name_node,
    "name_cmd": lambda kids: _render(kids[0]),
    "number": lambda kids: _render(kids[0]),
    "text": _text_node,
    "add": _binary("+"),
    "minus": _binary("−"),
    "neg": lambda kids: _row(_mo("−"), _render(kids[0])),
    "product": lambda kids: _row(_render(kids[0]), _mo(_OPS.get(str(kids[1]), "·")), _render(kids[2])),
    "divide": _binary("/"),
    "juxt": _children,
    "sup": _sup,
    "subscript": lambda kids: f"<msub>{_render(kids[0])}{_render(kids[1])}</msub>",
    "prime": lambda kids: f"<msup>{_render(kids[0])}{_mo('′')}</msup>",
    "hat": lambda kids: f"<mover accent='true'>{_render(kids[-1])}{_mo('^')}</mover>",
    "font": lambda kids: _render(kids[1]),
    "frac": lambda kids: f"<mfrac>{_render(kids[1])}{_render(kids[2])}</mfrac>",
    "dfrac": lambda kids: f"<mfrac>{_row(_mo('∂'), _render(kids[2]))}{_row(_mo('∂'), _render(kids[4]))}</mfrac>",
    "dop": lambda kids: f"<mfrac>{_mo('∂')}{_row(_mo('∂'), _render(kids[-1]))}</mfrac>",
    "dapply": lambda kids: _row(_render(kids[0]), _render(kids[1])),
    "group": _fenced("group"),
    "tuple": _fenced("tuple"),
    "event": _fenced("event"),
    "relchain": _relchain,
    "lower": lambda kids: _row(*(_render(k) if isinstance(k, Tree) else _mo(",") for k in kids)),
    "bigsum": _bigsum,
    "matrix": _matrix,
    "dots": lambda kids: _mo(_DOTS.get(str(kids[0]), "…")),
}


def _render(node) -> str:
    if isinstance(node, Token):
        return _token(node)
    return _NODES.get(node.data, _children)(node.children)


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
