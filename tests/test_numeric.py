"""The numeric machinery: central differences, the rounding-noise estimate, comparisons,
and the no-false-alarm run over the right seed claims."""

import dataclasses
import random
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import replace_impl
from gradverify import numeric
from gradverify.checks import Options, check_derivation, numeric_checks
from gradverify.errors import DerivationError
from gradverify.spec import Point
from gradverify.tolerances import DEFAULT_TOLERANCE, TOLERANCES, Tolerance, tolerance_for
from gradverify.errors import InvalidArgument

sys.path.insert(0, str(Path(__file__).resolve().parent / "catalogue"))
import dropout_unseeded, entropy, in_place, least_squares, minibatch, relu_sum  # noqa: E401,E402

#: few examples: each planted defect shows in the first handful
CATALOGUE_FAST = Options(seed=0, examples=15)


def point_b(scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    return Point({"d": 3, "V": 4}, {"v_c": rng.uniform(-1, 1, 3) * scale, "o": 1,
                                    "U": rng.uniform(-1, 1, (3, 4)) * scale}, scale)


def test_central_difference_matches_the_analytic_gradient_to_1e_9(seed):
    p = point_b()
    out = numeric.call(seed["b"], p)
    pos = numeric.selected_positions((3,), None)
    d_h, trunc, h, _ = numeric.central_difference(seed["b"], p, "v_c", pos, DEFAULT_TOLERANCE)
    assert np.max(np.abs(d_h - out["grad_v_c"])) < 1e-9
    assert np.all(trunc < 1e-8) and np.all(h > 0)


def test_selected_positions_follow_numpy_indexing():
    pos = numeric.selected_positions((2, 3), (slice(None), [2, 0]))
    assert pos.tolist() == [[2, 0], [5, 3]]


def test_noise_sees_cancellation_inside_the_implementation(seed):
    """1 - sigma(-x) at x = 36 rounds to a multiple of 1.1e-16 although the true
    value is 2.3e-16: moving the inputs alone shows nothing; Monte Carlo arithmetic does."""
    p = Point({"d": 1, "K": 1, "V": 4}, {"v_c": np.array([6.0]), "o": 0, "samples": [1],
                                         "U": np.array([[0.0, 6.0, 0.0, 0.0]])}, 6.0)
    base = numeric.call(seed["e"], p)
    noise, watched = numeric.noise(seed["e"], p, base, DEFAULT_TOLERANCE, np.random.default_rng(0))
    assert watched
    assert noise["grad_U"][0, 1] > 1e-16 * 6  # ~ eps times the size of the intermediate (1) times v_c


def test_compare_reports_the_worst_entry_with_both_values():
    c = numeric.compare(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 2.0], [3.0, 5.0]]), np.full((2, 2), 1e-3))
    assert not c.ok and c.worst_index == (1, 1) and c.worst_claimed == 4.0 and c.worst_reference == 5.0
    assert c.max_rel_err == pytest.approx(1 / 5.001)


def test_compare_passes_within_tolerance_and_reads_noise_as_noise():
    c = numeric.compare(np.array([1e-22]), np.array([0.0]), np.array([1e-16]))
    assert c.ok and c.max_rel_err < 1e-5


def test_an_implementation_that_writes_into_its_argument_is_an_error_naming_it(seed):
    def writes_into_U(v_c, o, U):
        out = seed["b"].implementation.fn(v_c, o, U)
        U[:] = 0.0
        return out

    p = point_b()
    before = p.values["U"].copy()
    with pytest.raises(DerivationError, match="modifies its argument `U` in place"):
        numeric.call(replace_impl(seed["b"], writes_into_U), p)
    assert np.array_equal(p.values["U"], before)  # the point is not changed either
    numeric.call(seed["b"], p)  # the seed's code writes into nothing


def test_in_place_change_is_an_error_row_and_the_copying_version_holds():
    rows = {d.id: check_derivation(d, CATALOGUE_FAST) for d in (in_place.centre, in_place.centre_in_place)}
    assert [r.verdict for r in rows["centre"]] == ["holds"]
    (row,) = rows["centre-in-place"]
    assert row.verdict == "error" and "in_place_centre modifies its argument `x` in place" in row.message


# ---- randomness inside the implementation ------------------------------------------------
def test_code_drawing_from_the_global_rng_is_pinned_and_the_callers_state_given_back():
    d = minibatch.minibatch
    p = Point({"N": 4, "D": 2}, {"X": np.arange(8.0).reshape(4, 2), "w": np.array([0.5, -1.0]),
                                 "t": np.array([1.0, 2.0, 3.0, 4.0])}, 1.0)
    log = numeric.CallLog()
    first = numeric.call_twice(d, p, log)
    assert log.rng_pinned
    again = numeric.call(d, p)
    assert all(first[k].tobytes() == again[k].tobytes() for k in first)
    np.random.seed(123)
    random.seed(123)
    expected = np.random.RandomState(123).random_sample(), random.Random(123).random()
    check_derivation(d, CATALOGUE_FAST)
    assert (np.random.random_sample(), random.random()) == expected  # the caller's streams go on untouched


def test_deterministic_code_is_not_reported_as_pinned(seed):
    log = numeric.CallLog()
    numeric.call_twice(seed["b"], point_b(), log)
    assert not log.rng_pinned


def test_an_unseeded_generator_is_an_error_never_a_pass():
    p = Point({"n": 16}, {"x": np.linspace(-1.0, 2.0, 16)}, 1.0)
    with pytest.raises(DerivationError, match="not deterministic: outputs differ between two calls at the same "
                                              "point by .*seeded generator"):
        numeric.call_twice(dropout_unseeded.dropout_unseeded, p)
    (row,) = check_derivation(dropout_unseeded.dropout_unseeded, CATALOGUE_FAST)
    assert row.verdict == "error" and "not deterministic" in row.message


@pytest.mark.parametrize("did, verdict", [("minibatch", "holds"), ("minibatch-sign-flipped", "refuted")])
def test_a_sign_flip_in_a_stochastic_loss_is_refuted_once_the_rng_is_pinned(did, verdict):
    (row,) = check_derivation(getattr(minibatch, did.replace("-", "_")), CATALOGUE_FAST)
    assert row.verdict == verdict
    assert row.checks["finite_difference"].figures.rng_pinned


@pytest.mark.parametrize("did", ["least-squares-noise-1", "least-squares-noise-1e-3"])
def test_noise_added_to_the_gradient_is_refuted(did):
    (row,) = check_derivation(getattr(least_squares, did.replace("-", "_").replace(".", "_")), CATALOGUE_FAST)
    assert row.verdict == "refuted" and row.checks["finite_difference"].status == "fail"
    (right,) = check_derivation(least_squares.least_squares, CATALOGUE_FAST)
    assert right.verdict == "holds"


# ---- kinks -----------------------------------------------------------------------------------
def _relu_fd(derivation, x):
    p = Point({"n": len(x)}, {"x": np.array(x)}, 1.0)
    base = numeric.call(derivation, p)
    noise, _ = numeric.noise(derivation, p, base, DEFAULT_TOLERANCE, np.random.default_rng(0))
    pos = numeric.selected_positions((len(x),), None)
    err = DEFAULT_TOLERANCE.unit_roundoff * np.abs(base["grad_x"])
    return numeric.fd_comparison(derivation, p, "x", pos, base["grad_x"], err, base["J"], noise["J"],
                                 DEFAULT_TOLERANCE)


def test_an_entry_whose_stencil_crosses_a_kink_is_set_aside_not_failed():
    """x = 0 sits on relu's kink: at every step its stencil crosses it. x = 1.95e-6 and −3e-6 sit
    closer to the kink than the default step (6e-6; D_h reads 0.66, not 1), but relu is smooth
    within 1.95e-6 of them: read again at finer steps they are compared, not set aside."""
    c = _relu_fd(relu_sum.relu_sum, [1.95e-6, 0.0, -3e-6, 0.7, -0.4])
    assert c.ok and c.set_aside == 1 and c.compared == 4


@pytest.mark.parametrize("did", ["relu-sum-mask-ge-scaled", "relu-sum-mask-missing", "relu-sum-mask-wrong-side"])
def test_a_wrong_mask_still_fails_away_from_the_kink(did):
    c = _relu_fd(getattr(relu_sum, did.replace("-", "_")), [1.95e-6, 0.0, 0.7, -0.4])
    assert not c.ok and c.set_aside == 1


def test_smooth_code_sets_nothing_aside(seed):
    p = point_b(scale=6.0)
    base = numeric.call(seed["b"], p)
    noise, _ = numeric.noise(seed["b"], p, base, DEFAULT_TOLERANCE, np.random.default_rng(0))
    pos = numeric.selected_positions((3,), None)
    c = numeric.fd_comparison(seed["b"], p, "v_c", pos, base["grad_v_c"],
                              DEFAULT_TOLERANCE.unit_roundoff * np.abs(base["grad_v_c"]), base["J"], noise["J"],
                              DEFAULT_TOLERANCE)
    assert c.ok and c.set_aside == 0 and c.compared == 3


def test_a_check_that_compares_nothing_does_not_pass():
    """Inputs drawn at scale 1e-200 are all 0 (below `TINY`), on relu's kink: nothing can be compared.
    (At 1e-9 they are compared now: read at their own scale, relu is smooth there.)"""
    tiny = dataclasses.replace(relu_sum.relu_sum, scales=(1e-200,))
    (row,) = check_derivation(tiny, CATALOGUE_FAST)
    fd = row.checks["finite_difference"]
    assert fd.status == "error" and "no example could be compared" in fd.detail
    assert fd.figures.set_aside == {numeric.KINK: fd.figures.examples}
    (normal,) = check_derivation(relu_sum.relu_sum, CATALOGUE_FAST)
    assert normal.checks["finite_difference"].status == "pass"
    assert 0 < normal.checks["finite_difference"].figures.set_aside[numeric.KINK] < normal.checks[
        "finite_difference"].figures.examples


def test_nan_without_a_declared_domain_names_the_point_and_the_domain_hint():
    import dataclasses

    from gradverify import Real

    undeclared = dataclasses.replace(entropy.entropy, variables={"p": Real("n")})  # p may be 0 or negative
    (row,) = check_derivation(undeclared, CATALOGUE_FAST)
    assert row.verdict == "error"
    assert "returned J = nan" in row.message and "declare the domain" in row.message and "(at n=" in row.message


def test_with_its_domain_declared_the_same_loss_gets_its_verdict_and_steps_stay_inside():
    (row,) = check_derivation(entropy.entropy, CATALOGUE_FAST)
    assert row.verdict == "holds", row.message


def test_tolerance_table_has_float64_and_float32_with_derived_steps():
    assert TOLERANCES["float64"].unit_roundoff == 2.0**-53
    assert TOLERANCES["float64"].fd_step == pytest.approx((2.0**-52) ** (1 / 3))
    assert TOLERANCES["float32"].unit_roundoff == 2.0**-24
    assert tolerance_for(np.float32) is TOLERANCES["float32"]


def test_tolerance_override_and_bad_override():
    t = DEFAULT_TOLERANCE.replace(safety=100.0)
    assert t.safety == 100.0 and isinstance(t, Tolerance)
    with pytest.raises(InvalidArgument, match="Expected fields of Tolerance"):
        DEFAULT_TOLERANCE.replace(saftey=1.0)
    with pytest.raises(InvalidArgument, match="dtype=int64"):
        tolerance_for(np.int64)


def test_a_smaller_safety_factor_can_only_make_more_failures(seed):
    """The tolerance is used: with safety 1e-6 the right claims fail (and the
    documented safety 10 is what makes them pass)."""
    strict = Options(seed=0, examples=10, tolerance=DEFAULT_TOLERANCE.replace(safety=1e-6))
    results = numeric_checks(seed["b"], (), strict)
    assert results["∂J/∂v_c"]["finite_difference"].status == "fail"


# ---- no false alarms -----------------------------------------------------------------------
#: examples per seed derivation here: 8 derivations x 1250 = 10,000 examples of
#: right claims, tiny vectors to scores of +-50 (and sigmoid inputs of +-50).
#: benchmarks/false_alarms.py runs the same with any count.
NO_FALSE_ALARM_EXAMPLES = 1250
#: the default run's smoke version of it: the same derivations, seed and scales, few examples
#: (the full run is marked slow: python -m pytest -m slow)
NO_FALSE_ALARM_SMOKE = 40


@pytest.mark.parametrize("examples", [pytest.param(NO_FALSE_ALARM_SMOKE, id="smoke"),
                                      pytest.param(NO_FALSE_ALARM_EXAMPLES, id="full", marks=pytest.mark.slow)])
@pytest.mark.parametrize("did", ["a", "b", "c", "d-scalar", "d-vector", "e", "f-softmax", "f-negsample"])
def test_no_false_alarm_on_right_claims_over_many_examples(seed, did, examples):
    derivation = seed[did]
    results = numeric_checks(derivation, tuple(derivation.assumptions),
                       Options(seed=20261124, examples=examples))
    for claim, checks in results.items():
        for name, check in checks.items():
            assert check.status == "pass", (claim, name, check.detail, check.counterexample)
            assert check.figures.examples == examples


# ---------------------------------------------------------------- code that computes in float32
def test_a_cast_to_float32_rounds_and_monte_carlo_arithmetic_perturbs_it_at_float32_s_size():
    from gradverify.mca import MonteCarloArithmetic

    mca = MonteCarloArithmetic(np.random.default_rng(0), 2.0**-53, 16.0)
    x = np.full(1000, 1.0 / 3.0)
    cast = mca.watch(x).astype(np.float32)
    assert cast.dtype == np.float32 and mca.seen == 1
    moved = np.abs(np.asarray(cast, dtype=np.float64) - np.float32(1.0 / 3.0)) / (1.0 / 3.0)
    assert 2.0**-24 < moved.max() <= 18 * 2.0**-24  # the cast's own rounding, then 16 units of float32's
    assert mca.watch(x).astype(np.float64) is not None and mca.seen == 1  # a widening or same cast is exact


def test_float32_code_whose_cast_inputs_cancel_is_no_false_alarm_and_a_wrong_gradient_still_fails():
    """Found by benchmarks/false_alarms.py (seed 1, example 600 or so): W x cancels to 0.008 from
    terms of 2.5, each cast to float32 with an error of 1e-7: the value is off the spec by 3e-5 of
    itself, all of it the cast's rounding."""
    import float32_code
    from gradverify.checks import evaluate_point

    point = Point({"n": 2}, {"W": np.array([[2.4367, 2.4367], [2.4367, -2.4448]]),
                             "x": np.array([-1.0243, -1.0243]), "v": np.array([0.0, 5.779])}, 1.0)
    for key, comparison in evaluate_point(float32_code.tanh_float32, point, DEFAULT_TOLERANCE).items():
        assert not isinstance(comparison, str) and comparison.ok, (key, comparison)
    wrong = evaluate_point(float32_code.tanh_float32_transposed, point, DEFAULT_TOLERANCE)
    assert not wrong[("∂J/∂W", "finite_difference")].ok


def test_monte_carlo_arithmetic_keeps_watching_through_numpy_functions():
    """np.dot and np.concatenate hand back plain arrays: the watch goes on from their results (so
    1 − σ(z) computed after an np.dot shows its cancellation), and np.dot's own rounding is perturbed,
    np.concatenate's (exact) is not."""
    from gradverify.mca import MonteCarloArithmetic
    from gradverify.watching import Watched

    w, x = np.array([10.0, 10.0, 5.0]), np.array([1.0, 0.5, 1.0])  # z = wᵀx = 20: 1 − σ(z) cancels
    spread = []
    for seed in range(6):
        mca = MonteCarloArithmetic(np.random.default_rng(seed), 2.0**-53, 16.0)
        z = np.dot(mca.watch(w), x)
        assert isinstance(z, Watched) and mca.seen == 1
        joined = np.concatenate([mca.watch(w), x])
        assert isinstance(joined, Watched) and mca.seen == 1 and np.array_equal(joined, np.r_[w, x])
        spread.append(float(1.0 - 1.0 / (1.0 + np.exp(-z))))
    assert (max(spread) - min(spread)) / abs(np.mean(spread)) > 1e-8  # float64 of it is off by ~1e-7 of itself


# ---- entries central differences cannot resolve (numeric.UNRESOLVED) -----------------------------------------
#: the width of the bands the slope below is constant on: a factor 64, the factor between the finer
#: readings of an entry (numeric.FINER), so that every reading falls in a band of its own
_BAND = 2.0 ** -20
#: below this |x − c| the slope is 1 (the code's claim at x = c, unchanged by one-ulp moves of x and c,
#: and below the finest step central differences take)
_ZERO = 2.0 ** -48


def _banded():
    """f(x, c) = Σ (x − c) · k(|x − c|), the slope k 2 or 1 on alternate bands [64ᵐ B, 64ᵐ⁺¹ B) of |x − c|
    (2 on the band of the default step; k = 1 at |x − c| < 2⁻⁴⁸). Away from c the function is linear near the point and ∂f/∂x = k. At x = c it has
    no derivative: f is odd about c, so every stencil's fourth difference is 0 (no kink is seen) and
    D_h = D_2h (no truncation error is seen), yet D_h is 1 or 2 as the step's band alternates: no two
    readings at finer steps agree, whatever the step."""
    import sympy as sp

    from gradverify import Claim, Derivation, Implementation, Real

    def k_sym(d):
        band = sp.floor((sp.log(sp.Abs(d), 2) - np.log2(_BAND)) / 6)
        return sp.Piecewise((sp.S.One, sp.Abs(d) < _ZERO), (2 - sp.Mod(band, 2), True))

    def k(d):
        with np.errstate(divide="ignore"):
            band = np.floor((np.log2(np.where(np.abs(d) < _ZERO, 1.0, np.abs(d))) - np.log2(_BAND)) / 6)
        return np.where(np.abs(d) < _ZERO, 1.0, 2.0 - np.mod(band, 2))

    def code(x, c):
        d = x - c
        return float(np.sum(d * k(d))), k(d)

    return Derivation(
        id="banded", title="a slope constant on bands of |x − c|", dims={"n": (2, 2)},
        variables={"x": Real("n", domain=(-1, 1)), "c": Real("n", domain=(-1, 1))},
        function=lambda s: sum((xi - ci) * k_sym(xi - ci) for xi, ci in zip(s.x, s.c)),
        claims=[Claim("∂f/∂x", lambda s: sp.Matrix([k_sym(xi - ci) for xi, ci in zip(s.x, s.c)]), output="g",
                      wrt="x")],
        implementation=Implementation(code, args=("x", "c"), returns=("f", "g")))


def _banded_point(x, c):
    return Point({"n": 2}, {"x": np.array(x), "c": np.array(c)}, 1.0)


def test_an_entry_no_finite_difference_resolves_is_set_aside_as_unresolved_not_failed():
    from gradverify.checks import evaluate_point

    d = _banded()
    at_c = evaluate_point(d, _banded_point([0.3, -0.7], [0.3, 0.1]), DEFAULT_TOLERANCE,
                          only=("∂f/∂x", "finite_difference"))[("∂f/∂x", "finite_difference")]
    assert at_c.ok and at_c.unresolved == 1 and at_c.set_aside == 0 and at_c.compared == 1
    # in a check: counted under its reason, and the check's cell says so
    checks = numeric_checks(d, (), Options(seed=0, examples=4), explicit=(_banded_point([0.3, -0.7], [0.3, 0.1]),))
    fd = checks["∂f/∂x"]["finite_difference"]
    # (this one, and hypothesis's x = c = 0)
    assert fd.status == "pass" and set(fd.figures.set_aside) == {numeric.UNRESOLVED}
    n = fd.figures.set_aside[numeric.UNRESOLVED]
    assert n >= 1
    from gradverify.report.rows import _numeric_cell

    assert f"({n} not resolved by finite differences, not compared)" in _numeric_cell("finite_difference", fd, False)


def test_the_same_claim_is_resolved_and_compared_at_a_benign_point():
    from gradverify.checks import evaluate_point

    d = _banded()
    away = evaluate_point(d, _banded_point([0.3, -0.7], [0.1, 0.1]), DEFAULT_TOLERANCE,
                          only=("∂f/∂x", "finite_difference"))[("∂f/∂x", "finite_difference")]
    assert away.ok and away.unresolved == 0 and away.set_aside == 0 and away.compared == 2
    # and a wrong claim there is refuted: the slope on |x − c| = 0.2 is 2, not 1
    wrong = replace_impl(d, lambda x, c: (float(np.sum((x - c) * 2.0)), np.ones_like(x)))
    bad = evaluate_point(wrong, _banded_point([0.3, -0.7], [0.1, 0.1]), DEFAULT_TOLERANCE,
                         only=("∂f/∂x", "finite_difference"))[("∂f/∂x", "finite_difference")]
    assert not bad.ok and bad.unresolved == 0
