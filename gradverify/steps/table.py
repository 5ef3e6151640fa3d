"""The symbol table: what each name in a written derivation is, in Python.

A table says, for one derivation: the sizes it is checked at (``dims``, small and concrete; give
two sets, one not square, so a transposed matrix cannot pass), and each name:

* `Real` ``("v_c", "d")``: a real vector (or scalar, matrix), one sympy symbol per entry;
* `Index` ``("o", "V")``: an index over a dimension (a free index is checked at every value);
* `Columns` ``("u", of="U")``: ``u_w`` is column ``w`` of ``U``; a subscript on a vector is its
  entry (``\\hat{y}_w``, ``y_w``) without any declaration;
* `Define` ``(r"\\hat{y}", lambda s: softmax(s["U"].T * s["v_c"]))``: a name's definition, a
  function of the other names' values (sympy), or LaTeX text read by the same parser;
* `Function` ``(r"\\sigma", lambda x: 1 / (1 + sp.exp(-x)))``: applied as ``\\sigma(x)``;
* `Set` ``("Vocab", "V")``: ``\\sum_{w \\in Vocab}`` runs over ``V``;
* the assumptions a step may need: `OneHot` ``("y", at="o")`` and `Condition`
  ``(r"w \\neq o", lambda i: i["w"] != i["o"])``. A link is checked without them first; one that
  holds only under some says which.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import InvalidArgument

__all__ = ["Real", "Index", "Columns", "Sequence", "Define", "Function", "Set", "OneHot", "Condition", "SymbolTable", "key"]


def key(text: str) -> str:
    """A name as the table and the parser both write it: no spaces, ``v_{c}`` as ``v_c``,
    ``\\hat y`` as ``\\hat{y}``, fonts (``\\mathbf{w}``) dropped."""
    text = re.sub(r"\s+", "", text)
    for _ in range(3):
        text = re.sub(r"\\(mathbf|boldsymbol|mathrm|mathit|bm|vec)\{([^{}]*)\}", r"\2", text)
    text = re.sub(r"\\(hat|widehat)([A-Za-z])", r"\\hat{\2}", text)
    text = re.sub(r"_\{([A-Za-z0-9])\}", r"_\1", text)
    return text


@dataclass(frozen=True)
class Real:
    name: str
    dims: tuple = ()
    row: bool = False  #: a 1×n row vector (as the seed's y and ŷ)

    def __init__(self, name: str, *dims, row: bool = False):
        object.__setattr__(self, "name", key(name))
        object.__setattr__(self, "dims", tuple(dims))
        object.__setattr__(self, "row", row)
        if len(dims) > 2 or (row and len(dims) != 1):
            raise InvalidArgument("a scalar, vector (one dim) or matrix (two dims); row=True with one dim",
                                  f"Real({name!r}, {', '.join(map(repr, dims))}, row={row})",
                                  "Declare Real('v_c', 'd') or Real('U', 'd', 'V').")


@dataclass(frozen=True)
class Index:
    name: str
    dim: str
    start: int = 0  #: the first value (1 for ``k = 1..K``)


@dataclass(frozen=True)
class Columns:
    name: str
    of: str
    start: int = 0  #: the index value of the first column


@dataclass(frozen=True)
class Sequence:
    """``w_{t+j}``: a subscripted name that is a list of index values (the words of a window),
    ``values(sizes) -> list[int]``; the bare name may still be an `Index` of its own."""
    name: str
    values: Callable[[dict], list]
    start: int = 0

    @property
    def table_key(self) -> str:
        return key(self.name) + "[]"


@dataclass(frozen=True)
class Set:
    name: str
    dim: str
    start: int = 0


@dataclass(frozen=True)
class Define:
    name: str
    value: Any  #: callable(scope) -> sympy value, or LaTeX text
    why: str = ""


@dataclass(frozen=True)
class Function:
    name: str
    fn: Any  #: callable(*args) -> sympy value, applied entry by entry when ``elementwise``
    elementwise: bool = True
    #: its derivative, for ``\sigma'(x)`` (sympy differentiates ``fn`` when not given)
    derivative: Any = None
    #: ``fn(names, *args)``: it also sees the other names' values (``names["U"]``), as P(O = w | C = c) does
    names: bool = False


@dataclass(frozen=True)
class OneHot:
    """``y`` is the one-hot vector of index ``at`` (a substitution tried as an assumption)."""
    name: str
    at: str

    @property
    def text(self) -> str:
        return f"{self.name} one-hot at {self.at}"


@dataclass(frozen=True)
class Condition:
    """A restriction of the free indices, e.g. ``w \\neq o``."""
    text: str
    holds: Callable[[dict], bool]


@dataclass
class SymbolTable:
    """What each name of one derivation is; ``sizes``: the concrete dims it is checked at."""
    sizes: list[dict]
    names: list = field(default_factory=list)
    assumptions: list = field(default_factory=list)
    note: str = ""

    def __post_init__(self):
        if isinstance(self.sizes, dict):
            self.sizes = [self.sizes]
        if not self.sizes or not all(isinstance(s, dict) for s in self.sizes):
            raise InvalidArgument("sizes as a list of dicts of dim name to a small integer",
                                  f"sizes={self.sizes!r}", "e.g. sizes=[{'d': 2, 'V': 3}, {'d': 3, 'V': 2}].")
        for s in self.sizes:
            for dim, value in s.items():
                if not isinstance(value, int) or not 1 <= value <= MAX_SIZE:
                    raise InvalidArgument(f"each size an integer in 1..{MAX_SIZE}", f"{dim}={value!r}",
                                          "Steps are checked entry by entry: keep the sizes small.")
        self.by_key: dict[str, Any] = {}
        for entry in self.names:
            k = entry.table_key if isinstance(entry, Sequence) else key(entry.name)
            if k in self.by_key:
                raise InvalidArgument("each name declared once", f"{entry.name!r} twice",
                                      "Remove one of the two declarations.")
            self.by_key[k] = entry
        for a in self.assumptions:
            if not isinstance(a, (OneHot, Condition)):
                raise InvalidArgument("assumptions of type OneHot or Condition", f"assumptions entry {a!r}",
                                      "Say e.g. OneHot('y', at='o') or Condition('w \\\\neq o', lambda i: ...).")
        self._validate()

    def _validate(self) -> None:
        """Refuse now what would only fail inside a check: a name that refers to a missing one."""
        dims = set.intersection(*(set(sz) for sz in self.sizes))
        for entry in self.by_key.values():
            needed = [d for d in getattr(entry, "dims", ()) if isinstance(d, str)]
            needed += [entry.dim] if isinstance(entry, (Index, Set)) else []
            for d in needed:
                if d not in dims:
                    raise InvalidArgument(f"dimension {d!r} of {entry.name} in every one of sizes", f"sizes={self.sizes!r}",
                                          f"Give {d} a small size in each dict of sizes.")
            if isinstance(entry, Columns):
                of = self.by_key.get(key(entry.of))
                if not (isinstance(of, Real) and len(of.dims) == 2):
                    raise InvalidArgument(f"Columns({entry.name!r}, of=...) naming a declared matrix (Real with two dims)",
                                          f"of={entry.of!r}", f"Declare Real({entry.of!r}, 'd', 'V') first.")
        for a in self.assumptions:
            if isinstance(a, OneHot):
                target, at = self.by_key.get(key(a.name)), self.by_key.get(key(a.at))
                if not (isinstance(target, Real) and len(target.dims) == 1) or not isinstance(at, Index):
                    raise InvalidArgument("OneHot(name, at=index) with a declared vector and a declared Index",
                                          f"OneHot({a.name!r}, at={a.at!r})",
                                          "Declare e.g. Real('y', 'V', row=True) and Index('o', 'V').")

    def indices(self) -> list[Index]:
        return [e for e in self.by_key.values() if isinstance(e, Index)]

    def reals(self) -> list[Real]:
        return [e for e in self.by_key.values() if isinstance(e, Real)]


#: the largest dimension a table may ask for (every entry is a sympy symbol)
MAX_SIZE = 12
