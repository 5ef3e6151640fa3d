"""A parsed side to sympy, entry by entry, at one concrete size and one value of each free index.

Every matrix is a ``sympy.Matrix`` of scalar symbols (``U[0,1]`` ...), never a ``MatrixSymbol``:
sympy's matrix calculus drops terms of these losses without a word (see the project's notes).
Juxtaposition is decided by what the table says a name is: a `Function` followed by something is
applied to it, anything else multiplies, a matrix product when both sides are matrices, a scalar
product when one is a scalar (or 1×1). ``\\frac{\\partial N}{\\partial X}`` and the operator
``\\frac{\\partial}{\\partial X}`` applied to what follows differentiate entry by entry: a scalar by
a vector or matrix has that vector's or matrix's shape.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import sympy as sp
from lark import Token, Tree

from .latex import parse, source
from .table import Columns, Define, Function, Index, OneHot, Real, Sequence, Set, SymbolTable, key

__all__ = ["Scope", "TranslateError", "symbols_for", "shape", "as_matrix"]

#: a sum over more terms than this is refused (an upper limit like 10^6 would not finish)
MAX_SUM_TERMS = 1000

_BUILTIN = {"exp": sp.exp, "log": sp.log, "ln": sp.log, "sin": sp.sin, "cos": sp.cos, "tan": sp.tan,
            "tanh": sp.tanh, "sqrt": sp.sqrt}


class TranslateError(Exception):
    """A side that parsed but means nothing here: ``offset`` into the side's text."""

    def __init__(self, message: str, offset: int = 0):
        super().__init__(message)
        self.offset = offset


@dataclass
class Event:
    """``(O = w | C = c)``: pairs of (name as written, value or the text when it names nothing)."""
    pairs: list


def symbols_for(table: SymbolTable, sizes: dict) -> dict:
    """One real sympy symbol per entry of every `Real`, at ``sizes``."""
    out = {}
    for r in table.reals():
        shape_ = _dims(r, sizes)
        if shape_ == ():
            out[r.name] = sp.Symbol(r.name, real=True)
        else:
            rows, cols = shape_
            out[r.name] = sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{r.name}[{i},{j}]" if cols > 1 and rows > 1
                                                                       else f"{r.name}[{max(i, j)}]", real=True))
    return out


def _dims(r: Real, sizes: dict):
    def size(d):
        if isinstance(d, int):
            return d
        if d not in sizes:
            raise TranslateError(f"dimension {d!r} of {r.name} has no size in the table's sizes {sizes}")
        return sizes[d]

    if not r.dims:
        return ()
    if len(r.dims) == 1:
        return (1, size(r.dims[0])) if r.row else (size(r.dims[0]), 1)
    return size(r.dims[0]), size(r.dims[1])


def as_matrix(value):
    return value if isinstance(value, sp.MatrixBase) else sp.Matrix([[value]])


def shape(value) -> tuple[int, int] | tuple:
    if isinstance(value, sp.MatrixBase):
        return value.shape
    return ()


def _scalar(value):
    """A 1×1 matrix as its entry; anything else unchanged."""
    if isinstance(value, sp.MatrixBase) and value.shape == (1, 1):
        return value[0, 0]
    return value


def _shape_text(value) -> str:
    s = shape(value)
    return "scalar" if not s else f"{s[0]}×{s[1]}"


class Scope:
    """The names' values at one size and one value of each free index (``indices``), with the
    assumptions ``under`` (`OneHot` substitutions) in force; records which free indices a side uses."""

    def __init__(self, table: SymbolTable, sizes: dict, symbols: dict, indices: dict, under=()):
        self.table, self.sizes, self.symbols, self.indices = table, sizes, symbols, dict(indices)
        self.under = [a for a in under if isinstance(a, OneHot)]
        self.bound: list[dict] = []
        self.used: set[str] = set()
        #: free indices a sum reuses as its own (inside it, the name is the sum's)
        self.shadowed: set[str] = set()
        self._cache: dict = {}
        self.text = ""

    # ------------------------------------------------------------------ entry points
    def side(self, text: str, tree=None):
        """The value of one side (sympy scalar or Matrix); a 1×1 matrix is its entry."""
        self.text = text
        tree = parse(text) if tree is None else tree
        return _scalar(self._val(tree))

    # ------------------------------------------------------------------ names
    def index_value(self, name: str):
        for frame in reversed(self.bound):
            if name in frame:
                return frame[name]
        entry = self.table.by_key.get(name)
        if isinstance(entry, Index):
            self.used.add(name)
            if name not in self.indices:
                raise TranslateError(f"index {name} has no value here")
            return self.indices[name]
        return None

    def lookup(self, name: str, node=None):
        """The value of a declared name (a scalar, Matrix, int index, `Function`, or a `Set`)."""
        name = key(name)
        bound = self.index_value(name)
        if bound is not None:
            return sp.Integer(bound)
        if name in self.sizes:
            return sp.Integer(self.sizes[name])
        entry = self.table.by_key.get(name)
        if entry is None:
            if name in _BUILTIN or name.lstrip("\\") in _BUILTIN:
                return Function(name, _BUILTIN[name.lstrip("\\")])
            if name == "e":
                return sp.E
            raise TranslateError(f"{name} is not in the symbol table: declare what it is (Real, Index, Define, "
                                 "Function ...)", _offset(node))
        for a in self.under:
            if key(a.name) == name:
                return self._one_hot(a)
        if isinstance(entry, Real):
            return self.symbols[entry.name]
        if isinstance(entry, (Function, Set, Columns)):
            return entry
        if isinstance(entry, Define):
            cache_key = (name, tuple(sorted(self._visible().items())))
            if cache_key not in self._cache:
                self._cache[cache_key] = self._define(entry)
            return self._cache[cache_key]
        raise TranslateError(f"{name} is declared as {type(entry).__name__}, which has no value by itself",
                             _offset(node))

    def _visible(self) -> dict:
        out = dict(self.indices)
        for frame in self.bound:
            out.update(frame)
        return out

    def _one_hot(self, a: OneHot):
        entry = self.table.by_key[key(a.name)]
        at = self.index_value(key(a.at))
        if at is None:
            raise TranslateError(f"OneHot({a.name!r}, at={a.at!r}): {a.at} is not an index")
        template = self.symbols[entry.name]
        start = self.table.by_key[key(a.at)].start
        return sp.Matrix(template.rows, template.cols, lambda i, j: 1 if max(i, j) == at - start else 0)

    def _define(self, entry: Define):
        if isinstance(entry.value, str):
            inner = Scope(self.table, self.sizes, self.symbols, self._visible(), self.under)
            inner.bound = []
            try:
                value = inner.side(entry.value)
            except TranslateError as exc:
                raise TranslateError(f"in the definition of {entry.name} ({entry.value}): {exc}") from None
            self.used |= inner.used
            return value
        return entry.value(_Names(self))

    # ------------------------------------------------------------------ the tree
    def value(self, node):
        if isinstance(node, Token):
            return self._token(node)
        method = getattr(self, "_" + str(node.data), None)
        if method is None:
            raise TranslateError(f"{node.data} is not supported here", _offset(node))
        return method(node)

    def _token(self, tok: Token):
        if tok.type == "NUMBER":
            return sp.Rational(str(tok))
        return self.lookup(str(tok), tok)

    def _name(self, node):
        child = node.children[0]
        text = str(child.children[0]) if isinstance(child, Tree) else str(child)
        return self.lookup(text, node)

    def _text(self, node):
        return self.lookup(str(node.children[0])[len("\\text{"):-1].strip(), node)

    def _number(self, node):
        return sp.Rational(str(node.children[0]))

    def _hat(self, node):
        return self.lookup(key(source(node, self.text)), node)

    def _font(self, node):
        return self.value(node.children[1])

    def _dots(self, node):
        raise TranslateError(f"{node.children[0]} stands for entries not written: it cannot be checked at a "
                             "concrete size", _offset(node))

    def _subscript(self, node):
        whole = key(source(node, self.text))
        if whole in self.table.by_key or any(key(a.name) == whole for a in self.under):
            return self.lookup(whole, node)
        base_node, script = node.children
        sequence = self.table.by_key.get(key(source(base_node, self.text)) + "[]")
        if isinstance(sequence, Sequence):
            values = list(sequence.values(self.sizes))
            i = self._integer(script)
            if not 0 <= i - sequence.start < len(values):
                raise TranslateError(f"{whole}: position {i} is outside {sequence.name}'s {len(values)} values",
                                     _offset(node))
            return sp.Integer(values[i - sequence.start])
        base = self.value(base_node)
        i = self._integer(script)
        if isinstance(base, Columns):
            matrix = self.lookup(base.of, node)
            col = i - base.start
            if not 0 <= col < matrix.cols:
                raise TranslateError(f"column {i} of {base.of} does not exist ({matrix.cols} columns)", _offset(node))
            return matrix[:, col]
        if isinstance(base, sp.MatrixBase) and 1 in base.shape:
            flat = list(base)
            start = self._start_of(script)
            if not 0 <= i - start < len(flat):
                raise TranslateError(f"entry {i} of {source(base_node, self.text)} does not exist "
                                     f"({len(flat)} entries)", _offset(node))
            return flat[i - start]
        if not (isinstance(base_node, Tree) and base_node.data in ("name", "hat", "text", "font")):
            raise TranslateError(f"a subscript on an expression ({source(node, self.text)}): a matrix given by "
                                 "a formula for its entries is not read here; write its entries or a name",
                                 _offset(node))
        raise TranslateError(f"a subscript on {source(base_node, self.text)} ({_shape_text(base)}): declare "
                             f"{whole} or make {source(base_node, self.text)} a vector or Columns", _offset(node))

    def _start_of(self, script) -> int:
        if isinstance(script, Token) and script.type == "CHAR":
            entry = self.table.by_key.get(str(script))
            if isinstance(entry, Index):
                return entry.start
        return 0

    def _integer(self, node) -> int:
        value = self.value(node)
        if isinstance(value, sp.MatrixBase) or not getattr(value, "is_integer", False):
            raise TranslateError(f"a subscript {source(node, self.text)!s} that is not an index "
                                 f"(its value is {_shape_text(value) if isinstance(value, sp.MatrixBase) else value})",
                                 _offset(node))
        return int(value)

    def _sup(self, node):
        base_node, script = node.children
        if self._is_transpose(script):
            return as_matrix(self._val(base_node)).T
        base = self.value(base_node)
        if isinstance(base, Function):
            raise TranslateError(f"a power of the function {base.name} itself", _offset(node))
        return self._power(base, script, node)

    def _is_transpose(self, script) -> bool:
        return isinstance(script, Token) and (script.type == "TOP" or (script.type == "CHAR" and str(script) == "T"
                                                                       and "T" not in self.table.by_key))

    def _power(self, base, script, node):
        if self._is_transpose(script):
            return as_matrix(base).T
        exponent = _scalar(self.value(script))
        if isinstance(exponent, sp.MatrixBase):
            raise TranslateError("an exponent that is not a scalar", _offset(script))
        if base is sp.E:
            return sp.exp(exponent)
        base = _scalar(base)
        if isinstance(base, sp.MatrixBase):
            raise TranslateError(f"a power of a {_shape_text(base)} matrix", _offset(node))
        return base ** exponent

    def _prime(self, node):
        f = self.value(node.children[0])
        if not isinstance(f, Function):
            raise TranslateError("a prime on something that is not a function", _offset(node))
        if f.derivative is not None:
            return Function(f.name + "'", f.derivative, f.elementwise)
        t = sp.Dummy("t", real=True)
        d = sp.diff(f.fn(t), t)
        return Function(f.name + "'", sp.Lambda(t, d), f.elementwise)

    def _neg(self, node):
        return -self._val(node.children[0])

    def _signed(self, node):
        return self._val(node.children[0])

    def _add(self, node):
        return self._sum2(node, 1)

    def _minus(self, node):
        return self._sum2(node, -1)

    def _sum2(self, node, sign):
        a, b = self._val(node.children[0]), self._val(node.children[1])
        return _combine(a, b, sign, node, self.text)

    def _val(self, node):
        v = self.value(node)
        if isinstance(v, (Function, Set, Columns, Event, tuple)):
            raise TranslateError(f"{source(node, self.text)} is not a value here", _offset(node))
        return v

    def _product(self, node):
        a, op, b = node.children
        x, y = self._val(a), self._val(b)
        if str(op) in ("\\odot", "\\circ"):
            if shape(x) != shape(y):
                raise TranslateError(f"{op} of {_shape_text(x)} and {_shape_text(y)}", _offset(node))
            return x.multiply_elementwise(y) if shape(x) else x * y
        return _multiply(x, y, node, self.text)

    def _divide(self, node):
        return self._quotient(self._val(node.children[0]), self._val(node.children[1]), node)

    def _frac(self, node):
        return self._quotient(self._val(node.children[1]), self._val(node.children[2]), node)

    def _quotient(self, num, den, node):
        den = _scalar(den)
        if isinstance(den, sp.MatrixBase):
            raise TranslateError(f"a fraction whose denominator is a {_shape_text(den)} matrix", _offset(node))
        return num / den

    def _group(self, node):
        return self.value(node.children[1])

    def _tuple(self, node):
        return tuple(self._val(c) for c in node.children[1:-1])

    def _event(self, node):
        inner = node.children[1]
        parts = inner.children
        pairs = []
        for i in range(0, len(parts), 4):
            name, value = parts[i], parts[i + 2]
            try:
                v = self._val(value)
            except TranslateError:
                v = source(value, self.text)
            pairs.append((key(source(name, self.text)), v))
        return Event(pairs)

    def _juxt(self, node):
        items = _flatten_juxt(node)
        values, i = [], 0
        while i < len(items):
            v, i = self._operand(items, i)
            values.append(v)
        out = values[0]
        for v in values[1:]:
            out = _multiply(out, v, node, self.text)
        return out

    def _operand(self, items, i):
        """The value of ``items[i]``, a function applied to the operand after it (``\\log P(…)``: log
        of P(…)); and the index after what was used."""
        v = self.value(items[i])
        if isinstance(v, Function):
            if i + 1 >= len(items):
                raise TranslateError(f"the function {v.name} is applied to nothing", _offset(items[i]))
            after_node = items[i + 1]
            if (isinstance(after_node, Tree) and after_node.data == "sup" and isinstance(after_node.children[0], Tree)
                    and after_node.children[0].data in ("group", "tuple")):
                # \sigma(x)^2 is (\sigma(x))^2, as everyone reads it: the function takes the parentheses
                group, script = after_node.children
                applied = _apply(v, self.value(group), group, self.text, self)
                return self._power(applied, script, after_node), i + 2
            nxt = self.value(items[i + 1])
            if isinstance(nxt, Function):
                arg, after = self._operand(items, i + 1)
            else:
                arg, after = nxt, i + 2
            return _apply(v, arg, items[i + 1], self.text, self), after
        if isinstance(v, (Event, tuple, Set, Columns)):
            raise TranslateError(f"{source(items[i], self.text)} is not a value here", _offset(items[i]))
        return v, i + 1

    def _dfrac(self, node):
        numerator, wrt = node.children[2], node.children[4]
        return self._derivative(self._val(numerator), wrt, node)

    def _dapply(self, node):
        dop, operand = node.children
        return self._derivative(self._val(operand), dop.children[-1], node)

    def _derivative(self, f, wrt_node, node):
        x = self._val(wrt_node)
        entries = list(as_matrix(x))
        if not all(isinstance(e, sp.Symbol) for e in entries):
            raise TranslateError(f"∂/∂{source(wrt_node, self.text)}: it is not a variable (its entries are not "
                                 "symbols; declare it as Real or a column of one)", _offset(wrt_node))
        f = _scalar(f)
        if not isinstance(f, sp.MatrixBase):
            return x.applyfunc(lambda s: sp.diff(f, s)) if isinstance(x, sp.MatrixBase) else sp.diff(f, x)
        if not isinstance(x, sp.MatrixBase):
            return f.applyfunc(lambda e: sp.diff(e, x))
        if 1 in f.shape and 1 in x.shape:
            return sp.Matrix(len(f), len(x), lambda i, j: sp.diff(list(f)[i], entries[j]))
        raise TranslateError(f"the derivative of a {_shape_text(f)} matrix by a {_shape_text(x)} one", _offset(node))

    def _bigsum(self, node):
        _, limits, body = node.children
        name, values = self._range(limits)
        if isinstance(self.table.by_key.get(name), Index):
            self.shadowed.add(name)
        total = None
        for v in values:
            self.bound.append({name: v})
            try:
                term = self._val(body)
            finally:
                self.bound.pop()
            total = term if total is None else _combine(total, term, 1, node, self.text)
        return sp.Integer(0) if total is None else total

    def _range(self, limits):
        """The summed index's name and its values, under the sum's conditions (``w \\neq o``)."""
        lower, upper = _limit_parts(limits)
        if isinstance(lower, Token):  # \sum_w
            return self._over(key(str(lower)), None, limits)
        lowers = [lower] if lower.data == "relchain" else [k for k in lower.children if isinstance(k, Tree)]
        main, conditions = lowers[0], lowers[1:]
        name, values = self._main_range(main, upper, limits)
        for cond in conditions:
            values = self._kept(cond, name, values)
        return name, values

    def _main_range(self, main, upper, limits):
        """``w``, ``w \\in Set``, ``k=1`` with ``^K``, or ``a \\leq j \\leq b``."""
        parts = main.children
        if len(parts) == 1:
            return self._over(key(source(parts[0], self.text)), None, limits)
        if len(parts) == 3 and str(parts[1]) in ("\\in",):
            return self._over(key(source(parts[0], self.text)), key(source(parts[2], self.text)), limits)
        if len(parts) == 3 and str(parts[1]) == "=":
            return self._from_to(parts, upper, limits)
        if len(parts) == 5:
            return self._between(main, parts, limits)
        raise TranslateError(f"sum limits {source(main, self.text)} are not of a form read here "
                             "(w, w \\in Set, k=1 with ^K, a \\leq j \\leq b)", _offset(main))

    def _from_to(self, parts, upper, limits):
        """``\\sum_{k=1}^{K}``."""
        if upper is None:
            raise TranslateError("a sum from a lower limit with no upper one (^K)", _offset(limits))
        name = key(source(parts[0], self.text))
        return name, _span(self._integer(parts[2]), self._integer(upper), limits)

    def _between(self, main, parts, limits):
        """``\\sum_{a \\leq j < b}`` (or written from the top, ``b \\geq j \\geq a``)."""
        name = key(source(parts[2], self.text))
        rels = str(parts[1]), str(parts[3])
        if all(r in (">", "\\geq", "\\ge") for r in rels):  # b \geq j \geq a
            parts, rels = parts[::-1], tuple({">": "<"}.get(r, r) for r in rels[::-1])
        elif not all(r in ("<", "\\leq", "\\le") for r in rels):
            raise TranslateError(f"sum limits {source(main, self.text)}: a range needs \\leq or < on both sides",
                                 _offset(main))
        lo, hi = self._integer(parts[0]), self._integer(parts[4])
        return name, _span(lo + (rels[0] == "<"), hi - (rels[1] == "<"), limits)

    def _kept(self, cond, name: str, values: list[int]) -> list[int]:
        """The values of ``name`` for which the condition ``cond`` (``a \\neq b``, ``a < b`` ...) holds."""
        c = cond.children
        if len(c) != 3:
            raise TranslateError(f"a condition {source(cond, self.text)} not of the form a \\neq b", _offset(cond))
        kept = []
        for v in values:
            self.bound.append({name: v})
            try:
                a, b = self._integer(c[0]), self._integer(c[2])
            finally:
                self.bound.pop()
            compare = _RELATIONS.get(str(c[1]))
            if compare is None:
                raise TranslateError(f"a condition with {c[1]}", _offset(cond))
            if compare(a, b):
                kept.append(v)
        return kept

    def _over(self, name: str, set_name: str | None, node):
        entry = self.table.by_key.get(name)
        if set_name is not None:
            s = self.table.by_key.get(set_name)
            if not isinstance(s, Set):
                raise TranslateError(f"{set_name} is not declared as a Set", _offset(node))
            return name, list(range(s.start, s.start + self.sizes[s.dim]))
        if isinstance(entry, Index):
            return name, list(range(entry.start, entry.start + self.sizes[entry.dim]))
        raise TranslateError(f"\\sum_{name}: {name} is not declared as an Index (its range is unknown)", _offset(node))

    def _matrix(self, node):
        rows = [r for r in node.children if isinstance(r, Tree) and r.data == "mrow"]
        values = [[_scalar(self._val(e)) for e in r.children if isinstance(e, Tree) or e.type != "AMPERSAND"]
                  for r in rows]
        if len({len(r) for r in values}) != 1:
            raise TranslateError("a matrix whose rows have different lengths", _offset(node))
        if any(isinstance(v, sp.MatrixBase) for r in values for v in r):
            raise TranslateError("a matrix with a matrix entry", _offset(node))
        return sp.Matrix(values)


def _limit_parts(limits):
    """A sum's (lower, upper) limits; upper is None when only the lower one is written."""
    kids = limits.children
    if limits.data == "limits_swapped":
        return kids[1], kids[0]
    return kids[0], (kids[1] if len(kids) > 1 else None)


def _span(lo: int, hi: int, limits) -> list[int]:
    """lo, ..., hi: at most `MAX_SUM_TERMS` of them."""
    if hi - lo >= MAX_SUM_TERMS:
        raise TranslateError(f"a sum of {hi - lo + 1} terms (at most {MAX_SUM_TERMS} are written out)",
                             _offset(limits))
    return list(range(lo, hi + 1))


#: the relations a sum's condition may use, on two integers
_RELATIONS = {"\\neq": operator.ne, "\\ne": operator.ne, "=": operator.eq, "<": operator.lt, ">": operator.gt,
              "\\leq": operator.le, "\\le": operator.le, "\\geq": operator.ge, "\\ge": operator.ge}


class _Names:
    """What a `Define` callable sees: ``s["v_c"]`` the value of a name, ``s.index("o")`` an index."""

    def __init__(self, scope: Scope):
        self._scope = scope

    def __getitem__(self, name: str):
        value = self._scope.lookup(name)
        return int(value) if isinstance(value, sp.Integer) else value

    def size(self, dim: str) -> int:
        return self._scope.sizes[dim]


def _offset(node) -> int:
    if isinstance(node, Token):
        return node.start_pos or 0
    if isinstance(node, Tree) and not node.meta.empty:
        return node.meta.start_pos
    return 0


def _flatten_juxt(node) -> list:
    out = []
    for c in node.children:
        if isinstance(c, Tree) and c.data == "juxt":
            out += _flatten_juxt(c)
        else:
            out.append(c)
    return out


def _apply(f: Function, arg, node, text, scope=None):
    if isinstance(arg, tuple):
        args = [_scalar(a) for a in arg]
    elif isinstance(arg, Event):
        args = [arg]
    else:
        args = [_scalar(arg)]
    if f.elementwise and len(args) == 1 and isinstance(args[0], sp.MatrixBase):
        return args[0].applyfunc(lambda e: f.fn(e))
    try:
        value = f.fn(_Names(scope), *args) if f.names else f.fn(*args)
    except TranslateError:
        raise
    except Exception as exc:  # the table's function refused these arguments
        raise TranslateError(f"{f.name} applied to {source(node, text)}: {type(exc).__name__}: {exc}",
                             _offset(node)) from None
    if not isinstance(value, (sp.Basic, sp.MatrixBase, int)):
        raise TranslateError(f"{f.name} applied to {source(node, text)} gave {value!r}, not a sympy value",
                             _offset(node))
    return value


def _multiply(a, b, node, text):
    a, b = _scalar(a), _scalar(b)
    if not isinstance(a, sp.MatrixBase) or not isinstance(b, sp.MatrixBase):
        return a * b
    if a.cols != b.rows:
        raise TranslateError(f"a product of a {_shape_text(a)} and a {_shape_text(b)} matrix: the shapes do not "
                             f"fit ({source(node, text)})", _offset(node))
    return a * b


def _combine(a, b, sign, node, text):
    a, b = _scalar(a), _scalar(b)
    if shape(a) != shape(b):
        if not shape(a) and a == 0:
            return sign * b
        if not shape(b) and b == 0:
            return a
        raise TranslateError(f"a sum of a {_shape_text(a)} and a {_shape_text(b)} value ({source(node, text)})",
                             _offset(node))
    return a + b if sign > 0 else a - b
