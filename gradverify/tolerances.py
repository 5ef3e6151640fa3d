"""Tolerances are data: named constants, a per-dtype table, and the reason for each.

Every check compares two numbers that are each computed in floating point, so a
check passes when the difference is within the error those computations can
make, and fails otherwise. That error is *estimated at each point*, not fixed:

    err(output) = noise(output) + u * |output|        (u: the unit roundoff)

``noise`` comes from Monte Carlo arithmetic (Parker 1997, the idea behind
Verificarlo and CADNA): the implementation is run ``noise_samples`` times with
every real input moved by one ulp and the result of every numpy operation
(+, *, @, exp, log, sum, ...) multiplied by 1 + r*mca_spread*u, r uniform in
[-1, 1] (`gradverify.mca`). The largest change of each output entry is its noise. It includes the
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
    "RESOLUTION_MISS",
    "SYMBOLIC_ZERO",
    "SYMBOLIC_DIGITS",
    "SYMBOLIC_PROOF_TERMS",
    "FLOAT64_BITS",
    "DIAGNOSIS_RTOL",
    "DIAGNOSIS_POINTS",
    "TINY",
    "SHRINK_BUDGET",
    "DEFAULT_SCALES",
    "DOMAIN_MARGIN",
    "MUTANT_SAME_RTOL",
    "ENTRIES_UP_TO",
    "COMPLEX_STEP",
    "CONFIRM_RUNS",
    "CONFIRM_FEWEST",
    "CONFIRM_SETTLED",
    "KINK_SHRINK",
    "STEP_SIZED",
    "STEP_FLOOR",
    "KINK_LEVELS",
    "FINER_READINGS",
    "BRANCH_FLIP",
    "INCONCLUSIVE_RESOLUTION",
    "WEAK_PASS_RESOLUTION",
]


@dataclass(frozen=True)
class Tolerance:
    """The numbers behind every numeric verdict, for one floating-point type."""

    dtype: str
    #: unit roundoff of the type (2**-53 for float64): the relative error of one correctly
    #: rounded operation. Not torch's or jax's ``eps``, which is their finite-difference step.
    unit_roundoff: float
    #: relative central-difference step. (3u)**(1/3) balances the rounding error
    #: u*|f|/h against the truncation error h**2*|f'''|/6 when |f| ~ |f'''|;
    #: we use (2u)**(1/3), the textbook choice, within a factor 1.5 of that optimum.
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
    #: A perturbation of 1 u is often lost to rounding itself (1 + u == 1),
    #: and a value that is exactly quantised (a probability that rounds to 1.0)
    #: then shows no noise at all. With up to 16 u the perturbed result lands
    #: back on the unperturbed one with probability ~1/17 per run, (1/17)**6
    #: ~ 4e-8 for all runs; the estimate is ~16x the true rounding error, still
    #: ~1e-15 relative, far below any error worth reporting.
    mca_spread: float = 16.0
    #: gradcheck's default ``min_resolution``: a pass must resolve an error of this fraction of
    #: max|grad| in one entry, else it is inconclusive. In float64 the complex step resolves ~1e-13
    #: and central differences ~1e-7 to 1e-10 per entry on smooth code, ~1e-4 along directions over
    #: 10⁴ entries; a pass that resolves only 1e-3 (the catalogue's line between a pass and a vacuous
    #: one) had its rounding measured that large (a gradient computed by cancellation) or met kinks,
    #: and says little (float32: 1e-1, see `_MIN_RESOLUTION`)
    min_resolution: float = 1e-3

    def replace(self, **changes) -> "Tolerance":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise InvalidArgument(
                "fields of Tolerance (" + ", ".join(f.name for f in dataclasses.fields(self)) + ")",
                f"{sorted(unknown)}",
                "Check the spelling of the tolerance you meant to override.",
            )
        return dataclasses.replace(self, **changes)


#: float32's ``min_resolution``: its complex step resolves ~3e-4 and central differences 1e-2 to 1
#: (a float32 Huber by central differences: 0.4, no pass); 1e-1 keeps the first and refuses the worst
_MIN_RESOLUTION = {"float64": 1e-3, "float32": 1e-1}


def _entry(dtype: str) -> Tolerance:
    gap = float(np.finfo(dtype).eps)  # machine epsilon: the gap between 1 and the next number
    return Tolerance(dtype=dtype, unit_roundoff=gap / 2, fd_step=gap ** (1 / 3),
                     min_resolution=_MIN_RESOLUTION[dtype])


#: The per-dtype table. float32 is here for implementations that compute in
#: float32; the error model is the same, only the unit roundoff and the step change.
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
#: the largest expansion sympy may attempt to *prove* a difference zero, in terms
#: (an upper bound computed from the expression before expanding, `symbolic.proof_size`).
#: Above it the claim is reported *sampled* (zero at every random point). A count,
#: not seconds: the same verdict on any machine, in any thread, with no signal.
#: Measured (sympy 1.14, 2 cores): the seed's proofs need bounds <= 18 (5 ms each);
#: softmax written as 1/sum_j exp(z_j - z_i) gives bounds 324 / 4,096 / 20,001+ at
#: d,V = 2,3 / 3,4 / 3,5, expanding in 0.1 / 1.9 / 37 s. 5,000 keeps one attempt near 2 s.
SYMBOLIC_PROOF_TERMS = 5000
#: the spec evaluated in float64's own precision (53 bits): the rounding a direct
#: transcription of the formula would make, used when the code hides its arithmetic
FLOAT64_BITS = 53

# ---------------------------------------------------------------- inputs and search
#: real inputs are 0 or at least this large: a product of three inputs then is
#: still a normal float64 (>= 1e-300), where relative rounding error means what
#: it says; subnormal numbers carry fewer digits and no loss function needs them.
TINY = 1e-100
#: magnitudes of real inputs: tiny vectors, unit scale, and large enough that
#: scores u_w^T v_c reach +-50 at the drawn dimensions (where a naive exp of a
#: sum overflows in float32 and saturates probabilities in float64).
DEFAULT_SCALES = (1e-3, 1.0, 6.0)
#: values in a domain that excludes 0 or has an open end keep this fraction of the
#: scale away from it: log p at p = 1e-3·scale is still a number, and a shrunk
#: example (hypothesis shrinks toward 0) stays inside the domain.
DOMAIN_MARGIN = 1e-3
#: examples hypothesis may try while shrinking one failure; then the smallest failing
#: example found so far is reported (each one it accepts is smaller than the last).
#: A count, not seconds, so that a seed reproduces the same counterexample on any machine.
SHRINK_BUDGET = 150

# ---------------------------------------------------------------- diagnosis and mutants
#: central differences are accurate to ~1e-8 of the gradient on the seed, sympy
#: to 1e-40; 1e-5 separates "the same up to rounding" from a real difference.
DIAGNOSIS_RTOL = 1e-5
#: a diagnosis is stated only when it holds at this many failing, non-degenerate points
#: (all of them, up to index values): one point can make a dropped term look like a factor
DIAGNOSIS_POINTS = 3
#: two mutants whose values agree this closely at a 50-digit sample point are one
#: expression written twice (they differ at ~1e-40 when equal, at O(1) when not).
MUTANT_SAME_RTOL = 1e-12

# ---------------------------------------------------------------- gradcheck
#: per-entry checks up to this many entries, directional above: one estimate per
#: entry costs one evaluation per entry, and one +-1 direction already sees an
#: error in any single entry (bisection then says which)
ENTRIES_UP_TO = 256
#: the complex step: small enough that h**2 terms vanish against u, far from underflow; a power of
#: two (2⁻⁶⁶ ≈ 1.4e-20), so that h·u is exact (a power of two scales exactly) and the complex buffer's
#: imaginary part gives u back exactly for the central differences that certify a pass
COMPLEX_STEP = 2.0**-66
#: Monte Carlo runs made to confirm a failing comparison before it is reported
CONFIRM_RUNS = 4
#: ... of which the first CONFIRM_FEWEST (taking the code's branches) suffice when the error stands
#: beyond the tolerance plus CONFIRM_SETTLED times the spread they showed (with the same safety factor):
#: the runs left could overturn it only by moving 16 times further than both runs before them did,
#: which the sum of many independent rounding errors that Monte Carlo arithmetic draws does not do.
#: A wrong entry located in a 1.5·10⁷-entry gradient is typically 10⁴–10⁵ times its tolerance, and
#: its two Monte Carlo runs in complex arithmetic are a fifth of the check's time
CONFIRM_FEWEST = 2
CONFIRM_SETTLED = 16.0
#: the complex step continues |z| and sign(z) by the real part only for numbers real but for the step:
#: |Im z| at most this fraction of |Re z| (h ≈ 1.4e-20 times a derivative along u: h·|f'|/|f| ≤ 1e-8
#: unless |f| < 1e-12·|f'|, a number that near 0 is refused, and central differences judge); above
#: it the imaginary part is the code's own (np.fft, a cast, 1j) and |z| is the modulus it means.
#: One value for numpy's watch and torch's mode
STEP_SIZED = 1e-8
#: |Re z| is taken as at least this fraction of the array's largest: a residual 1e-12 from the kink
#: among residuals of size 1 has a step-sized imaginary part 1e-8 of itself, and is still real
STEP_FLOOR = 1e-4
#: how much finer a step reads a confirmed central-difference failure again (gradcheck): 64× finer
#: (its Richardson pair h/64, h/32 inside the kink's distance where h/16 was not) resolves a kink
#: 64× nearer the point, at 64× the rounding error (~1e-9 of |f| in derivative units at the default
#: step); where the two readings disagree beyond both tolerances the function is not smooth at the
#: step's scale, and the finer one decides or the check is inconclusive
KINK_SHRINK = 64.0
#: at most this many finer readings (h/64, h/64², …) a central failure gets before it is called a
#: kink; fewer where a reading's rounding (64ᵏ times the coarse one's) already reaches the discrepancy
#: it should explain. An input 1e-12 from |r|'s 0 is inside h/64³ (2e-11) but not h/64⁴ (4e-13),
#: whose rounding (~1e-3 of |f| in derivative units) still resolves a flipped sign or a dropped term
KINK_LEVELS = 6
#: the report's finite differences: how many readings `KINK_SHRINK` times finer each an entry that
#: failed or was near a kink gets (`numeric._finer`); then one more at the entry's own scale
#: (fd_step · |x|, or the smallest nonzero |x| of its variable where x is 0) and `KINK_SHRINK`× below
#: it: a row of norm 2e-6 or 8e-78 is smooth at its own scale, not at the default step 6e-6
FINER_READINGS = 2
#: a Monte Carlo rerun "flipped a branch" (an equality or argmax mask, a ReLU) when a gradient entry
#: goes between exactly 0 and a size between this fraction of max|grad| and max|grad|: rounding moves
#: an entry by ulps of what it is computed from, far below that band where the gradient is resolved
#: (√u = 1.5e-8 of the largest is far above an ulp) and far above it where the gradient is itself
#: rounding; a flipped mask moves it by the size of a gradient entry. Such a rerun is left out of the
#: rounding measured
BRANCH_FLIP = 1.5e-8
#: gradcheck's ``resolution`` along random directions: every weight has |u_k| ≥ ½, so an error
#: in one entry moves the comparison by at least half of it, and one more than this many
#: tolerances large is caught for certain, whatever the seed (errors in several entries: missed
#: with probability at most 2τ/max|e|)
RESOLUTION_MISS = 2.0
#: a gradcheck pass whose ``certified_resolution`` (what real arithmetic alone resolved) is at least
#: this is no pass but inconclusive, however fine the complex step resolved: real arithmetic must at
#: least resolve an error as large as the largest gradient entry (resolution 1: an error of max|grad|
#: in one entry, the size of a flipped sign or a dropped term there, would pass unseen). Central
#: differences on float32 code (resolution ~30 on a float32 ReLU MLP) and rounding measured that
#: large (a softmax so sure that its gradient is a few ulps) reach it; float32 least squares by the
#: complex step (~1e-2) and float64 central differences (~1e-5) stay far below.
INCONCLUSIVE_RESOLUTION = 1.0
#: gradcheck's a-priori rounding model: a sum is taken in blocks of at most this many
#: terms (BLAS dots, numpy's pairwise sum), each block off by about eps*sqrt(block)*||terms||_2
#: for terms of random sign (measured: shared/notes/summation-error.md); longer sums
#: grow no faster. A comparison above this bound is measured (Monte Carlo arithmetic) before it fails.
SUM_BLOCK = 4096
#: a random direction's entries are ±(1/2 + |m + 1/2| / 2**16), m a uniform 16-bit integer: a
#: random sign and a magnitude in (1/2, 1), 2 bytes of randomness per entry (drawing float64
#: costs twice the time). One wrong entry moves the comparison by at least half its error; the
#: chance that one direction misses errors in several is at most 2·tol/|largest error| + 2**-16.
DIRECTION_LEVELS = 2**16
#: entries handled per chunk when a direction is applied or summed (512 KiB of float64):
#: large enough that Python's loop costs nothing, small enough to stay in cache
CHUNK = 2**16
#: when locating a wrong entry, the position read from a weighted direction is trusted
#: to this many times its own uncertainty before the window around it is checked
LOCATE_MARGIN = 8.0

# ---------------------------------------------------------------- the report's cells
#: a numeric check's pass whose resolution (tolerance over the size of the reference, at its most
#: telling example) is at least this is shown as a *weak* pass: an error of 0.1% of the gradient could
#: have passed unseen. Central differences on float64 code resolve ~1e-8 of the gradient; a pass this
#: coarse comes from rounding measured large (a saturated softmax, float32 code) or a tiny scale.
WEAK_PASS_RESOLUTION = 1e-3
