"""How a check's figures are shown so that the same seed gives the same bytes on any machine.

A figure at rounding level (the agreement check compares float64 code with the
spec at 50 digits: when it passes, its error *is* the code's rounding) differs
in its last digits between CPUs (numpy's vector loops round differently). Such
a figure is shown, in every format, as the decade that bounds it ("≤ 1e-14"),
and the JSON says ``"rounding_level": true``. A passing finite-difference figure
is treated the same way: central differences carry rounding of ε·|f|/h, about
1e-10 of the derivative, the very size of the figure, so its digits too depend
on the CPU. A figure that decides a verdict (a failing check) is shown exactly.
"""

from __future__ import annotations

import math

from ..results import CheckResult, NumericFigures, Status

__all__ = ["ROUNDING_LEVEL", "at_rounding_level", "decade_bound", "ratio_bound", "rel_text", "ratio_text", "json_figures"]

#: a passing relative error below this is rounding, whatever the check
ROUNDING_LEVEL = 1e-12
#: checks whose passing error is rounding by construction: float64 against 50 digits, and
#: central differences (whose own rounding, ε·|f|/h, is the size of their passing error)
ROUNDING_CHECKS = frozenset({"agreement", "finite_difference"})
#: the smallest bound a rounding-level ratio is shown with
RATIO_FLOOR = 0.1


def at_rounding_level(name: str, check: CheckResult) -> bool:
    """Whether ``check``'s figures are rounding noise (shown as a decade bound)."""
    figures = check.figures
    if not isinstance(figures, NumericFigures) or Status(check.status) != Status.PASS:
        return False
    return name in ROUNDING_CHECKS or 0 < figures.max_rel_err < ROUNDING_LEVEL


def decade_bound(x: float) -> float:
    """The smallest power of ten ≥ ``x`` (0 for 0): 5.3e-15 → 1e-14."""
    if x <= 0 or math.isinf(x) or math.isnan(x):
        return x
    exponent = math.ceil(math.log10(x))
    if float(f"1e{exponent - 1}") >= x:  # log10 rounded up past an exact power
        exponent -= 1
    return float(f"1e{exponent}")


def ratio_bound(x: float) -> float:
    """A passing ratio at rounding level, as a bound on a coarse grid (0.1, 1): rounding moves
    such a ratio by a factor of a few, and the grid's one step sits far from the seed's ratios."""
    return x if x <= 0 else max(decade_bound(x), RATIO_FLOOR)


def _decade_text(x: float) -> str:
    return "0" if x == 0 else f"≤ 1e{round(math.log10(decade_bound(x)))}"


def rel_text(name: str, check: CheckResult) -> str:
    x = check.figures.max_rel_err
    if at_rounding_level(name, check):
        return _decade_text(x)
    return f"{x:.1e}" if x else "0"


def ratio_text(name: str, check: CheckResult) -> str:
    """The largest error as a fraction of its tolerance: what decides pass (≤ 1) or fail."""
    x = check.figures.error_over_tolerance
    if at_rounding_level(name, check):
        return "0×" if x == 0 else f"≤ {ratio_bound(x):g}×"
    if x == float("inf") or x >= 1000:
        return ">999×"
    return f"{x:.2g}×"


def json_figures(name: str, check: CheckResult, data: dict) -> dict:
    """``data`` (the check's JSON) with rounding-level figures replaced by their decade bound."""
    if not isinstance(check.figures, NumericFigures):
        return data
    level = at_rounding_level(name, check)
    out = dict(data, rounding_level=level)
    if level:
        out["max_rel_err"] = decade_bound(check.figures.max_rel_err)
        out["error_over_tolerance"] = ratio_bound(check.figures.error_over_tolerance)
    return out
