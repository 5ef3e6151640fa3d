"""Piecewise-aware points (`gradverify.breakpoints`): a claim wrong only in a band of values
between its breakpoints and the function's is refuted at every seed, with a counterexample in the
band; the right versions hold."""

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

sys.path.insert(0, str(Path(__file__).resolve().parent / "catalogue"))

import hinge_margin  # noqa: E402
import smooth_l1  # noqa: E402
from gradverify.breakpoints import Breakpoint, breakpoints_on_line, compile_arguments, kink_arguments, line_points  # noqa: E402
from gradverify.checks import Options, check_derivation  # noqa: E402
from gradverify.symbolic import check_symbolic  # noqa: E402

SEEDS = [0, 1, 2, 3, 5, 8]


def test_kink_arguments_come_from_piecewise_heaviside_max_min_abs_and_sign():
    x, y = sp.symbols("x y", real=True)
    exprs = np.array([sp.Piecewise((x, x < sp.Rational(9, 10)), (1, True)), sp.Heaviside(y - 2),
                      sp.Max(0, x + y), sp.Min(x, 3), sp.Abs(y + 1), sp.sign(x - 5), x ** 2], dtype=object)
    found = kink_arguments(exprs)
    for g in (x - sp.Rational(9, 10), y - 2, x + y, x - 3, y + 1, x - 5):
        assert g in found or -g in found, (g, found)
    assert kink_arguments(np.array([x ** 2 + sp.exp(y)], dtype=object)) == []  # smooth: none


def test_breakpoints_on_a_line_are_found_and_the_band_between_origins_comes_first():
    r, t = sp.symbols("r t", real=True)
    compiled = compile_arguments({"function": [sp.Abs(r - t) - sp.Rational(9, 10)], "claim": [sp.Abs(r - t) - 1]},
                                 [r, t])
    breaks = breakpoints_on_line(compiled, {r: 0.0, t: 0.25}, r, -12.0, 12.0)
    assert [round(b.at, 12) for b in breaks] == [-0.75, -0.65, 1.15, 1.25]
    assert [b.origin for b in breaks] == ["claim", "function", "function", "claim"]
    first = [x for p, x in line_points(breaks, -12.0, 12.0, 1.0) if p == 0]
    assert first == pytest.approx([-0.7, 1.2])  # |r − t| = 0.95: inside the band [0.9, 1)


def test_a_point_either_side_of_each_breakpoint_stays_on_its_side():
    breaks = [Breakpoint(0.9, "function"), Breakpoint(1.0, "claim")]
    sides = sorted(x for p, x in line_points(breaks, -12.0, 12.0, 1.0) if p == 2)
    assert sides[0] < 0.9 < sides[1] < 0.95 < sides[2] < 1.0 < sides[3]


def _band(counterexample: str, a: str, b: str, lo: float, hi: float, product: bool = False) -> bool:
    values = {name: np.array(eval(v)) for name, v in re.findall(r"(\w+)=(\[[^\]]*\])", counterexample)}  # noqa: S307
    r = values[a] * values[b] if product else np.abs(values[a] - values[b])
    return bool(np.any((r >= lo) & (r < hi)))


@pytest.mark.parametrize("seed", SEEDS)
def test_smooth_l1_whose_claim_switches_at_1_instead_of_0_9_is_refuted_in_the_band(seed):
    rows = check_derivation(smooth_l1.smooth_l1_switch_at_1, Options(seed=seed, examples=10))
    row = rows[0]
    assert row.verdict == "refuted", row.as_dict()
    assert row.checks["symbolic"].status == "refuted" and row.checks["finite_difference"].status == "fail"
    assert _band(row.checks["symbolic"].counterexample, "x", "t", 0.9, 1.0), row.checks["symbolic"].counterexample
    assert _band(row.checks["finite_difference"].counterexample, "x", "t", 0.9, 1.0)
    assert "wrong only at entry" not in row.diagnosis


@pytest.mark.parametrize("seed", SEEDS)
def test_hinge_with_its_margin_off_by_0_1_is_refuted_in_the_band(seed):
    row = check_derivation(hinge_margin.hinge_margin_off, Options(seed=seed, examples=10))[0]
    assert row.verdict == "refuted", row.as_dict()
    assert row.checks["symbolic"].status == "refuted" and row.checks["finite_difference"].status == "fail"
    assert _band(row.checks["symbolic"].counterexample, "y", "w", 1.0, 1.1, product=True)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("right", [smooth_l1.smooth_l1, hinge_margin.hinge_margin], ids=["smooth-l1", "hinge"])
def test_the_right_versions_hold_at_the_same_points(seed, right):
    rows = check_derivation(right, Options(seed=seed, examples=10))
    assert [r.verdict for r in rows] == ["holds"], rows[0].as_dict()


def test_the_symbolic_check_tries_the_band_points_and_hands_them_to_the_numeric_checks():
    right = check_symbolic(smooth_l1.smooth_l1, (), 0)["∂J/∂x"]
    assert right.status == "sampled" and right.points > 3  # the points around x − t = ±0.9 were evaluated too
    result = check_symbolic(smooth_l1.smooth_l1_switch_at_1, (), 0)["∂J/∂x"]
    assert result.status == "refuted" and result.breakpoints and any(
        np.any(np.abs(np.abs(p.values["x"] - p.values["t"]) - 0.95) < 1e-9) for p in result.breakpoints)


def _squares(claim):
    from gradverify import Claim, Derivation, Implementation, Real

    def code(x):
        g = 2 * x
        if claim == "entry-0":
            g = g.copy()
            g[0] = 3 * x[0]
        return float(np.sum(x * x)), g
    expr = (lambda s: sp.Matrix(s.n, 1, [3 * s.x[0]] + [2 * s.x[i] for i in range(1, s.n)])) if claim == "entry-0" \
        else (lambda s: 2 * s.x)
    return Derivation(id=f"squares-{claim}", title="Σ x²", dims={"n": (2, 4)}, variables={"x": Real("n")},
                      function=lambda s: sum(xi ** 2 for xi in s.x),
                      claims=[Claim("∂J/∂x", expr, output="g", wrt="x")],
                      implementation=Implementation(code, args=("x",), returns=("J", "g")))


def test_a_claim_wrong_at_one_position_everywhere_is_still_said_to_be_so():
    row = check_derivation(_squares("entry-0"), Options(seed=0, examples=10))[0]
    assert row.verdict == "refuted"
    assert row.checks["finite_difference"].diagnosis == "wrong only at entry 0", row.as_dict()
