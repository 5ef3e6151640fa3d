"""Each link of a chain ``A = B = C`` checked: B equals A as functions of the declared variables.

For one link, at each of the table's sizes and at every value of the free indices it uses, both
sides are translated entry by entry (`translate`) and evaluated at `POINTS` random points with
`DIGITS` significant digits (mpmath, through sympy's ``evalf``). A link that agrees everywhere
then gets a symbolic proof at the table's first size, every index value (the difference's numerator
expanded to 0) within `PROOF_TERMS`
operations per entry and `PROOF_SECONDS` per link; a link that disagrees is tried under each of
the table's assumptions (one-hot y, w ≠ o ...): holding under one makes it ``conditional`` and
names it. Verdicts: ``holds``, ``conditional``, ``refuted`` (with a shrunk counterexample, both
sides and, where one fits, a diagnosis), ``unparsed`` (with the line and column) and ``error``
(a side that parsed but means nothing with this table: an undeclared name, shapes that do not fit).
"""

from __future__ import annotations

import itertools
import random
import re
import signal
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import sympy as sp

from .latex import LatexError, parse
from .table import Condition, OneHot, SymbolTable
from . import diagnosis as diagnose
from .points import DIGITS, POINTS, TOLERANCE, differ, evaluate, random_points
from .translate import Scope, TranslateError, as_matrix, shape, symbols_for

__all__ = ["Link", "check_chain", "check_link", "POINTS", "DIGITS", "TOLERANCE"]

#: at most this many combinations of free index values per link (all of them at the usual sizes)
MAX_ASSIGNMENTS = 125
#: the symbolic proof: entries whose difference has more operations are not tried ...
PROOF_TERMS = 4000
#: ... and one link's proof stops after this many seconds (in gradverify's own worker a timer signal
#: cuts it off; in a caller's process, where no signal handler is set, it is checked between entries)
PROOF_SECONDS = 5.0
#: shrinking a counterexample tries these values for each entry, simplest first
SHRINK_VALUES = (0, 1, -1, 2)


@dataclass
class Link:
    """One link's verdict (the JSON record of `report --steps` is `as_dict`)."""
    derivation: str
    chain: int
    link: int
    latex: str
    verdict: str
    counterexample: dict | None = None
    diagnosis: str = ""
    repairs: list = field(default_factory=list)
    condition: str = ""
    proof: str = ""
    position: str = ""

    def as_dict(self) -> dict:
        return {"derivation": self.derivation, "chain": self.chain, "link": self.link, "latex": self.latex,
                "verdict": self.verdict, "counterexample": self.counterexample, "diagnosis": self.diagnosis,
                "repairs": list(self.repairs), "condition": self.condition, "proof": self.proof,
                "position": self.position}

    @property
    def mathml(self) -> str:
        """``left = right`` as one ``<math display='block'>`` (report.html): made here, on the
        derivation's side, and read by the report as text."""
        from .mathml import link_mathml

        return link_mathml(self.latex)


def _latex(left: str, right: str) -> str:
    return f"{left} = {right}"


def check_chain(sides: list[str], table: SymbolTable, *, derivation: str = "", chain: int = 1, seed: int = 0,
                alarm: bool = False,
                where=None, repairs=()) -> list[Link]:
    """One `Link` per consecutive pair of ``sides``. A side that does not parse makes its links
    ``unparsed`` (with where: ``where(side_number, offset) -> str``); the next link is checked
    from the last side that parsed, and says so."""
    sides = list(sides)
    stated = {}
    for i, text in enumerate(sides):
        m = _STATED.search(text)
        if m:
            sides[i], stated[i] = text[:m.start()].rstrip(), m.group(1).strip()
    parsed = []
    for i, text in enumerate(sides):
        try:
            parsed.append(parse(text))
        except LatexError as exc:
            parsed.append(exc)
    out = []
    last_good = 0 if not isinstance(parsed[0], LatexError) else None
    for i in range(1, len(sides)):
        number, right = i, parsed[i]
        link = Link(derivation, chain, number, _latex(sides[i - 1], sides[i]), "unparsed", repairs=list(repairs))
        if isinstance(right, LatexError):
            link.position = where(i, right.offset) if where else f"column {right.column}"
            link.diagnosis = f"side {i + 1} does not parse: {right}"
            out.append(link)
            continue
        if last_good is None:
            first = parsed[i - 1]
            link.position = where(i - 1, first.offset) if where else f"column {first.column}"
            link.diagnosis = f"side {i} does not parse: {first}"
            out.append(link)
            last_good = i
            continue
        left_index = last_good
        result = check_link(sides[left_index], parsed[left_index], sides[i], right, table, seed=seed + 7919 * i,
                            alarm=alarm)
        result.derivation, result.chain, result.link, result.repairs = derivation, chain, number, list(repairs)
        at = getattr(result, "error_at", None)
        if at and at[0] and where:
            result.position = where(left_index if at[0] == "left" else i, at[1])
        if left_index != i - 1:
            result.latex = _latex(sides[left_index], sides[i])
            result.diagnosis = (f"compared with side {left_index + 1}, since side {i} does not parse. "
                                + result.diagnosis).strip()
        if i in stated:
            result.diagnosis = (f"stated with it: when {stated[i]}. " + result.diagnosis).strip()
        out.append(result)
        last_good = i
    return out


#: a condition written after a side, "0 (when w \neq c)": taken off the side and shown with its verdict
_STATED = re.compile(r"\(\s*(?:\\text\{\s*)?(?:when|if|for)\s*\}?\s*(?:\\[ ,;]\s*)*(.*?)\)\s*$")


def _condition_indices(condition: Condition, table: SymbolTable) -> set[str]:
    names = {i.name for i in table.indices()}
    words = re.findall(r"[A-Za-z]\w*", re.sub(r"\\[A-Za-z]+", " ", condition.text))
    return {w for w in words if w in names}


@dataclass
class _Failure:
    sizes: dict
    indices: dict
    point: dict
    left: object
    right: object
    left_value: object
    right_value: object
    scope: Scope = None
    #: free indices that a sum on either side reuses as its own, and the indices the sides use
    shadowed: set = field(default_factory=set)
    used: set = field(default_factory=set)


class _Error(Exception):
    def __init__(self, message: str, position: str = "", side: str = "", offset: int = 0):
        super().__init__(message)
        self.position, self.side, self.offset = position, side, offset


def _assignments(table: SymbolTable, sizes: dict, used: set[str], rng: random.Random,
                 condition=None) -> list[dict]:
    indices = [i for i in table.indices() if i.name in used]
    ranges = [range(i.start, i.start + sizes[i.dim]) for i in indices]
    combos = [dict(zip([i.name for i in indices], c)) for c in itertools.product(*ranges)]
    if condition is not None:
        combos = [c for c in combos if condition.holds(c)]
    if len(combos) > MAX_ASSIGNMENTS:
        combos = rng.sample(combos, MAX_ASSIGNMENTS)
    return combos


def _translate(table, sizes, symbols, indices, under, text, tree, which):
    scope = Scope(table, sizes, symbols, indices, under)
    try:
        return scope.side(text, tree), scope
    except TranslateError as exc:
        raise _Error(f"the {which} side: {exc}", f"{which} side, column {exc.offset + 1}", which, exc.offset) from None
    except RecursionError:
        raise _Error(f"the {which} side is nested too deeply to translate") from None
    except (sp.SympifyError, TypeError, ValueError, ArithmeticError) as exc:  # sympy refused a combination
        raise _Error(f"the {which} side could not be built in sympy: {type(exc).__name__}: {exc}") from None


def _used(table, sizes, symbols, left, right, under) -> set[str]:
    """The free indices either side uses (found with every index at its first value)."""
    start = {i.name: i.start for i in table.indices()}
    used = set()
    for (text, tree), which in ((left, "left"), (right, "right")):
        _, scope = _translate(table, sizes, symbols, start, under, text, tree, which)
        used |= scope.used
    return used


def _run(table, left, right, seed, under=(), condition=None):
    """All failures of one link under ``under``/``condition`` (stops at the first), and the agreeing
    pairs of values for the proof."""
    agreed = []
    for n, sizes in enumerate(table.sizes):
        symbols = symbols_for(table, sizes)
        rng = random.Random(f"{seed}:{n}")
        points = random_points(symbols, rng)
        used = _used(table, sizes, symbols, left, right, under)
        if condition is not None:
            used |= _condition_indices(condition, table)
        for indices in _assignments(table, sizes, used, rng, condition):
            lv, scope = _translate(table, sizes, symbols, indices, under, *left, "left")
            rv, other = _translate(table, sizes, symbols, indices, under, *right, "right")
            notes = dict(shadowed=scope.shadowed | other.shadowed, used=scope.used | other.used)
            if shape(lv) != shape(rv) and not (_is_zero_scalar(lv) or _is_zero_scalar(rv)):
                return _Failure(sizes, indices, points[0], lv, rv, None, None, scope, **notes), agreed
            for point in points:
                a, b = evaluate(lv, point), evaluate(rv, point)
                if differ(a, b):
                    return _Failure(sizes, indices, point, lv, rv, a, b, scope, **notes), agreed
            agreed.append((lv, rv, sizes, indices))
    return None, agreed


def _is_zero_scalar(v) -> bool:
    return not isinstance(v, sp.MatrixBase) and v == 0


def check_link(left_text: str, left_tree, right_text: str, right_tree, table: SymbolTable, *, seed: int = 0,
               alarm: bool = False) -> Link:
    """One link's verdict. ``alarm``: the process is gradverify's own worker, so the symbolic proof may
    be cut off at `PROOF_SECONDS` by a timer signal (never set in a caller's process: there the budget
    is checked between entries only)."""
    link = Link("", 0, 0, _latex(left_text, right_text), "holds")
    left, right = (left_text, left_tree), (right_text, right_tree)
    try:
        failure, agreed = _run(table, left, right, seed)
        if failure is None:
            first = table.sizes[0]
            link.proof = _prove([pair for pair in agreed if pair[2] == first], alarm)
            return link
        for under, condition, text in _assumption_sets(table):
            try:
                again, _ = _run(table, left, right, seed, under, condition)
            except _Error:  # the sides mean nothing under this assumption: it cannot be the one
                continue
            if again is None:
                link.verdict, link.condition = "conditional", text
                link.counterexample = _counterexample(_shrink(failure, left, right, table), left, right, table)
                link.diagnosis = f"holds only if {text}; without it, at the counterexample the sides differ"
                link.proof = "numeric"
                return link
        link.verdict = "refuted"
        failure = _shrink(failure, left, right, table)
        link.counterexample = _counterexample(failure, left, right, table)
        link.diagnosis = diagnose.explain(failure, left, right, table)
        return link
    except _Error as exc:
        link.verdict, link.diagnosis, link.position = "error", str(exc), exc.position
        link.error_at = (exc.side, exc.offset)
        return link


def _assumption_sets(table: SymbolTable):
    """Each assumption alone, then each pair: (OneHot substitutions, a Condition or None, text)."""
    singles = list(table.assumptions)
    for group in [[a] for a in singles] + [list(p) for p in itertools.combinations(singles, 2)]:
        under = [a for a in group if isinstance(a, OneHot)]
        conditions = [a for a in group if isinstance(a, Condition)]
        if len(conditions) > 1:
            both = conditions
            condition = Condition(" and ".join(c.text for c in both), lambda i, both=both: all(c.holds(i) for c in both))
        else:
            condition = conditions[0] if conditions else None
        yield under, condition, " and ".join(a.text for a in group)


class _OutOfTime(Exception):
    pass


@contextmanager
def _time_limit(seconds: float, enabled: bool):
    """Raise `_OutOfTime` in this block after ``seconds`` (a timer signal), when ``enabled`` and in the
    main thread of a POSIX process; else nothing. The handler and the timer are restored after."""
    if not enabled or not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise _OutOfTime()

    old = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _prove(agreed, alarm: bool = False) -> str:
    """'symbolic' when every entry's difference expands to 0 within the budget, else why not."""
    try:
        with _time_limit(PROOF_SECONDS, alarm):
            return _prove_entries(agreed)
    except _OutOfTime:
        return f"numeric ({DIGITS} digits); the symbolic proof ran out of its {PROOF_SECONDS:g} s"


def _prove_entries(agreed) -> str:
    started = time.monotonic()
    for lv, rv, sizes, indices in agreed:
        for a, b in zip(list(as_matrix(lv)), list(as_matrix(rv))):
            if time.monotonic() - started > PROOF_SECONDS:
                return f"numeric ({DIGITS} digits); the symbolic proof ran out of its {PROOF_SECONDS:g} s"
            d = sp.sympify(a - b)
            if d == 0:
                continue
            if sp.count_ops(d) > PROOF_TERMS:
                return f"numeric ({DIGITS} digits); the difference is past the proof's {PROOF_TERMS} operations"
            if not _zero(d):
                return f"numeric ({DIGITS} digits); not proven symbolically"
    return "symbolic"


def _zero(d) -> bool:
    d = sp.powsimp(sp.expand_log(d, force=False))
    if d == 0:
        return True
    return sp.expand(sp.numer(sp.together(sp.expand(d)))) == 0


def _free(value) -> set:
    return set(sp.sympify(value).free_symbols) if not isinstance(value, sp.MatrixBase) else set(value.free_symbols)


def _shrink(failure: _Failure, left, right, table) -> _Failure:
    """The counterexample with entries set to 0, 1, -1 or 2 wherever the sides still differ there."""
    if failure.left_value is None:
        return failure
    symbols = sorted(_free(failure.left) | _free(failure.right), key=str)
    used = set(symbols)
    # entries neither side depends on (after differentiating) are shown as 0: any value does
    point = {s: (v if s in used else sp.Integer(0)) for s, v in failure.point.items()}
    for s in symbols:
        for v in SHRINK_VALUES:
            trial = dict(point)
            trial[s] = sp.Integer(v)
            try:
                a, b = evaluate(failure.left, trial), evaluate(failure.right, trial)
            except (ZeroDivisionError, ValueError, TypeError):
                continue
            if differ(a, b) and _finite(a) and _finite(b):
                point = trial
                failure.left_value, failure.right_value = a, b
                break
    failure.point = point
    return failure


def _finite(value) -> bool:
    return all(e.is_number and e.is_finite and not e.has(sp.I) for e in as_matrix(value))


def number(e) -> str:
    e = sp.sympify(e)
    if e.is_Integer:
        return str(int(e))
    if e.is_number and e.is_real:
        return f"{float(e):.6g}"
    return str(sp.N(e, 6))


def shown(value) -> object:
    if value is None:
        return None
    if isinstance(value, sp.MatrixBase):
        return [[number(value[i, j]) for j in range(value.cols)] for i in range(value.rows)]
    return number(value)


def _counterexample(failure: _Failure, left, right, table) -> dict:
    used = _free(failure.left) | _free(failure.right)
    values = {}
    for r in table.reals():
        symbols = symbols_for(table, failure.sizes)[r.name]
        entries = list(symbols) if isinstance(symbols, sp.MatrixBase) else [symbols]
        if not any(s in used for s in entries):
            continue
        if isinstance(symbols, sp.MatrixBase):
            values[r.name] = shown(symbols.xreplace(failure.point))
        else:
            values[r.name] = shown(failure.point[symbols])
    out = {"sizes": dict(failure.sizes), "indices": dict(failure.indices), "values": values}
    if failure.left_value is None:
        out["left_shape"], out["right_shape"] = list(shape(failure.left)), list(shape(failure.right))
    else:
        out["left"], out["right"] = shown(failure.left_value), shown(failure.right_value)
    return out
