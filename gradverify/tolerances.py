"""Tolerances are data: named constants, a per-dtype table, and the reason for each.

Every check compares two numbers that are each computed in floating point, so a
check passes when the difference is within the error those computations can
make, and fails otherwise. That error is *estimated at each point*, not fixed:

    err(output) = noise(output) + eps * |output|

``noise`` comes from Monte Carlo arithmetic (Parker 1997, the idea behind
Verificarlo and CADNA): the implementation is run ``noise_samples`` times with
every real input moved by one ulp and the result of every numpy operation
(+, *, @, exp, log, sum, ...) multiplied by 1 + u*mca_spread*eps, u uniform in
[-1, 1]. The largest change of each output entry is its noise. It includes the
rounding inside the implementation, cancellation too (1 - sigma(-x) for large
x, log-sum-exp minus the top score), which moving the inputs alone never shows.

Central difference with step h (``fd_step`` * max(1, |x|)) then has error

    |D_h - f'| <= truncation + err(f) / h,   truncation ~ |D_2h - D_h| / 3

(Richardson: the leading error of D_h is c*h**2, that of D_2h is 4*c*h**2).
A claimed entry ``a`` fails against the numeric ``n`` when

    |a - n| > safety * (truncation + err(f)/h + err(a))

and agreement between implementation and spec fails when
``|impl - spec_exact| > safety * err(impl)``, where spec_exact is the spec's
formula evaluated with 50 significant digits.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .errors import InvalidArgument

__all__ = [
    "Tolerance",
    "TOLERANCES",
    "DEFAULT_TOLERANCE",
    "tolerance_for",
    "SYMBOLIC_ZERO",
    "SYMBOLIC_DIGITS",
    "SYMBOLIC_TIME_BUDGET",
]


@dataclass(frozen=True)
class Tolerance:
    """The numbers behind every numeric verdict, for one floating-point type."""

    dtype: str
    #: unit roundoff of the type: the relative error of one correctly rounded operation.
    eps: float
    #: relative central-difference step. (3*eps)**(1/3) balances the rounding error
    #: eps*|f|/h against the truncation error h**2*|f'''|/6 when |f| ~ |f'''|;
    #: we use eps**(1/3), the textbook choice, within a factor 1.5 of that optimum.
    fd_step: float
    #: factor on the estimated error. The estimates above are of the right order
    #: but not bounds: the noise is the largest of a few random samples, and the
    #: Richardson estimate of truncation can be low where the h**4 term is not
    #: negligible. 10 covers both with margin and still lets a relative error of
    #: ~1e-8 be seen at unit scale; the no-false-alarm run (benchmarks/false_alarms.py,
    #: and a shorter one in tests/test_numeric.py) is the evidence it is enough.
    safety: float = 10.0
    #: how many Monte Carlo arithmetic runs measure the noise. The largest of n
    #: samples of a symmetric error underestimates its spread by 2-3x at n = 6,
    #: which the safety factor covers.
    noise_samples: int = 6
    #: size of each operation's random rounding error, in units of roundoff.
    #: A perturbation of 1 eps is often lost to rounding itself (1 + eps == 1),
    #: and a value that is exactly quantised (a probability that rounds to 1.0)
    #: then shows no noise at all. With up to 16 eps the perturbed result lands
    #: back on the unperturbed one with probability ~1/17 per run, (1/17)**6
    #: ~ 4e-8 for all runs; the estimate is ~16x the true rounding error, still
    #: ~1e-15 relative, far below any error worth reporting.
    mca_spread: float = 16.0

    def replace(self, **changes) -> "Tolerance":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise InvalidArgument(
                "fields of Tolerance (" + ", ".join(f.name for f in dataclasses.fields(self)) + ")",
                f"{sorted(unknown)}",
                "Check the spelling of the tolerance you meant to override.",
            )
        return dataclasses.replace(self, **changes)


def _entry(dtype: str) -> Tolerance:
    eps = float(np.finfo(dtype).eps) / 2  # unit roundoff, not the machine epsilon gap
    return Tolerance(dtype=dtype, eps=eps, fd_step=float(np.finfo(dtype).eps) ** (1 / 3))


#: The per-dtype table. float32 is here for implementations that compute in
#: float32; the error model is the same, only eps and the step change.
TOLERANCES: dict[str, Tolerance] = {name: _entry(name) for name in ("float64", "float32")}
DEFAULT_TOLERANCE = TOLERANCES["float64"]


def tolerance_for(dtype) -> Tolerance:
    name = np.dtype(dtype).name
    if name not in TOLERANCES:
        raise InvalidArgument(
            "a dtype in " + ", ".join(TOLERANCES), f"dtype={name}", "Compute in float64 or float32."
        )
    return TOLERANCES[name]


#: Symbolic checks. A claim that differs from sympy's derivative is evaluated at
#: random points with SYMBOLIC_DIGITS significant digits; a right claim then
#: leaves a residual near 10**-SYMBOLIC_DIGITS (measured: <= 1e-50 on the seed),
#: a wrong one a residual of the size of the derivative. SYMBOLIC_ZERO, relative
#: to the size of the derivative, sits between the two with 20 orders of margin.
SYMBOLIC_DIGITS = 50
SYMBOLIC_ZERO = 1e-30
#: seconds given to sympy to *prove* a difference is zero (expand(numer(together())),
#: 0.03-1 s on the seed at these sizes); after that the claim is reported as
#: *sampled* (zero at every random point) instead of *proved*.
SYMBOLIC_TIME_BUDGET = 2.0
