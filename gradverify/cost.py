"""Cost claims: "this loss-and-gradient's work grows with K·d, not V·d".

A cost claim is checked by counting, not timing: the implementation runs on
arrays that count every element operation numpy performs for it (an ``a @ b``
of an m×k by a k×n array is m·k·n multiply-adds; an elementwise operation is
one per output entry; a sum is one per input entry). The count does not depend
on the machine or its load, so the verdict and its figures are the same every
run. The count is fitted as work ∝ size^p over a range of one size with the
others fixed, and the claim holds when each exponent p is in its stated range.

What the count leaves out: memory that is only allocated or copied
(``np.zeros_like(U)``, fancy indexing). benchmarks/ times the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np

from .watching import Watched, Watcher

__all__ = ["CostClaim", "CostResult", "count_work", "check_cost"]


class _Counter(Watcher):
    """Counts element operations; the count lives on the instance."""

    def __init__(self):
        self.work = 0

    def after(self, ufunc, method, args, value, in_place):
        self.work += _work(ufunc, method, args, value[0] if in_place else value)
        return value

    def function(self, func, args, kwargs):
        plain = [_plain(a) for a in args]
        result = func(*plain, **kwargs)
        if func in _PRODUCTS:
            a, b = (np.asarray(x) for x in plain[:2])
            self.work += int(np.size(result)) * (1 if func is np.outer else (a.shape[-1] if a.ndim else 1))
        return self.adopt(result) if isinstance(result, np.ndarray) else result


#: numpy functions that do arithmetic outside ufuncs, counted like ``@``; the rest
#: (allocation, copies, reshapes) pass through uncounted
_PRODUCTS = {np.outer, np.dot, np.inner}


def _plain(a):
    if isinstance(a, Watched):
        return np.asarray(a)
    if isinstance(a, (list, tuple)):
        return type(a)(_plain(x) for x in a)
    return a


def _work(ufunc, method, args, result) -> int:
    arrays = [np.asarray(a) for a in args if isinstance(a, (np.ndarray, float, int, np.generic))]
    if ufunc is np.matmul and len(arrays) == 2:
        a, b = arrays
        inner = a.shape[-1] if a.ndim else 1
        return int(np.size(result)) * inner
    if method in ("reduce", "accumulate", "reduceat"):
        return int(arrays[0].size) if arrays else 0
    return int(np.size(result[0] if isinstance(result, tuple) else result))


def count_work(fn: Callable, *args) -> int:
    """Element operations numpy performs in ``fn(*args)`` (real array args are counted)."""
    counter = _Counter()
    wrapped = [counter.watch(np.asarray(a, dtype=np.float64)) if isinstance(a, np.ndarray) else a for a in args]
    with np.errstate(all="ignore"):
        fn(*wrapped)
    return counter.work


@dataclass(frozen=True)
class CostClaim:
    """``implementations``: label -> (fn, make_args(sizes, rng) -> args).
    ``expect``: label -> (low, high) range of the exponent p in work ∝ vary^p."""

    name: str
    as_written: str
    implementations: Mapping[str, tuple[Callable, Callable]]
    expect: Mapping[str, tuple[float, float]]
    vary: str = "V"
    values: Sequence[int] = (500, 1000, 2000, 4000, 8000)
    fixed: Mapping[str, int] = field(default_factory=dict)


@dataclass
class CostResult:
    name: str
    as_written: str
    verdict: str  # holds | refuted | error
    vary: str
    values: list
    fixed: dict
    exponents: dict
    work: dict
    expect: dict
    message: str = ""

    derivation: str = ""

    def as_dict(self):
        return {**self.__dict__, "summary": self.summary()}

    def summary(self) -> str:
        if self.verdict == "error":
            return f"ERROR: {self.message}"
        parts = [f"{label}: work ∝ {self.vary}^{p + 0.0:.2f} (expected {lo:g}..{hi:g})"
                 for label, p in self.exponents.items() for lo, hi in [self.expect[label]]]
        fixed = ", ".join(f"{k}={v}" for k, v in self.fixed.items())
        return f"{'; '.join(parts)} over {self.vary}={self.values[0]}..{self.values[-1]}, {fixed}"


def check_cost(claim: CostClaim, seed: int = 0) -> CostResult:
    rng = np.random.default_rng(seed)
    work: dict[str, list[int]] = {label: [] for label in claim.implementations}
    try:
        for v in claim.values:
            sizes = {**claim.fixed, claim.vary: v}
            for label, (fn, make_args) in claim.implementations.items():
                work[label].append(count_work(fn, *make_args(sizes, rng)))
    except Exception as exc:  # the user's code
        return CostResult(claim.name, claim.as_written, "error", claim.vary, list(claim.values), dict(claim.fixed),
                          {}, work, {k: list(v) for k, v in claim.expect.items()},
                          f"{type(exc).__name__}: {exc}")
    logs = np.log(np.asarray(claim.values, float))
    exponents = {label: float(np.polyfit(logs, np.log(np.maximum(w, 1)), 1)[0]) for label, w in work.items()}
    holds = all(lo <= exponents[label] <= hi for label, (lo, hi) in claim.expect.items())
    return CostResult(claim.name, claim.as_written, "holds" if holds else "refuted", claim.vary,
                      list(claim.values), dict(claim.fixed), {k: round(p, 3) + 0.0 for k, p in exponents.items()},
                      work, {k: list(v) for k, v in claim.expect.items()})
