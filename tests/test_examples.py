"""The examples/ folder: losses written at their natural rank, with sizes, fixed data and integer
hyper-parameters; each holds, and a planted mistake in each is refuted."""

import dataclasses
import sys

import numpy as np
import pytest
import sympy as sp

from conftest import FAST, ROOT, by_claim, replace_claim, replace_impl
from gradverify import Claim, Derivation, Fixed, Implementation, Int, InvalidArgument, Real, check_derivation
from gradverify.loading import load

sys.path.insert(0, str(ROOT / "examples"))


@pytest.fixture(scope="module")
def examples():
    derivations, failures = load([ROOT / "examples"])
    assert failures == []
    return {d.id: d for d in derivations}


def test_a_rank_3_convolution_holds_without_flattening(examples):
    rows = by_claim(check_derivation(examples["conv1d"], FAST))
    assert {name: r.verdict for name, r in rows.items()} == {"∂L/∂W": "holds", "∂L/∂x": "holds"}
    assert rows["∂L/∂W"].checks["symbolic"].status == "proved"


def test_a_flipped_kernel_is_refuted_by_all_three_checks(examples):
    import conv_layer as conv1d

    def flipped(s):
        return conv1d.dL_dW(s)[:, :, ::-1]

    def flipped_code(x, W):
        loss, dW, dx = conv1d.conv1d_loss_and_grads(x, W)
        return loss, dW[:, :, ::-1], dx

    d = replace_impl(replace_claim(examples["conv1d"], "∂L/∂W", expr=flipped), flipped_code)
    row = by_claim(check_derivation(d, FAST))["∂L/∂W"]
    assert row.verdict == "refuted"
    assert {k: c.status for k, c in row.checks.items()} == {"symbolic": "refuted", "finite_difference": "fail",
                                                             "agreement": "pass"}


def _ridge(wrong=False):
    """J = ½‖X w − t‖² + (λ/2)‖w‖² with the data X fixed, λ an integer hyper-parameter, and the code
    receiving the size n as an int."""
    data = Fixed(lambda n: np.cos(np.arange(n["m"] * n["n"]).reshape(n["m"], n["n"]) + 0.5))

    def code(X, w, t, lam, n):
        assert isinstance(n, int) and isinstance(lam, int) and X.shape[1] == n
        r = X @ w - t
        grad = X.T @ r + (lam if not wrong else 0) * w
        return 0.5 * r @ r + 0.5 * lam * w @ w, grad

    return Derivation(
        id="ridge", title="ridge regression", dims={"m": (2, 4), "n": (2, 3)},
        variables={"X": data, "w": Real("n"), "t": Real("m"), "lam": Int(1, 3)},
        function=lambda s: ((s.X * s.w - s.t).T * (s.X * s.w - s.t))[0, 0] / 2 + s.lam * (s.w.T * s.w)[0, 0] / 2,
        claims=[Claim("∂J/∂w", lambda s: s.X.T * (s.X * s.w - s.t) + s.lam * s.w, output="g", wrt="w")],
        implementation=Implementation(code, args=("X", "w", "t", "lam", "n"), returns=("J", "g")))


def test_fixed_data_integer_hyperparameters_and_sizes_reach_the_code_and_the_spec():
    row = check_derivation(_ridge(), FAST)[0]
    assert row.verdict == "holds", row.message


def test_a_dropped_regulariser_is_refuted_with_fixed_data():
    row = check_derivation(_ridge(wrong=True), FAST)[0]
    assert row.verdict == "refuted"
    assert row.checks["finite_difference"].status == "fail" and row.checks["agreement"].status == "fail"


@pytest.mark.parametrize("kind, words", [
    pytest.param(lambda: Int(3, 1), "lo <= hi", id="int-range-backwards"),
    pytest.param(lambda: Real("n", 2), "dimension names", id="real-dims-not-names"),
])
def test_bad_kinds_are_refused(kind, words):
    with pytest.raises(InvalidArgument, match=words):
        kind()


def _tanh_layer_backward(code_dx, spec_dx):
    """y = tanh(W x) with its backward pass as a layer writes it: dx = backward(dout, cache)."""
    def forward_backward(W, x, dout):
        y = np.tanh(W @ x)
        return y, code_dx(W, y, dout)

    return Derivation(
        id="tanh-layer", title="tanh layer, backward pass", dims={"m": (2, 3), "n": (2, 4)},
        variables={"W": Real("m", "n"), "x": Real("n"), "dout": Real("m")},
        function=lambda s: (s.W * s.x).applyfunc(sp.tanh),
        claims=[Claim("dx", spec_dx, output="dx", wrt="x", upstream="dout", as_written="Wᵀ (dout ⊙ (1 − y²))")],
        implementation=Implementation(forward_backward, args=("W", "x", "dout"), returns=("y", "dx")))


def _spec_dx(s, derivative=True):
    y = (s.W * s.x).applyfunc(sp.tanh)
    local = y.applyfunc(lambda v: 1 - v ** 2) if derivative else sp.ones(*y.shape)
    return s.W.T * s.dout.multiply_elementwise(local)


def test_a_backward_pass_is_checked_as_a_vector_jacobian_product():
    right = _tanh_layer_backward(lambda W, y, dout: W.T @ (dout * (1 - y ** 2)), _spec_dx)
    row = check_derivation(right, FAST)[0]
    assert row.verdict == "holds", row.message
    assert {k: c.status for k, c in row.checks.items()} == {"symbolic": "proved", "finite_difference": "pass",
                                                             "agreement": "pass"}


def test_a_backward_pass_missing_the_local_derivative_is_refuted_by_every_check():
    wrong = _tanh_layer_backward(lambda W, y, dout: W.T @ dout, lambda s: _spec_dx(s, derivative=False))
    row = check_derivation(wrong, FAST)[0]
    assert row.verdict == "refuted"
    assert row.checks["symbolic"].status == "refuted" and row.checks["finite_difference"].status == "fail"


def test_upstream_must_name_a_real_variable():
    with pytest.raises(InvalidArgument, match="upstream naming a Real"):
        Derivation(
            id="t", title="t", dims={"n": (2, 3)}, variables={"x": Real("n")}, function=lambda s: s.x,
            claims=[Claim("dx", lambda s: s.x, output="dx", wrt="x", upstream="nope")],
            implementation=Implementation(lambda x: (x, x), args=("x",), returns=("y", "dx")))


# ---------------------------------------------------------------- examples/batch_norm_layer.py
def test_a_batch_norm_layers_backward_pass_holds_without_flattening(examples):
    rows = by_claim(check_derivation(examples["batchnorm"], FAST))
    assert {name: r.verdict for name, r in rows.items()} == {"dx": "holds", "dγ": "holds", "dβ": "holds"}
    assert all(r.checks["symbolic"].status == "proved" for r in rows.values())


def test_a_batch_norm_dx_forgetting_the_means_dependence_on_x_is_refuted():
    import batch_norm_layer as bn

    def code(x, gamma, beta, dout):  # the code makes the spec's mistake: the −Σ_n dout term dropped
        out, (xhat, _, inv) = bn.batchnorm_forward(x, gamma, beta)
        _, dgamma, dbeta = bn.batchnorm_backward(dout, (xhat, gamma, inv))
        dx = (gamma * inv / x.shape[0]) * (x.shape[0] * dout - xhat * dgamma)
        return out, dx, dgamma, dbeta

    d = replace_impl(replace_claim(bn.derivation, "dx", expr=lambda s: bn.dx(s, mean_term=False)), code)
    rows = by_claim(check_derivation(d, FAST))
    assert rows["dx"].verdict == "refuted"
    assert {k: c.status for k, c in rows["dx"].checks.items()} == {"symbolic": "refuted", "finite_difference": "fail",
                                                                    "agreement": "pass"}
    assert rows["dγ"].verdict == rows["dβ"].verdict == "holds"


def test_a_batch_norm_dgamma_without_its_sum_or_its_normalisation_is_refuted():
    import batch_norm_layer as bn

    def no_sum(s):  # dout ⊙ x̂, N×D: the sum over the batch forgotten
        xhat, _ = bn._normalised(s)
        return s.dout.multiply_elementwise(xhat)

    row = by_claim(check_derivation(replace_claim(bn.derivation, "dγ", expr=no_sum), FAST))["dγ"]
    assert row.verdict == "refuted" and row.checks["symbolic"].status == "refuted"
    assert "has shape 3×2; expected 2" in row.checks["symbolic"].detail

    def centred(x, gamma, beta, dout):  # Σ dout ⊙ (x − μ): x̂ without its 1/σ
        out, dx, _, dbeta = bn.batchnorm_layer(x, gamma, beta, dout)
        return out, dx, (dout * (x - x.mean(axis=0))).sum(axis=0), dbeta

    row = by_claim(check_derivation(replace_impl(bn.derivation, centred), FAST))["dγ"]
    assert row.verdict == "refuted"
    assert row.checks["finite_difference"].status == "fail" and row.checks["agreement"].status == "fail"


# ---------------------------------------------------------------- examples/softmax_ce_hessian.py
def test_the_softmax_cross_entropy_hessian_holds_and_without_its_outer_product_is_refuted(examples):
    rows = by_claim(check_derivation(examples["softmax-ce-hessian"], FAST))
    assert {name: r.verdict for name, r in rows.items()} == {"∂J/∂v": "holds", "∂²J/∂v²": "holds",
                                                             "∂²J/∂v² without ŷŷᵀ": "refuted"}
    assert {k: c.status for k, c in rows["∂²J/∂v²"].checks.items()} == {
        "symbolic": "proved", "finite_difference": "pass", "agreement": "pass"}
    dropped = rows["∂²J/∂v² without ŷŷᵀ"]
    assert dropped.checks["symbolic"].status == "refuted" and dropped.checks["finite_difference"].status == "fail"
    assert dropped.expect == dropped.verdict


@pytest.mark.slow  # (sympy's proofs of a 2-layer Hessian: ~8 s; the softmax Hessian above is the default run's)
def test_gauss_newton_is_refuted_as_a_hessian_through_a_tanh_layer(examples):
    rows = by_claim(check_derivation(examples["tanh-softmax-gauss-newton"], FAST))
    assert rows["∂²J/∂v²"].verdict == "holds", rows["∂²J/∂v²"].message
    gn = rows["Gauss–Newton as ∂²J/∂v²"]
    assert gn.verdict == "refuted" and gn.expect == gn.verdict
    assert gn.checks["symbolic"].status == "refuted" and gn.checks["finite_difference"].status == "fail"
    assert "not the Hessian" in gn.reason


def test_the_softmax_hessian_as_a_jacobian_of_the_gradient_in_gradcheck():
    import softmax_ce_hessian as m
    from gradverify import gradcheck

    rng = np.random.default_rng(5)
    v, U = rng.normal(size=10), rng.normal(size=(10, 40))

    def grad_and(which):
        return lambda v: (lambda out: (out[1], out[which]))(m.softmax_ce_with_hessian(v, 3, U))

    assert gradcheck(grad_and(2), (v,), jacobian=True)
    assert not gradcheck(grad_and(3), (v,), jacobian=True).ok
