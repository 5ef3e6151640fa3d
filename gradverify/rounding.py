"""Measuring the rounding of user code: one home for the report and gradcheck.

The code is run a few times in Monte Carlo arithmetic (`mca.py`): every numpy operation's
result moved by a random rounding error and, where asked, every input by one ulp (the rounding
of the inputs themselves); how far each run's outputs move from the code's own is its rounding.
Code that calls LAPACK is run again with each matrix argument moved as LAPACK's normwise
backward error allows (`LinalgWatch`). Code that hides its arithmetic from the watch (it
converts its inputs: np.array(x), Python floats, torch, jax) is measured from outside instead:
in the processor's directed rounding modes (`directed`), or by one-ulp moves of plain inputs
(`ulp_moved`).

What each product makes of the runs stays with it: the report bounds every entry of every
output by its largest change (`largest_change`); gradcheck bounds f and Σ gradᵀu by theirs,
among the runs that take the code's branches as the real call did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import rounding_modes
from .mca import MonteCarloArithmetic, one_ulp

__all__ = ["LinalgWatch", "Measured", "Measurement", "directed", "largest_change", "measure", "ulp_moved"]


@dataclass
class Measured:
    """The runs a rounding measurement made."""

    #: what each run returned
    runs: list
    #: Monte Carlo arithmetic saw the code compute (else the runs measured it from outside)
    watched: bool
    #: the code refused the watched arrays (one of ``measure``'s ``refuse``): what it raised
    refused: BaseException | None = None


def measure(run: Callable[[dict], Any], inputs: dict, mca: MonteCarloArithmetic, count: int, *,
            move: np.random.Generator | None = None, view: Callable = lambda x: x, skip: tuple = (),
            refuse: tuple = (), outside: Callable[[], list] | None = None) -> Measured:
    """``count`` runs of ``run(arguments)`` under ``mca``, ``arguments`` being ``inputs`` (a dict of
    arrays) watched; each input first moved one ulp at random by ``move`` (None: not moved) and
    given to the code as ``view`` makes it.

    Where the code called LAPACK (``mca`` a `LinalgWatch` that saw it), ``count`` more runs with
    its matrix arguments moved backward-stably; a run that raises one of ``skip`` there (a move
    out of the code's domain) is left out. An exception in ``refuse`` (the code refused the
    watched arrays) drops the watched runs. When the watch saw no operation, ``outside()`` is
    measured: its runs join the watched ones where those moved the inputs, and replace them
    where they did not (then they measured nothing). (`Measurement` takes it in steps.)"""
    return Measurement(run, inputs, mca, count, move=move, view=view, skip=skip, refuse=refuse,
                       outside=outside).finish()


class Measurement:
    """`measure`'s runs, taken in steps: `take` the first ones, read them (`so_far`), then `finish`
    with the same random streams: `finish` gives exactly what `measure` gives.

    The runs taken so far are a subset of the whole measurement's when the watch saw the code
    compute and call no LAPACK function (`so_far`): the runs left are then of the same kind, so a
    bound on rounding that holds for the first runs' largest change only grows."""

    def __init__(self, run: Callable[[dict], Any], inputs: dict, mca: MonteCarloArithmetic, count: int, *,
                 move: np.random.Generator | None = None, view: Callable = lambda x: x, skip: tuple = (),
                 refuse: tuple = (), outside: Callable[[], list] | None = None):
        self.run, self.inputs, self.mca, self.count = run, inputs, mca, count
        self.move, self.view, self.skip, self.refuse, self.outside = move, view, skip, refuse, outside
        self.runs: list = []
        self.refused: BaseException | None = None
        self.finished: Measured | None = None

    def _arguments(self) -> dict:
        return {k: self.mca.watch(self.view(v if self.move is None else one_ulp(v, self.move)))
                for k, v in self.inputs.items()}

    def take(self, count: int) -> None:
        """The first ``count`` watched runs (of the measurement's own count)."""
        while self.refused is None and len(self.runs) < min(count, self.count):
            try:
                self.runs.append(self.run(self._arguments()))
            except self.refuse as exc:
                self.runs, self.mca.seen, self.refused = [], 0, exc

    def so_far(self) -> list | None:
        """The runs taken, when every run still to come is of their kind (the code was watched and
        called no LAPACK function); else None."""
        if self.refused is not None or not self.mca.seen or getattr(self.mca, "linalg", False):
            return None
        return list(self.runs)

    def finish(self) -> Measured:
        """Every run: `measure`'s answer."""
        if self.finished is not None:
            return self.finished
        self.take(self.count)
        mca, runs = self.mca, self.runs
        if isinstance(mca, LinalgWatch) and mca.linalg:
            # LAPACK is backward stable normwise: what inv, det, solve, pinv, svd return is exact for an
            # argument moved by ~u·‖X‖ in every entry, a small entry as much as a large one. The code is
            # run again with every LAPACK call's matrix arguments moved so (`LinalgWatch.backward`), and
            # every output's change counts as its rounding: an identity exact to working precision as a
            # whole matrix is never refuted at a small entry of it (∂det X/∂X = det(X) X⁻ᵀ).
            mca.backward = True
            for _ in range(self.count):
                try:
                    runs.append(self.run(self._arguments()))
                except self.skip:
                    continue
        if not mca.seen and self.outside is not None:
            runs = (runs if self.move is not None else []) + self.outside()
        self.finished = Measured(runs, mca.seen > 0, self.refused)
        return self.finished


def directed(run: Callable[[], Any], skip: tuple = ()) -> list:
    """The code run rounding upward, downward and toward zero (`rounding_modes`), which changes its
    every operation: the spread is the rounding it is sensitive to. A run that raises one of
    ``skip`` (code that breaks when it rounds another way) is left out; none where the processor's
    rounding mode cannot be set."""
    if not rounding_modes.available():
        return []
    runs = []
    for direction in rounding_modes.DIRECTIONS:
        try:
            with rounding_modes.directed(direction):
                runs.append(run())
        except skip:
            continue
    return runs


def ulp_moved(run: Callable[[dict], Any], inputs: dict, count: int, rng: np.random.Generator) -> list:
    """``count`` runs of ``run`` on plain ``inputs``, each entry moved one ulp at random: the change
    the rounding of the inputs makes, for code that refuses or hides from the watch."""
    return [run({k: one_ulp(v, rng) for k, v in inputs.items()}) for _ in range(count)]


def largest_change(runs: list, base: dict) -> dict:
    """The largest change of every entry of every output (``base``: the code's own outputs by name;
    each run's the same) over ``runs``."""
    worst = {k: np.zeros_like(v) for k, v in base.items()}
    for out in runs:
        for k in worst:
            np.maximum(worst[k], np.abs(out[k] - base[k]), out=worst[k])
    return worst


#: np.linalg functions computed by LAPACK, backward stable normwise (norm is not: it is a sum)
LAPACK = frozenset({"inv", "det", "slogdet", "solve", "pinv", "lstsq", "eig", "eigh", "eigvals", "eigvalsh", "svd",
                    "cholesky", "qr", "tensorinv", "tensorsolve", "cond", "matrix_rank", "svdvals"})


class LinalgWatch(MonteCarloArithmetic):
    """Monte Carlo arithmetic that notes whether the code called LAPACK (np.linalg.inv, det, ...) and,
    with ``backward``, calls it with each matrix argument moved by up to spread·u·max|X| in every
    entry (LAPACK's normwise backward error), its result then perturbed as any function's is."""

    linalg = False
    backward = False

    def _lapack(self, func) -> bool:
        return str(getattr(func, "__module__", "")).startswith("numpy.linalg") and \
            getattr(func, "__name__", "") in LAPACK

    def function(self, func, args, kwargs):
        if not (self.backward and self._lapack(func)):
            return super().function(func, args, kwargs)
        moved = [_normwise(np.asarray(a), self.spread * self.unit_roundoff, self.rng)
                 if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a for a in args]
        value = func(*moved, **kwargs)
        if func.__name__ == "det":
            # numpy's det is sign·exp(Σ ln|u_ii|) over the LU factors: relative error ~u·|ln det| beyond
            # the factorisation's (det of [[2.7e-66]]³ is off by 2e-14 of itself, not by u)
            logs = np.log(np.abs(np.where(value == 0, 1.0, value)))
            value = value * (1 + self.spread * self.unit_roundoff * np.abs(logs)
                             * self.rng.uniform(-1.0, 1.0, size=np.shape(value)))
        return self.returned(func, args, value)

    def returned(self, func, args, value):
        if self._lapack(func):
            self.linalg = True
        return super().returned(func, args, value)


def _normwise(x: np.ndarray, size: float, rng: np.random.Generator) -> np.ndarray:
    """``x`` (plain) with every entry moved by up to size·max|x|."""
    x = np.array(x, dtype=x.dtype)
    if not x.size:
        return x
    return x + size * float(np.max(np.abs(x))) * rng.uniform(-1.0, 1.0, size=x.shape)
