"""A claim's formula taken from its LaTeX as written, for a `Derivation` (the three-way check).

``latex_claim(r"U(\\hat{y} - y)^T", table)`` is a spec function ``s -> sympy value`` that reads the
derivation's namespace: each `Real` of the table named like a variable of the derivation takes
that variable's value (symbols, 50-digit numbers or float64's, whichever the check is using), each
`Index` its integer, each dimension its size; the rest of the table (definitions, functions,
columns) works as in `gradverify.steps`. So the claim checked is the text the author wrote, not a
transcription of it::

    Claim("∂J/∂v_c", latex_claim(r"U(\\hat{y} - y)^T", table), output="grad_v_c", wrt="v_c",
          as_written=r"U(\\hat{y} - y)^T")

The LaTeX is parsed once, when `latex_claim` is called: a parse error is raised then
(`InvalidArgument` with the line and column), not in the middle of a check.
"""

from __future__ import annotations


from ..errors import InvalidArgument
from .latex import LatexError, parse
from .table import Index, Real, Set, SymbolTable
from .translate import Scope, TranslateError, as_matrix

__all__ = ["latex_claim"]


def _dims(table: SymbolTable) -> set[str]:
    out = set()
    for entry in table.by_key.values():
        if isinstance(entry, Real):
            out |= {d for d in entry.dims if isinstance(d, str)}
        elif isinstance(entry, (Index, Set)):
            out.add(entry.dim)
    return out


def latex_claim(latex: str, table: SymbolTable, *, scalar: bool = False):
    """The spec function of a claim written in LaTeX (see the module's docstring). ``scalar``: the
    claim is a scalar (dσ/dx); else its value is always a Matrix, 1×1 included (a gradient by a
    vector of size 1 stays a vector)."""
    if not isinstance(table, SymbolTable):
        raise InvalidArgument("table= a SymbolTable", f"table={table!r}", "Say what each name in the LaTeX is.")
    try:
        tree = parse(latex)
    except LatexError as exc:
        raise InvalidArgument("a claim in LaTeX the grammar reads", f"{latex!r}: {exc}",
                              "See docs/how-to/latex-steps.md for the notation read.") from None

    def claim(s):
        values = vars(s) if not isinstance(s, dict) else s
        sizes = {d: int(values[d]) for d in _dims(table) if d in values}
        symbols = {r.name: values[r.name] for r in table.reals() if r.name in values}
        missing = [r.name for r in table.reals() if r.name not in values]
        if missing:
            raise InvalidArgument("every Real of the table to be a variable of the derivation",
                                  f"{', '.join(missing)} not among {sorted(values)}",
                                  "Declare it in the derivation's variables, or make it a Define in the table.")
        indices = {i.name: int(values[i.name]) for i in table.indices() if i.name in values}
        scope = Scope(table, sizes, symbols, indices)
        try:
            value = scope.side(latex, tree)
        except TranslateError as exc:
            raise InvalidArgument("a claim that means something with its table", f"{latex!r}: {exc}",
                                  "Declare each name the LaTeX uses.") from None
        return value if scalar else as_matrix(value)

    claim.__name__ = "latex_claim"
    claim.__qualname__ = f"latex_claim({latex!r})"
    return claim
