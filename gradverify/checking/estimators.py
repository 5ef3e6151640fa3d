"""Estimating the derivative along a direction, and deciding whether the claim agrees.

* complex step: Im f(x + i·h·u)/h, h = 2⁻⁶⁶ ≈ 1.4e-20. No difference of nearby values is
  taken, so it is accurate to the code's own rounding (relative ~1e-15).
* central: (f(x+hu) − f(x−hu))/2h at h and 2h, Richardson-extrapolated; the
  difference of the two is the truncation estimate.

The claimed side is Σ gradᵀu from the real evaluation. A comparison first meets
an a-priori rounding bound (`SUM_BLOCK`): safety·eps·√min(N, block)·(‖grad∘u‖₂ + …),
the size of the rounding a blocked sum of N random-sign terms really makes, not
the worst case. A comparison above it is never reported alone:

1. a complex-step failure is compared with a real-valued central estimate; if the
   two estimates disagree beyond the central one's a-priori error, central's real
   rounding is measured (Monte Carlo arithmetic on the real code: a value computed
   by cancellation, J = −log p_o with p_o ≈ 1, is rounded at u absolute, not u·|J|)
   and only if they still disagree does the check fall back to central differences,
   saying why: the code drops the imaginary part somewhere the guard does not
   see (compiled code, a C extension), or the complex step underflowed
   (h·f' below the smallest normal number);
2. where they agree, the rounding really there is measured: the code is run
   ``CONFIRM_RUNS`` times in Monte Carlo arithmetic and the spread it shows is
   added to the tolerance (a gradient computed by cancellation, v_c(ŷ − y) when
   ŷ_o ≈ 1, is rounding at its own size; only a measurement sees that).

The noise measured is kept per estimator: central's (f's spread over h, huge
where f is rounded at u absolute) never widens a complex-step tolerance. A
complex-step call refused (`NotAnalytic`) anywhere, in the first call, a search's
estimate or a Monte Carlo run, is the fallback to central differences
(``fallback`` says why), never an exception for the user.

Before a comparison fails, and before central differences are used, the full
determinism test runs (`Calls.settle`); a complex-step call whose real value
agrees with the real call's makes it unnecessary on a pass.

`Estimators` keeps, for one gradcheck call, which estimator is in use and the
noise measured so far; `quick` reuses them without new confirmation (locating
a wrong entry needs many estimates, not many confirmations). `prefetch` makes
the first complex-step call before the real one, so that the memory its
complex outputs took serves the real call's gradients (a fresh page costs more
than the arithmetic on it at 10⁷ entries).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..errors import InvalidArgument
from ..differences import apart, central, one_sided_slopes, shrinks, stencil
from .. import rounding
from ..mca import MonteCarloArithmetic
from ..tolerances import (BRANCH_FLIP, COMPLEX_STEP, CONFIRM_FEWEST, CONFIRM_RUNS, CONFIRM_SETTLED, KINK_LEVELS,
                          KINK_SHRINK, RESOLUTION_MISS, SUM_BLOCK)
from .calls import Calls, ComplexEvaluation, NotAnalytic, WatchRefused
from .directions import Claimed, Direction, chunks, claimed_along, largest_magnitude

__all__ = ["Estimate", "Estimators", "Kinked", "NonFinite"]


class Kinked(Exception):
    """A central-difference failure that a finer step does not confirm: the function has a kink
    within a step of the point; str() says what was seen. Inconclusive, never a pass."""


class NonFinite(Exception):
    """The claimed gradient has a NaN or an infinity; str() says where."""

    def __init__(self, message: str, argument: int, index: tuple, claimed: float):
        super().__init__(message)
        self.argument, self.index, self.claimed = argument, index, claimed


@dataclass(frozen=True)
class Estimate:
    """One comparison: the estimated and the claimed derivative along a direction."""

    estimator: str
    numeric: float
    claimed: float
    tolerance: float
    #: the claimed side it was made with (what `Estimators.confirm` needs)
    basis: Claimed | None = field(default=None, compare=False, repr=False)
    #: the tolerance before the noise measured so far was added (`quick`); None: ``tolerance`` is
    unconfirmed_tolerance: float | None = field(default=None, compare=False, repr=False)
    #: central differences only: (step h, f(x+hu), f(x−hu), f(x+2hu), f(x−2hu))
    sides: tuple = field(default=(), compare=False, repr=False)

    @property
    def error(self) -> float:
        return self.numeric - self.claimed

    @property
    def ratio(self) -> float:
        """|error| / tolerance (inf for a NaN)."""
        err = abs(self.error)
        if math.isnan(err):
            return math.inf
        if self.tolerance > 0:
            return err / self.tolerance
        return 0.0 if err == 0 else math.inf

    @property
    def fails(self) -> bool:
        return self.ratio > 1.0


class Estimators:
    """The estimator in use for one gradcheck call, and the noise measured so far."""

    def __init__(self, calls: Calls, choice: str):
        self.calls, self.choice = calls, choice
        self.fallback = ""
        #: rounding measured by Monte Carlo arithmetic on a failing comparison (derivative units), per
        #: estimator: central differences' (f's spread / h, huge where f is rounded at u absolute)
        #: never widens a complex-step tolerance
        self._noise = {"complex-step": 0.0, "central": 0.0}
        #: the largest error / tolerance seen so far
        self.worst = 0.0
        #: the widest tolerance of a comparison made (derivative units): what a pass can resolve
        self.widest = 0.0
        #: the widest tolerance of a passing comparison in real arithmetic (central differences):
        #: what a pass resolves without assuming the code is analytic
        self.certified = 0.0
        self._largest: float | None = None
        self._scales: dict = {}
        self._prefetched: tuple | None = None  # (direction, ComplexEvaluation or the exception it raised)
        self._value_checked = False  # Re f(x + i·h·u) compared with f(x) (`_another_function`)
        self._zeros: list | None = None  # where the claimed gradients are exactly 0 (`_same_branches`)
        #: what the measuring met and did about it, said with the result (a set: said once each)
        self.notes: set = set()

    @property
    def used(self) -> str:
        return "central" if self.choice == "central" else "complex-step"

    @property
    def noise(self) -> float:
        """The rounding measured so far for the estimator in use (derivative units)."""
        return self._noise[self.used]

    # ------------------------------------------------------------ bounds
    def largest(self) -> float:
        """max |grad| over every checked entry (computed once)."""
        if self._largest is None:
            self._largest = max(largest_magnitude(g) for g in self.calls.base.grads)
        return self._largest

    def _bound(self, claimed: Claimed, u: Direction) -> float:
        """The a-priori rounding bound of one comparison (both sides), and the accepted nondeterminism."""
        tol = self.calls.tol
        whole = u.lo == 0 and u.hi == sum(u.sizes) and not u.weighted
        size = claimed.norm + (0.0 if whole else self.largest())
        rounding = tol.unit_roundoff * math.sqrt(min(max(claimed.terms, 1), SUM_BLOCK)) * size
        return tol.safety * (rounding + self.calls.nondeterminism * (1.0 + claimed.total_u))

    def _claimed(self, u: Direction) -> Claimed:
        claimed = claimed_along(self.calls.base.grads, u, total=self.calls.nondeterminism > 0,
                                weights=self.calls.weights)
        if not math.isfinite(claimed.value):
            raise self._non_finite()
        return claimed

    def _non_finite(self) -> NonFinite:
        for slot, g in enumerate(self.calls.base.grads):
            bad = np.flatnonzero(~np.isfinite(g))
            if bad.size:
                i = self.calls.wrt[slot]
                index = tuple(int(j) for j in np.unravel_index(int(bad[0]), g.shape))
                value = float(g.reshape(-1)[bad[0]])
                return NonFinite(f"the gradient for args[{i}] is {value} at index {index} "
                                 f"({bad.size} entries not finite)", i, index, value)
        return NonFinite("Σ gradᵀu is not finite (the gradient overflows)", self.calls.wrt[0], (), math.inf)

    # ------------------------------------------------------------ estimates
    def _seen(self, e: Estimate) -> Estimate:
        self.worst = max(self.worst, e.ratio)
        if math.isfinite(e.tolerance):
            self.widest = max(self.widest, e.tolerance)
        if e.estimator == "central" and not e.fails:
            self._certified(e)
        return e

    def resolution(self, directional: bool, certified: bool = False) -> float:
        """The smallest error in one entry, as a fraction of max|grad|, caught for certain: every
        weight of a random direction is at least ½, so 2·τ along directions, τ entry by entry.
        ``certified``: what the comparisons in real arithmetic alone resolved (central differences,
        which every pass meets); else what the sharpest estimator used resolved."""
        if self.calls.base is None:
            return math.nan
        factor = RESOLUTION_MISS if directional else 1.0
        largest = self.largest()
        widest = self.certified if certified else self.widest
        return factor * widest / largest if largest > 0 else factor * widest

    def prefetch(self, u: Direction) -> None:
        """The complex-step call along ``u`` made now, before `Calls.start`; `estimate(u)` uses it.
        What it raises is kept and raised there, after the real call has had its say."""
        if self.choice == "central":
            return
        try:
            self._prefetched = (u, self.calls.complex(u, COMPLEX_STEP))
        except Exception as exc:  # noqa: BLE001 - raised again by estimate(u), after the real call
            self._prefetched = (u, exc)

    def estimate(self, u: Direction) -> Estimate:
        """The comparison along ``u``, confirmed before it is allowed to fail, certified by real
        arithmetic before it is allowed to pass."""
        e = self._look(u)
        return self._seen(self._confirm(u, e) if e.fails else self.certify(u, e))

    def certify(self, u: Direction, e: Estimate) -> Estimate:
        """A passing comparison along ``u`` held against real arithmetic along the same direction.

        A complex-step pass is only as good as the code's analyticity, which nothing can list
        (np.vectorize with Python's abs, a C extension, compiled code that conjugates): central
        differences at h and 2h, which meet no such condition, must agree with the claim too, within
        their own tolerance (rounding u·|f|/h and the truncation seen between the two steps). Where
        they do not, the adjudication every central failure gets runs first (the rounding measured,
        the finer step for a kink: `Kinked` if that cannot decide); a disagreement that survives it
        means the complex step agreed with a claim that real arithmetic refutes: the complex step is
        not trusted for this code from then on (`fallback` says why), and the confirmed central failure
        is returned. A pass returns ``e``; what real arithmetic certified is kept (`certified_resolution`).
        """
        if e.fails or e.estimator != "complex-step":
            return e
        claimed = e.basis
        c = self._central(u, claimed)
        if not c.fails:
            self._certified(self._tighter(u, claimed, c, e))
            self.calls.release_moved()
            return e
        if self.calls.settle():  # central differences call fn at no point twice: determinism first
            return self.certify(u, self._look(u))
        c = self._confirm_central(u, claimed, c)
        if not c.fails:
            self._certified(c)
            return e
        self._fall_back(f"the complex step agreed with the claim ({e.numeric:.12g} against Σ gradᵀu = "
                        f"{e.claimed:.12g}) where central differences, in real arithmetic, do not ({c.numeric:.12g}, "
                        f"beyond their tolerance {c.tolerance:.3g}): the code has an operation that is not the "
                        f"real one continued to complex numbers (Python's abs of a complex, a cast, compiled "
                        f"code that conjugates), so the complex step is not trusted for it; central differences "
                        f"used")
        return c

    def _tighter(self, u: Direction, claimed: Claimed, c: Estimate, e: Estimate) -> Estimate:
        """A passing central reading ``c`` that certifies less than ``min_resolution`` (of the dtype's
        tolerance), read again at steps `KINK_SHRINK`, `KINK_SHRINK`², … times finer while that narrows it: a loss
        with many kinks (a mean absolute error over 2·10⁵ residuals) has kinks between h and 2h, whose
        slope changes the truncation estimate counts, and a finer step crosses fewer. Only readings
        that agree with the claim are kept; the tightest is what real arithmetic certified."""
        best, enough = c, self.calls.tol.min_resolution * self.largest() / RESOLUTION_MISS
        if c.tolerance <= enough:
            return best
        for shrink in shrinks(KINK_LEVELS):
            fine = self._central(u, claimed, shrink=shrink)
            if fine.fails or fine.tolerance >= best.tolerance:
                break
            best = fine
            if best.tolerance <= enough:
                break
        return best

    def _certified(self, c: Estimate) -> None:
        if math.isfinite(c.tolerance):
            self.certified = max(self.certified, c.tolerance)

    def look(self, u: Direction) -> Estimate:
        """The comparison along ``u``, unconfirmed: a failure here has met the determinism test but
        not yet the cross-check and the measured rounding (`confirm`). Not counted in `worst`
        until `record` or `confirm`."""
        return self._look(u)

    def record(self, e: Estimate) -> Estimate:
        return self._seen(e)

    def confirm(self, u: Direction, e: Estimate) -> Estimate:
        """A failing `look` or `quick` estimate along ``u`` confirmed, or measured to be rounding."""
        return self._seen(self._confirm(u, e))

    def _confirm(self, u: Direction, e: Estimate) -> Estimate:
        if e.basis is None or e.estimator != self.used:  # the estimator changed since: a new estimate
            return self._estimate_now(u)
        if e.unconfirmed_tolerance is not None:
            e = replace(e, tolerance=e.unconfirmed_tolerance, unconfirmed_tolerance=None)
        if e.estimator == "central":
            return self._confirm_central(u, e.basis, e)
        return self._confirm_complex(u, e.basis, e)

    def _estimate_now(self, u: Direction) -> Estimate:
        e = self._look(u)
        return e if not e.fails else self._confirm(u, e)

    def _look(self, u: Direction) -> Estimate:
        if self.choice == "central":
            self.calls.settle()  # central differences call fn at no point twice: test determinism first
            return self._central(u, self._claimed(u))
        try:
            ev = self._complex_call(u)
        except NotAnalytic as exc:
            self._claimed(u)  # a gradient not finite is said first, whatever the complex step met
            self._not_analytic(exc)
            return self._look(u)
        claimed = self._claimed(u)  # after the complex call: u is read back from its buffer, not drawn again
        e = Estimate("complex-step", ev.derivative, claimed.value, self._bound(claimed, u), claimed)
        if (e.fails or not self.calls.agrees(ev.value)) and self.calls.settle():
            return self._look(u)  # the global RNGs are pinned now: a new base, a new estimate
        if self._another_function(u, claimed, ev.value):
            self._not_analytic(NotAnalytic(
                f"the complex step's value {ev.value:.12g} is not fn's value {self.calls.base.value:.12g}, beyond "
                f"the rounding measured: on complex numbers the code computes another function (x.view(complex), "
                f"a cast, numbers taken out of the watch)"))
            return self._look(u)
        return e

    def _another_function(self, u: Direction, claimed: Claimed, value: float) -> bool:
        """Whether Re f(x + i·h·u), which is f(x) up to h², differs from the real call's f(x) by more
        than the code's rounding (its a-priori bound, else measured by Monte Carlo arithmetic: f
        computed by cancellation is rounded at u absolute). Decided once per gradcheck call: the
        real part does not depend on u."""
        if self._value_checked:
            return False
        self._value_checked = True
        if self.calls.agrees(value, settled_too=True):
            return False
        noise_f = self._real_noise(u, claimed)[0]
        return abs(value - self.calls.base.value) > self.calls.tol.safety * 2 * noise_f + \
            self.calls.tol.safety * self.calls.tol.unit_roundoff * math.sqrt(SUM_BLOCK) * abs(self.calls.base.value)

    def _complex_call(self, u: Direction) -> ComplexEvaluation:
        if self._prefetched is not None:
            v, outcome = self._prefetched
            self._prefetched = None
            if v is u:
                if isinstance(outcome, Exception):
                    raise outcome
                return outcome
        return self.calls.complex(u, COMPLEX_STEP)

    def _not_analytic(self, exc: NotAnalytic, where: str = "") -> None:
        """A complex-step call refused: central differences from now on (an error if the complex
        step was asked for). Every complex-step call meets this, never the user."""
        if self.choice == "complex-step":
            raise InvalidArgument("an implementation the complex step can run",
                                  f"estimator='complex-step' for code it cannot run through ({exc}{where})",
                                  "Use estimator='central', or 'auto' (the default: the complex step where the code "
                                  "allows it, central differences elsewhere).") from None
        self._fall_back(f"complex step not possible ({exc}{where})")

    def quick(self, u: Direction) -> Estimate:
        """One estimate with the estimator in use and the noise measured so far, unconfirmed."""
        e = None
        if self.choice != "central":
            try:
                e = self._complex(u)
            except NotAnalytic as exc:  # code that refuses only some directions, or only later calls
                self._claimed(u)  # a gradient not finite is said first, whatever the complex step met
                self._not_analytic(exc)
        if e is None:
            self.calls.settle()  # (it has run already wherever quick is used; central needs it)
            e = self._central(u, self._claimed(u))
        return self._seen(replace(e, tolerance=e.tolerance + self.calls.tol.safety * self.noise,
                                  unconfirmed_tolerance=e.tolerance))

    def _complex(self, u: Direction) -> Estimate:
        numeric = self.calls.complex(u, COMPLEX_STEP).derivative
        claimed = self._claimed(u)  # after the complex call: u is read back from its buffer, not drawn again
        return Estimate("complex-step", numeric, claimed.value, self._bound(claimed, u), claimed)

    def _step(self, u: Direction) -> float:
        """The central difference step: fd_step times the size of the moved arguments (their largest
        entry; 1 for arguments that are all 0). It follows their own scale down as well as up: a cosine
        similarity's vector of norm 1e-78, inside its domain, is read at a step 1e-78 times finer than
        one of norm 1, where a fixed step would read another function."""
        for slot, _, _ in u.pieces():
            if slot not in self._scales:
                known = self.calls.largest_x.get(slot)  # (read already, if its complex buffer was filled)
                self._scales[slot] = known if known is not None else \
                    largest_magnitude(self.calls.args[self.calls.wrt[slot]])
        scale = max(self._scales[slot] for slot, _, _ in u.pieces())
        return self.calls.tol.fd_step * (scale if scale > 0 else 1.0)

    @staticmethod
    def _plain(e: Estimate) -> float:
        """D_h = (f(x+hu) − f(x−hu)) / 2h of central reading ``e`` (whose number is the extrapolation)."""
        h, *values = e.sides
        return central(*values, h).d_h  # (differences.py: the one home of the stencil's formulas)

    def _central(self, u: Direction, claimed: Claimed, shrink: float = 1.0) -> Estimate:
        """Central differences along ``u`` at the step ``shrink`` times finer than `_step`: the
        Richardson extrapolation of D_h and D_2h, with D_h's tolerance (its truncation estimate
        |D_2h − D_h|/3 and its rounding)."""
        calls, h = self.calls, self._step(u) / shrink
        values = stencil(lambda moves: [calls.real(calls.moved(u, float(step))).value for step in moves], h)
        c = central(*values, h)
        block = math.sqrt(min(max(claimed.terms, 1), SUM_BLOCK))
        rounding = (calls.tol.unit_roundoff * block * max(c.size, abs(calls.base.value))
                    + self._input_rounding(u, claimed)) / h
        tolerance = calls.tol.safety * (c.truncation + rounding + calls.nondeterminism / h) + self._bound(claimed, u)
        return Estimate("central", c.extrapolated, claimed.value, tolerance, claimed, sides=(h, *values))

    def _kink_spans_claim(self, e: Estimate, noise_f: float) -> bool:
        """Whether the values behind central reading ``e`` show a kink within its step, with the claim
        between the one-sided slopes (a subgradient, as caffe#1334 proposes to check at kinks).

        One-sided slopes at h and 2h: on a smooth function their gap grows with the step (h·f″, then
        2h·f″); where the function has a kink within the step the gap is the jump in slope at both
        steps. A gap at 2h that is not twice the gap at h, beyond rounding, is such a kink: central
        differences there read a mix of the two slopes, and a claim between them cannot be refuted."""
        if len(e.sides) != 5:
            return False
        h, fp, fm, fp2, fm2 = e.sides
        f0, tol = self.calls.base.value, self.calls.tol
        fwd, bwd, fwd2, bwd2 = one_sided_slopes(f0, fp, fm, fp2, fm2, h)
        rounding = tol.safety * (tol.unit_roundoff * max(abs(f0), abs(fp), abs(fm), abs(fp2), abs(fm2))
                                 + noise_f + self.calls.nondeterminism) / h
        kinked = abs((fwd2 - bwd2) - 2 * (fwd - bwd)) > 8 * rounding
        low, high = min(fwd, bwd, fwd2, bwd2), max(fwd, bwd, fwd2, bwd2)
        return kinked and low - rounding <= e.claimed <= high + rounding

    # ------------------------------------------------------------ confirmation
    def _confirm_complex(self, u: Direction, claimed: Claimed, e: Estimate) -> Estimate:
        """A failing complex step: checked against central differences, then against measured rounding."""
        c = self._central(u, claimed)
        self.calls.release_moved()  # the complex step goes on: its memory serves the next calls
        measured = None
        if not abs(c.numeric - e.numeric) <= c.tolerance:
            # central's a-priori rounding is u·|f|/h, but a value computed by cancellation is rounded
            # at u absolute (J = −log p_o when p_o ≈ 1): its real rounding is measured before the two
            # estimates are said to disagree. Used for this comparison only: it is central's noise.
            measured = self._real_noise(u, claimed)
            slack = self.calls.tol.safety * measured[0] / self._step(u)
            if not abs(c.numeric - e.numeric) <= c.tolerance + slack and \
                    not self._finer_agrees(u, claimed, e, c, c.tolerance + slack, measured[0]):
                return self._disagree(u, claimed, e, c, measured)
        try:
            noise = self._complex_noise(u, e, claimed)
        except NotAnalytic as exc:  # met only where Monte Carlo arithmetic follows real results too
            self._not_analytic(exc, "; met in a Monte Carlo arithmetic run, which follows real results too")
            return c if not c.fails else self._confirm_central(u, claimed, c, measured)
        self._noise["complex-step"] = max(self._noise["complex-step"], noise)
        e = replace(e, tolerance=e.tolerance + self.calls.tol.safety * self._noise["complex-step"])
        return self.certify(u, e)  # a complex-step pass, even after its rounding was measured, needs real arithmetic

    def _disagree(self, u: Direction, claimed: Claimed, e: Estimate, c: Estimate, measured) -> Estimate:
        """The complex step and central differences disagree beyond central's measured rounding."""
        self._fall_back(self._disagreement(e, c, claimed))
        return self._confirm_central(u, claimed, c, measured)

    def _disagreement(self, e: Estimate, c: Estimate, claimed: Claimed) -> str:
        both = f"the complex step ({e.numeric:.9g}) and central differences ({c.numeric:.9g}) disagree"
        tiny = float(np.finfo(self.calls.complex_dtype).tiny)
        step = COMPLEX_STEP * max(abs(c.numeric), abs(claimed.value), abs(e.numeric))
        if 0 < step < tiny:
            return (f"{both}: the complex step underflowed (h·f' ≈ {step:.3g} is below the smallest normal "
                    f"number, {tiny:.3g}, so its imaginary part lost its digits); central differences used")
        return (f"{both}: the code drops the imaginary part somewhere the guard does not see (compiled code "
                f"that reads its input as plain numbers, a C extension, .real or a cast); central differences used")

    def _fall_back(self, why: str) -> None:
        self.choice, self.fallback = "central", why

    def _complex_noise(self, u: Direction, e: Estimate, claimed: Claimed) -> float:
        """How far Monte Carlo arithmetic moves the complex-step derivative and Σ gradᵀu, among the
        runs that take the code's branches as the real call did (`_same_branches`)."""
        rng = np.random.default_rng(self.calls.seed)
        worst, flipped, counted, runs = 0.0, 0, 0, 0
        for _ in range(CONFIRM_RUNS):
            ev = self.calls.complex(u, COMPLEX_STEP, jitter=rng, grads=True)
            runs += 1
            if not self._same_branches(ev.grads):
                flipped += 1
                continue
            c = claimed_along(ev.grads, u).value
            spread = abs(ev.derivative - e.numeric) + abs(c - claimed.value)
            worst = max(worst, spread)
            counted += math.isfinite(spread)  # (a run gone to NaN measured nothing: the runs left are made)
            del ev  # its complex gradients go before the next run makes its own
            if counted >= CONFIRM_FEWEST and \
                    abs(e.error) > e.tolerance + self.calls.tol.safety * CONFIRM_SETTLED * worst:
                break  # a failure far beyond what the runs showed: the runs left cannot overturn it
        self._flipped(flipped, runs)
        return worst

    def _real_noise(self, u: Direction, claimed: Claimed) -> tuple[float, float]:
        """Monte Carlo arithmetic on the real code: how far f and Σ gradᵀu move (f's units, and
        derivative units), among the runs that take the code's branches as the real call did.

        Code that refuses gradverify's watched arrays (autograd, numba, ``type(x) is np.ndarray``)
        and code that hides its arithmetic (torch, jax, np.array(x)) are measured from outside
        instead, on plain arrays: the change that one-ulp moves of the inputs make."""
        calls = self.calls
        inputs = {i: calls.args[i] for i in calls.wrt}
        measured = rounding.measure(
            lambda moved: calls.real(moved, watched=True), inputs,
            MonteCarloArithmetic(np.random.default_rng(calls.seed), calls.tol.unit_roundoff, calls.tol.mca_spread),
            CONFIRM_RUNS, view=calls.read_only, refuse=(WatchRefused,),
            outside=lambda: rounding.ulp_moved(calls.real, inputs, CONFIRM_RUNS, np.random.default_rng(calls.seed)))
        if measured.refused is not None:
            self.notes.add(f"fn refuses gradverify's watched arrays ({measured.refused}): its rounding was measured "
                           f"on plain arrays instead (one-ulp moves of the inputs)")
        noise_f = noise_c = 0.0
        flipped = 0
        for ev in measured.runs:
            if not self._same_branches(ev.grads):
                flipped += 1
                continue
            noise_f = max(noise_f, abs(ev.value - calls.base.value))
            noise_c = max(noise_c, abs(claimed_along(ev.grads, u).value - claimed.value))
        self._flipped(flipped, len(measured.runs))
        return noise_f, noise_c

    def _same_branches(self, grads: list) -> bool:
        """Whether a rerun took the code's discrete decisions as the real call did: rounding moves a
        gradient entry by ulps, but never makes an exactly-zero entry nonzero or the reverse (an
        equality or argmax mask, a ReLU, a branch that flipped does: that is no rounding, and such a
        rerun measures nothing about it)."""
        if self._zeros is None:
            self._zeros = [np.asarray(g) == 0 for g in self.calls.base.grads]
        largest = self.largest()
        for base, zeros, g in zip(self.calls.base.grads, self._zeros, grads):
            flat, was, zero = np.asarray(g).reshape(-1), np.asarray(base).reshape(-1), zeros.reshape(-1)
            size = 0.0
            for s, e in chunks(0, flat.size):  # by chunks: no temporaries the size of the gradient
                moved = zero[s:e] != (flat[s:e] == 0)
                if moved.any():
                    size = max(size, float(np.abs(flat[s:e][moved]).max()), float(np.abs(was[s:e][moved]).max()))
            if BRANCH_FLIP * largest < size <= largest:
                return False
        return True

    def _flipped(self, count: int, runs: int) -> None:
        """Say that ``count`` of the ``runs`` reruns made (an early stop makes fewer than `CONFIRM_RUNS`)
        were left out."""
        if count:
            self.notes.add(f"{count} of {runs} Monte Carlo reruns flipped a discrete decision of the code (an "
                           f"equality or argmax mask, a branch: exactly-zero gradient entries moved) and were left "
                           f"out of the rounding measured")

    def _confirm_central(self, u: Direction, claimed: Claimed, e: Estimate, measured=None) -> Estimate:
        """Monte Carlo arithmetic on the real code (``measured``: already made along ``u``): f's
        spread over the step, and Σ gradᵀu's, widen central differences' tolerances (only theirs)."""
        noise_f, noise_c = measured if measured is not None else self._real_noise(u, claimed)
        self._noise["central"] = max(self._noise["central"], noise_f / self._step(u) + noise_c)
        e = replace(e, tolerance=e.tolerance + self.calls.tol.safety * self._noise["central"])
        return self._finer(u, claimed, e, noise_f) if e.fails else e

    def _fine_rounding(self, u: Direction, claimed: Claimed, noise_f: float, shrink: float = KINK_SHRINK,
                       size: float = 0.0) -> float:
        """The rounding of a central reading ``shrink`` times finer (derivative units): ``shrink`` times
        the coarse one's, for values of size |f(x)| or ``size`` (the values the coarse reading read: at
        a point where f is 0, f(x ± hu) is not). Not its truncation estimate, which a kink between its
        two steps inflates."""
        tol = self.calls.tol
        block = math.sqrt(min(max(claimed.terms, 1), SUM_BLOCK))
        size = max(abs(self.calls.base.value), size)
        return tol.safety * shrink / self._step(u) * (tol.unit_roundoff * block * size + self._input_rounding(u, claimed)
                                                      + noise_f + self.calls.nondeterminism)

    def _input_rounding(self, u: Direction, claimed: Claimed) -> float:
        """How far f moves because x ± h·u is stored rounded (f's units): each moved entry is off by
        up to u·|x_k|, which moves f by g_k·u·|x_k|; with random signs these add like
        u·max|x|·‖g‖₂ ≤ 2u·max|x|·‖g∘u‖₂ (every |u_k| ≥ ½). At a point where f is 0 (a linear function
        at its root) this, not u·|f|, is the rounding of a difference of values."""
        scale = self._step(u) / self.calls.tol.fd_step
        return 2 * self.calls.tol.unit_roundoff * scale * claimed.norm

    def _finer_agrees(self, u: Direction, claimed: Claimed, e: Estimate, c: Estimate, tolerance: float,
                      noise_f: float) -> bool:
        """Whether central differences `KINK_SHRINK`, `KINK_SHRINK`², … times finer agree with the complex
        step ``e`` that the coarse ones ``c`` contradicted: a kink within the coarse step (a residual near
        |r|'s 0), not code that drops the imaginary part. Each finer step is read as `_finer` reads it
        (the extrapolation, then D_h), down to the step whose rounding alone reaches the gap to explain:
        a residual 1e-8 from its 0 is still crossed at h/64. Agreeing is coming within the tolerance and
        the finer rounding, and at least 4 times nearer than the coarse reading (a complex step that is
        off, as one that underflowed, stays as far from every reading). The complex step's failure then
        stands."""
        gap_coarse = abs(c.numeric - e.numeric)
        for level, shrink in enumerate(shrinks(KINK_LEVELS), 1):
            rounding = self._fine_rounding(u, claimed, noise_f, shrink)
            if level > 1 and rounding >= gap_coarse:
                return False
            fine = self._central(u, claimed, shrink=shrink)
            for reading in (fine.numeric, self._plain(fine)):
                gap = abs(reading - e.numeric)
                if gap <= min(fine.tolerance, tolerance) + rounding and gap <= 0.25 * gap_coarse:
                    return True
        return False

    def _finer(self, u: Direction, claimed: Claimed, e: Estimate, noise_f: float) -> Estimate:
        """A confirmed central failure read again at steps `KINK_SHRINK`, `KINK_SHRINK`², … times finer,
        down to the step whose rounding alone reaches the discrepancy to explain (`KINK_LEVELS` at most).

        A function with a kink (a ReLU or |r| with an input near its 0) is read as a fraction of the
        slope by every step that crosses the kink, so readings agreeing with each other prove nothing
        while they all cross it; the first step inside the kink's distance reads the derivative at the
        point. So: the first reading that moved away from the one before and agrees with the claim,
        within its own tolerance, passes the comparison; where none does, the failure stands if every reading agreed with the one before
        (the function is smooth at all those scales), and the comparison is `Kinked` (inconclusive)
        where they moved."""
        coarse, readings, smooth, plain_pass = e, [e.numeric], True, None
        size = max((abs(v) for v in e.sides[1:]), default=0.0)
        finer = shrinks(KINK_LEVELS)
        for level, shrink in enumerate(finer, 1):
            rounding = self._fine_rounding(u, claimed, noise_f, shrink, size)
            if level > 1 and rounding >= abs(coarse.error):
                break
            fine = self._central(u, claimed, shrink=shrink)
            readings.append(fine.numeric)
            moved = bool(apart(fine.numeric, coarse.numeric, coarse.tolerance + rounding))
            smooth = smooth and not moved
            fine = replace(fine, tolerance=min(fine.tolerance, e.tolerance) + rounding)
            if moved and not fine.fails:  # (a reading that did not move is no new evidence: its wider
                return fine               # tolerance alone must never pass what the coarser one failed)
            # the same stencil's D_h, which reads x ± h only: a step can land inside the kink's distance
            # while 2h does not, and the kink then bends the extrapolation but not D_h (|r| at 1e-8 from
            # its 0, h = 5.2e-9: D_h reads the slope, the extrapolation 1% more). Its tolerance is D_h's
            # own (the truncation estimate |D_2h − D_h|/3 and the rounding), capped as the reading's is;
            # kept while finer steps are read, whose extrapolation (with a tighter tolerance) comes first
            plain = replace(fine, numeric=self._plain(fine))
            if plain_pass is None and not plain.fails and \
                    apart(plain.numeric, coarse.numeric, coarse.tolerance + rounding):
                plain_pass = plain
            coarse = fine
        if plain_pass is not None:
            return plain_pass
        if smooth and not self._kink_spans_claim(e, noise_f):
            return e
        steps = ", ".join(["h"] + [f"h/{k:.3g}" for k in finer[:len(readings) - 1]])
        raise Kinked(f"central differences at steps {steps} read {', '.join(f'{r:.12g}' for r in readings)}: "
                     f"each disagrees with the one before beyond their tolerances, and none agrees with the "
                     f"claimed Σ gradᵀu = {e.claimed:.12g}: the function has a kink within a step of the point "
                     f"(an input of a ReLU or |r| near its 0), where central differences read a fraction of the "
                     f"slope, and the complex step, which would see through it, was not possible or not "
                     f"confirmed ({self.fallback or 'estimator=central'})")
