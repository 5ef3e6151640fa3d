"""The finite-difference and agreement checks, and how the three make a verdict."""

import dataclasses

import numpy as np
import pytest

import planted
from conftest import FAST, by_claim, replace_claim, replace_impl
from gradverify.checks import check_derivation


def run(derivation, options=FAST):
    return by_claim(check_derivation(derivation, options))


# ---- finite differences: the implementation's gradient against its own value -----------
@pytest.mark.parametrize("did, claim, impl", [
    pytest.param("b", "∂J/∂v_c", planted.b_impl_flipped, id="flipped-sign"),
    pytest.param("b", "∂J/∂v_c", planted.b_impl_missing_u_o, id="missing-minus-u_o"),
    pytest.param("d-scalar", "dσ/dx", planted.d_impl_sigma, id="sigma-for-sigma-prime"),
    pytest.param("e", "∂J/∂v_c", planted.e_impl_dropped_term, id="dropped-term"),
])
def test_finite_difference_fails_on_a_planted_wrong_gradient(seed, did, claim, impl):
    derivation = replace_impl(seed[did], impl)  # the planted claim alone (its neighbours are checked elsewhere)
    derivation = dataclasses.replace(derivation, claims=[c for c in derivation.claims if c.name == claim])
    row = run(derivation)[claim]
    fd = row.checks["finite_difference"]
    assert fd.status == "fail" and row.verdict == "refuted"
    entries = "claimed " if did == "d-scalar" else "worst entries "  # (a scalar has no entries to name)
    assert "vs central difference, " + entries in fd.detail and "numeric" in fd.detail
    assert fd.counterexample


def test_finite_difference_fails_on_a_transposed_gradient_at_square_sizes(seed):
    square = dataclasses.replace(seed["c"], dims={"d": (3, 3), "V": (3, 3)})
    row = run(replace_impl(square, planted.c_impl_transposed_square))["∂J/∂U"]
    assert row.checks["finite_difference"].status == "fail"


def test_a_transposed_gradient_at_non_square_sizes_is_an_error_naming_both_shapes(seed):
    rows = run(replace_impl(seed["c"], planted.c_impl_transposed_square))
    row = rows["∂J/∂U"]
    assert row.verdict == "error"
    assert "grad_U with shape" in row.message and "expected" in row.message


@pytest.mark.parametrize("did", ["a", "b", "c", "d-scalar", "d-vector", "f-softmax"])
def test_right_claims_pass_every_check(seed, did):
    for row in run(seed[did]).values():
        assert row.verdict == "holds", row.as_dict()
        assert {k: c.status for k, c in row.checks.items()} == {
            "symbolic": "proved", "finite_difference": "pass", "agreement": "pass"}


# ---- agreement: the code and the math are the same claim --------------------------------
def test_agreement_fails_when_the_code_differs_from_a_right_spec(seed):
    row = run(replace_impl(seed["b"], planted.b_impl_flipped))["∂J/∂v_c"]
    ag = row.checks["agreement"]
    assert ag.status == "fail"
    assert "vs the spec (exact), worst entries" in ag.detail


def test_agreement_fails_when_the_spec_differs_from_right_code(seed):
    row = run(replace_claim(seed["b"], "∂J/∂v_c", expr=planted.b_missing_u_o))["∂J/∂v_c"]
    assert row.checks["agreement"].status == "fail"
    assert row.checks["finite_difference"].status == "pass"  # the code itself is right


def test_agreement_fails_when_the_implementation_value_is_another_function(seed):
    def loss_times_two(v_c, o, U):
        loss, g, gU = planted.b.naive_softmax_loss_and_gradient(v_c, o, U)
        return 2 * loss, g, gU

    row = run(replace_impl(seed["b"], loss_times_two))["∂J/∂v_c"]
    assert row.checks["agreement"].status == "fail"
    assert "value" in row.checks["agreement"].detail


def test_identity_fails_numerically_when_the_code_computes_another_side(seed):
    def wrong_side(v_c, o, U, y):
        ce, nl = seed["a"].implementation.fn(v_c, o, U, y)
        return ce, -nl

    row = run(replace_impl(seed["a"], wrong_side))["−Σ y_w log ŷ_w = −log ŷ_o"]
    assert row.checks["finite_difference"].status == "fail"


# ---- verdicts under assumptions ------------------------------------------------------------
def test_u_k_is_refuted_as_stated_and_holds_only_with_distinct_samples(seed):
    rows = run(seed["e"])
    u_k = rows["∂J/∂u_k"]
    assert u_k.verdict == "conditional"
    assert u_k.holds_if == ["the K negative samples are distinct"]
    fd = u_k.checks["finite_difference"]
    assert fd.status == "fail"
    # hypothesis shrinks to the smallest repeat: two samples, the same word twice
    assert "K=2" in fd.counterexample and "samples=[1, 1]" in fd.counterexample
    assert rows["∂J/∂v_c"].verdict == "holds" and rows["∂J/∂u_o"].verdict == "holds"


def test_accumulating_implementation_is_refuted_by_agreement_not_by_finite_differences(seed):
    """Right code for repeated samples disagrees with the seed's claim: the code
    and the math are not the same claim, and the report says which side is right."""
    rows = run(replace_impl(seed["e"], planted.e_impl_accumulating))
    u_k = rows["∂J/∂u_k"]
    assert u_k.checks["finite_difference"].status == "pass"
    assert u_k.checks["agreement"].status == "fail"
    assert u_k.checks["symbolic"].status == "refuted"


# ---- a broken derivation is an ERROR row, not a crash ---------------------------------------
def raises(v_c, o, U):
    raise ZeroDivisionError("division by zero in my code")


def returns_nan(v_c, o, U):
    loss, g, gU = planted.b.naive_softmax_loss_and_gradient(v_c, o, U)
    return loss, g * np.nan, gU


def returns_two(v_c, o, U):
    return planted.b.naive_softmax_loss_and_gradient(v_c, o, U)[:2]


def wrong_shape(v_c, o, U):
    loss, g, gU = planted.b.naive_softmax_loss_and_gradient(v_c, o, U)
    return loss, g[:, None], gU


@pytest.mark.parametrize("impl, words", [
    pytest.param(raises, ["raised ZeroDivisionError: division by zero in my code"], id="raises"),
    pytest.param(returns_nan, ["grad_v_c = nan", "expected finite numbers"], id="nan"),
    pytest.param(returns_two, ["returned tuple of length 2; expected 3 values (J, grad_v_c, grad_U)"], id="too-few"),
    pytest.param(wrong_shape, ["grad_v_c with shape (", "expected ("], id="wrong-shape"),
])
def test_broken_implementation_is_an_error_row_with_one_clear_line(seed, impl, words):
    rows = check_derivation(replace_impl(seed["b"], impl), FAST)
    assert [r.verdict for r in rows] == ["error"]
    message = rows[0].message
    assert "\n" not in message
    for w in words:
        assert w in message
    assert "(at d=" in message  # the point where it happened


def test_spec_that_raises_is_an_error_row(seed):
    def broken(s):
        return s.nothing_here

    rows = check_derivation(replace_claim(seed["b"], "∂J/∂v_c", expr=broken), FAST)
    assert rows[0].verdict == "error" and "spec claim '∂J/∂v_c' raised AttributeError" in rows[0].message


def test_same_seed_gives_the_same_result(seed):
    one = [r.as_dict() for r in check_derivation(seed["e"], FAST)]
    two = [r.as_dict() for r in check_derivation(seed["e"], FAST)]
    for r in one + two:
        for c in r["checks"].values():
            c.pop("seconds", None)
    assert one == two


# ---- vectorised finite differences, where the implementation takes a batch --------------------
def _x_sin_x(batched_calls, wrong=False):
    import sympy as sp

    from gradverify import Claim, Derivation, Implementation, Real

    def fn(x):
        batched_calls.append(x.shape)
        grad = np.sin(x) + x * np.cos(x)
        return np.sum(x * np.sin(x), axis=-1), (-grad if wrong else grad)

    return Derivation(
        id="x-sin-x", title="Σ x sin x", citation="test", dims={"n": (1, 4)}, variables={"x": Real("n")},
        function=lambda s: sum(xi * sp.sin(xi) for xi in s.x),
        claims=[Claim("∂f/∂x", lambda s: s.x.applyfunc(lambda xi: sp.sin(xi) + xi * sp.cos(xi)), output="g",
                      wrt="x")],
        implementation=Implementation(fn, args=("x",), returns=("f", "g"), batched=("x",)))


def test_a_batched_implementation_gets_its_finite_differences_in_one_call():
    calls = []
    row = check_derivation(_x_sin_x(calls), FAST)[0]
    assert row.verdict == "holds"
    stacked = [s for s in calls if len(s) == 2]
    # x ± h, x ± 2h for every entry, at once (an entry read again at a finer step: those entries, at once)
    assert stacked and any(s[0] == 4 * s[1] for s in stacked) and all(s[0] % 4 == 0 and s[0] <= 4 * s[1]
                                                                      for s in stacked)


def test_batched_finite_differences_still_fail_on_a_wrong_gradient():
    row = check_derivation(_x_sin_x([], wrong=True), FAST)[0]
    assert row.checks["finite_difference"].status == "fail"


def test_batched_must_name_a_real_variable():
    from gradverify import InvalidArgument

    with pytest.raises(InvalidArgument, match="batched naming Real variables"):
        dataclasses.replace(_x_sin_x([]), implementation=dataclasses.replace(
            _x_sin_x([]).implementation, batched=("y",)))


def test_code_that_converts_its_inputs_is_not_a_false_alarm(seed):
    """np.asarray(x, dtype=float) hides the code from Monte Carlo arithmetic; the
    rounding of the spec's own formula in float64 stands in (σ'(50) rounds to 0)."""
    import d_sigmoid

    def converting(x):
        x = np.asarray(x, dtype=float)
        s = d_sigmoid.sigmoid(x)
        return s, s * (1.0 - s)

    row = check_derivation(replace_impl(seed["d-scalar"], converting), FAST)[0]
    assert row.verdict == "holds", row.as_dict()


def test_code_that_converts_its_inputs_still_fails_when_wrong(seed):
    import d_sigmoid

    def converting_wrong(x):
        x = np.asarray(x, dtype=float)
        s = d_sigmoid.sigmoid(x)
        return s, s

    row = check_derivation(replace_impl(seed["d-scalar"], converting_wrong), FAST)[0]
    assert row.checks["finite_difference"].status == "fail"


# ---- the agreement check at kinks and at a spec's 50-digit residual -------------------------
from gradverify.checks import evaluate_point  # noqa: E402
from gradverify.symbolic import check_symbolic  # noqa: E402
from gradverify.spec import Point  # noqa: E402
from gradverify.tolerances import DEFAULT_TOLERANCE  # noqa: E402


def _relu_sum(mask, spec_mask):
    """Σ relu(x) with the code's gradient ``mask(x)`` and the spec's claim ``spec_mask``."""
    import sympy as sp

    from gradverify import Claim, Derivation, Implementation, Real

    return Derivation(
        id="relu", title="Σ relu(x)", dims={"n": (2, 4)}, variables={"x": Real("n")},
        function=lambda s: sum(sp.Max(0, xi) for xi in s.x),
        claims=[Claim("∂f/∂x", lambda s: s.x.applyfunc(spec_mask), output="g", wrt="x")],
        implementation=Implementation(lambda x: (np.maximum(x, 0).sum(), mask(x)), args=("x",), returns=("f", "g")))


def _agreement_at(derivation, x):
    out = evaluate_point(derivation, Point({"n": len(x)}, {"x": np.array(x)}, 1.0), DEFAULT_TOLERANCE,
                         only=(derivation.claims[0].name, "agreement"))
    return next(iter(out.values()))


@pytest.mark.parametrize("spec_mask", [
    pytest.param(lambda xi: sp_heaviside(xi), id="heaviside-half-at-0"),
    pytest.param(lambda xi: sp_piecewise(xi), id="piecewise-1-at-0"),
])
def test_code_and_spec_agree_exactly_at_a_kink_whichever_subgradient_the_code_picks(spec_mask):
    d = _relu_sum(lambda x: (x > 0).astype(float), spec_mask)
    assert _agreement_at(d, [0.0, 0.5, -0.25]).ok


def test_a_wrong_mask_still_disagrees_at_a_kink_and_away_from_it():
    d = _relu_sum(lambda x: 2.0 * (x >= 0), lambda xi: sp_heaviside(xi))
    assert not _agreement_at(d, [0.0, 0.5, -0.25]).ok
    assert not _agreement_at(d, [0.3, 0.5, -0.25]).ok


def test_an_exact_zero_agrees_with_a_spec_whose_50_digit_residual_is_not_zero(monkeypatch):
    import sympy as sp

    from gradverify import Claim, Derivation, Implementation, Real

    def sigma(x):
        return 1 / (1 + sp.exp(-x))

    def zero(x):  # σ(x)(1 − σ(x)) − e^{−x}/(1 + e^{−x})²: identically 0, ~1e-52 at 50 digits
        return sigma(x) * (1 - sigma(x)) - sp.exp(-x) / (1 + sp.exp(-x)) ** 2

    d = Derivation(
        id="zero", title="a claim that is identically 0", dims={"n": (2, 3)}, variables={"x": Real("n")},
        function=lambda s: sum(zero(xi) for xi in s.x) * 0,
        claims=[Claim("∂f/∂x", lambda s: s.x.applyfunc(zero), output="g", wrt="x")],
        implementation=Implementation(lambda x: (np.sum(x * 0.0), x * 0.0), args=("x",), returns=("f", "g")))
    assert _agreement_at(d, [0.123, 2.9]).ok
    assert check_symbolic(d, (), 0)["∂f/∂x"].status in ("proved", "sampled")
    import gradverify.checks
    monkeypatch.setattr(gradverify.checks, "SYMBOLIC_ZERO", 0.0)  # without the floor: the false alarm of old
    assert not _agreement_at(d, [0.123, 2.9]).ok
    monkeypatch.undo()
    wrong = dataclasses.replace(d, implementation=dataclasses.replace(
        d.implementation, fn=lambda x: (np.sum(x * 0.0), x * 0.0 + 1e-12)))
    assert not _agreement_at(wrong, [0.123, 2.9]).ok


def sp_heaviside(xi):
    import sympy as sp
    return sp.Heaviside(xi)


def sp_piecewise(xi):
    import sympy as sp
    return sp.Piecewise((1, xi >= 0), (0, True))


def test_a_check_that_could_compare_nothing_is_an_error_not_a_pass():
    """Σ|x| with every x on the kink at 0 (drawn at scale 1e-200: below `TINY`, 0): every
    central-difference stencil crosses it, at every step, every entry is set aside, and the verdict
    says so instead of passing. (At 1e-7 from the kink the entries are read at their own scale.)"""
    import sympy as sp

    from gradverify import Claim, Derivation, Implementation, Real

    d = Derivation(
        id="abs-near-0", title="Σ|x|, x near 0", dims={"n": (2, 3)}, variables={"x": Real("n")}, scales=(1e-200,),
        function=lambda s: sum(sp.Abs(xi) for xi in s.x),
        claims=[Claim("∂f/∂x", lambda s: s.x.applyfunc(sp.sign), output="g", wrt="x")],
        implementation=Implementation(lambda x: (np.sum(np.abs(x)), np.sign(x)), args=("x",), returns=("f", "g")))
    row = check_derivation(d, FAST)[0]
    assert row.checks["finite_difference"].status == "error", row.checks["finite_difference"]
    assert row.verdict == "error" and "no example could be compared" in row.message


# ---- errors in the user's spec and code name the place in the user's file -------------------
def _one_claim(function, claim, code):
    from gradverify import Claim, Derivation, Implementation, Real

    return Derivation(id="t", title="t", dims={"n": (2, 3)}, variables={"x": Real("n")}, function=function,
                      claims=[Claim("g", claim, output="g", wrt="x")],
                      implementation=Implementation(code, args=("x",), returns=("f", "g")))


def _exp_code(x):
    return np.exp(x).sum(), np.exp(x)


@pytest.mark.parametrize("function, claim, code, words", [
    pytest.param(lambda s: sum(np.exp(xi) for xi in s.x), lambda s: s.x, _exp_code,
                 ["use sp.exp", "test_checks.py:"], id="np-exp-in-a-spec"),
    pytest.param(lambda s: sum(s.x), lambda s: None, _exp_code, ["returned NoneType", "`return` missing"],
                 id="claim-returns-none"),
    pytest.param(lambda s: sum(s.x), lambda s: "1", _exp_code, ["returned str"], id="claim-returns-text"),
    pytest.param(lambda s: sum(s.x), lambda s: s.x, lambda x: (x.sum(), x[5]), ["IndexError", "test_checks.py:"],
                 id="code-raises-names-its-line"),
    pytest.param(lambda s: sum(s.x), lambda s: s.x, lambda x: (x.sum(), np.ones_like(x) * (1 + 1j)),
                 ["nonzero imaginary part"], id="complex-gradient"),
])
def test_a_mistake_in_the_users_spec_or_code_is_an_error_that_says_where(function, claim, code, words):
    row = check_derivation(_one_claim(function, claim, code), FAST)[0]
    assert row.verdict == "error"
    for w in words:
        assert w in row.message, row.message


def test_a_value_that_is_not_the_spec_s_shows_its_error_in_the_agreement_column():
    """The code's value off the function (here by 1e-9): agreement fails, and the table's figure is
    that error over its tolerance, not the (passing) figure of the claimed entries."""
    from gradverify import Claim, Derivation, Implementation, Options, Real

    derivation = Derivation(
        id="off-value", title="½x² with its value off by 1e-9", dims={"n": (1, 2)}, variables={"x": Real("n")},
        function=lambda s: sum(s.x[i] ** 2 for i in range(s.n)) / 2,
        claims=[Claim("dJ/dx", lambda s: s.x, output="g", wrt="x")],
        implementation=Implementation(lambda x: (0.5 * x @ x + 1e-9, x), args=("x",), returns=("J", "g")))
    row = check_derivation(derivation, Options(seed=0, examples=5))[0]
    agreement = row.checks["agreement"]
    assert agreement.status == "fail" and "the implementation's value J" in agreement.detail
    assert agreement.figures.error_over_tolerance > 1
    right = dataclasses.replace(derivation, implementation=dataclasses.replace(
        derivation.implementation, fn=lambda x: (0.5 * x @ x, x)))
    assert check_derivation(right, Options(seed=0, examples=5))[0].checks["agreement"].figures.error_over_tolerance <= 1


def test_a_claim_whose_spec_raises_is_an_error_alone_and_the_other_claims_are_checked():
    from gradverify import Claim, Derivation, Implementation, Options, Real

    def broken(s):
        return s.W * s.x  # W is 2×3, x is 2×1: should be W.T * x
    derivation = Derivation(
        id="two-claims", title="½‖Wᵀx‖² two ways", dims={"m": (2, 2), "n": (3, 3)},
        variables={"W": Real("m", "n"), "x": Real("m")},
        function=lambda s: ((s.W.T * s.x).T * (s.W.T * s.x))[0, 0] / 2,
        claims=[Claim("dJ/dW", lambda s: s.x * (s.W.T * s.x).T, output="gW", wrt="W"),
                Claim("dJ/dx", lambda s: s.W * broken(s), output="gx", wrt="x")],
        implementation=Implementation(lambda W, x: (0.5 * (W.T @ x) @ (W.T @ x), np.outer(x, W.T @ x), W @ (W.T @ x)),
                                      args=("W", "x"), returns=("J", "gW", "gx")))
    rows = by_claim(check_derivation(derivation, Options(seed=0, examples=5)))
    assert rows["dJ/dW"].verdict == "holds"
    assert rows["dJ/dx"].verdict == "error" and "raised ShapeError" in rows["dJ/dx"].message
    assert rows["dJ/dx"].checks["symbolic"].status == "error" and rows["dJ/dx"].checks["agreement"].status == "error"
    assert "test_checks.py" in rows["dJ/dx"].traceback  # --traceback shows the user's line


def test_a_counterexample_shrunk_to_where_the_error_is_small_is_shown_with_the_largest_error_seen():
    """tanh' claimed 1 − tanh: at x = 0.001, hypothesis's shrunk point, it is off by 1e-3 of itself;
    the details also show the example where it is off by far more, so it does not read as rounding."""
    import sympy as sp

    from gradverify import Claim, Derivation, Implementation, Options, Real

    derivation = Derivation(
        id="tanh-prime", title="Σ tanh(x)", dims={"n": (1, 2)}, variables={"x": Real("n")},
        function=lambda s: sum(sp.tanh(s.x[i]) for i in range(s.n)),
        claims=[Claim("dJ/dx", lambda s: s.x.applyfunc(lambda v: 1 - sp.tanh(v)), output="g", wrt="x")],
        implementation=Implementation(lambda x: (np.tanh(x).sum(), 1 - np.tanh(x)), args=("x",), returns=("J", "g")))
    fd = check_derivation(derivation, Options(seed=0, examples=20))[0].checks["finite_difference"]
    assert fd.status == "fail"
    shown = float(fd.detail.split("max relative error ")[1].split(")")[0])
    largest = float(fd.detail.split("The largest error among the examples")[1].split("max relative error ")[1]
                    .split(")")[0])
    assert largest > 10 * shown


def test_an_upstream_declared_with_the_wrong_shape_says_which_shape_it_needs():
    """out = W x (m entries) with dout declared over n: the symbolic check names the shapes
    instead of failing on a reshape inside gradverify."""
    from gradverify import Claim, Derivation, Implementation, Real

    d = Derivation(
        id="linear-backward", title="linear layer, dout over the wrong dimension", dims={"m": (2, 3), "n": (1, 3)},
        variables={"W": Real("m", "n"), "x": Real("n"), "dout": Real("n")}, function=lambda s: s.W * s.x,
        claims=[Claim("dx", lambda s: s.W.T * s.dout, output="dx", wrt="x", upstream="dout")],
        implementation=Implementation(lambda W, x, dout: (W @ x, W.T @ dout), args=("W", "x", "dout"),
                                      returns=("out", "dx")),
        symbolic_sizes=[{"m": 2, "n": 3}, {"m": 3, "n": 2}])
    row = check_derivation(d, FAST)[0]
    assert row.verdict == "error"
    assert "upstream 'dout' of claim dx has shape (3, 1)" in row.checks["symbolic"].detail
    assert "Declare dout with the output's dimensions" in row.checks["symbolic"].detail
