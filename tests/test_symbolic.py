"""The symbolic check: the claim against sympy's derivative."""

import dataclasses

import pytest
import sympy as sp

import planted
from conftest import replace_claim
from gradverify.symbolic import check_symbolic, default_symbolic_sizes, proof_size
from gradverify.sympy_eval import ShapeMismatch, to_layout


def symbolic(derivation, seed=0, **kw):
    return check_symbolic(derivation, tuple(derivation.assumptions), seed, configs=2, **kw)


@pytest.mark.parametrize("did", ["a", "b", "c", "d-scalar", "d-vector", "e", "f-softmax", "f-negsample"])
def test_every_seed_claim_is_proved_within_its_assumptions(seed, did):
    results = symbolic(seed[did])
    assert {name: r.status for name, r in results.items()} == {c.name: "proved" for c in seed[did].claims}


@pytest.mark.parametrize("did, claim, wrong", [
    pytest.param("b", "∂J/∂v_c", planted.b_flipped_sign, id="flipped-sign"),
    pytest.param("b", "∂J/∂v_c", planted.b_missing_u_o, id="missing-minus-u_o"),
    pytest.param("b", "∂J/∂v_c", planted.b_y_for_yhat, id="y-and-yhat-swapped"),
    pytest.param("c", "∂J/∂U", planted.c_scaled_by_two, id="scaled-by-two"),
    pytest.param("d-scalar", "dσ/dx", planted.d_sigma_for_derivative, id="sigma-for-sigma-prime"),
    pytest.param("e", "∂J/∂u_o", planted.e_u_o_dropped_minus_one, id="dropped-term"),
    pytest.param("a", "−Σ y_w log ŷ_w = −log ŷ_o", planted.a_wrong_identity, id="wrong-identity"),
])
def test_planted_wrong_claim_is_refuted_with_the_point(seed, did, claim, wrong):
    result = symbolic(replace_claim(seed[did], claim, expr=wrong))[claim]
    assert result.status == "refuted"
    assert "claimed" in result.detail and "sympy" in result.detail
    assert result.counterexample


def test_transposed_matrix_is_refuted_by_shape_at_non_square_sizes(seed):
    result = symbolic(replace_claim(seed["c"], "∂J/∂U", expr=planted.c_transposed))["∂J/∂U"]
    assert result.status == "refuted"
    assert "shape 5×2" in result.detail and "expected 2×5" in result.detail


def test_transposed_matrix_is_refuted_by_value_at_square_sizes(seed):
    square = dataclasses.replace(seed["c"], symbolic_sizes=[{"d": 3, "V": 3}])
    result = symbolic(replace_claim(square, "∂J/∂U", expr=planted.c_transposed))["∂J/∂U"]
    assert result.status == "refuted"
    assert "shape" not in result.detail and "worst entries" in result.detail
    assert result.diagnosis == "transposed"


def test_without_a_proof_a_right_claim_is_reported_sampled(seed):
    result = symbolic(seed["b"], prove=False)["∂J/∂v_c"]
    assert result.status == "sampled" and result.points > 0


def _softmax_as_one_over_sum(s):
    """The right ∂J/∂v_c with ŷ_i written 1/Σ_j exp(z_j − z_i): equal, but its proof expands
    to more terms than the budget allows (measured: 37 s at d=3, V=5)."""
    z = [(s.U[:, w].T * s.v_c)[0, 0] for w in range(s.V)]
    yhat = [1 / sum(sp.exp(z[j] - z[i]) for j in range(s.V)) for i in range(s.V)]
    return -s.U[:, s.o] + sum((yhat[i] * s.U[:, i] for i in range(s.V)), sp.zeros(s.d, 1))


def test_a_proof_larger_than_the_term_budget_is_not_attempted_and_the_claim_is_sampled(seed):
    big = dataclasses.replace(replace_claim(seed["b"], "∂J/∂v_c", expr=_softmax_as_one_over_sum),
                              symbolic_sizes=[{"d": 3, "V": 5}])
    result = symbolic(big)["∂J/∂v_c"]
    assert result.status == "sampled" and "term budget" in result.detail


@pytest.mark.parametrize("expr, terms", [
    pytest.param("(a + b)**3", 4, id="power-of-a-sum"),
    pytest.param("(a + b)*(c + d + e)", 6, id="product-of-sums"),
    pytest.param("a*b + exp(a + b)", 2, id="function-is-one-term"),
])
def test_proof_size_bounds_the_terms_expand_makes(expr, terms):
    e = sp.sympify(expr)
    assert proof_size(e) == terms >= len(sp.Add.make_args(sp.expand(e, power_exp=False)))


def test_sampled_still_refutes_a_wrong_claim_without_any_proof_time(seed):
    wrong = replace_claim(seed["b"], "∂J/∂v_c", expr=planted.b_flipped_sign)
    assert symbolic(wrong, prove=False)["∂J/∂v_c"].status == "refuted"


def test_repeated_negative_samples_refute_u_k_when_distinctness_is_not_assumed(seed):
    stated = tuple(a for a in seed["e"].assumptions if a.source == "stated")
    result = check_symbolic(seed["e"], stated, 0, configs=3)["∂J/∂u_k"]
    assert result.status == "refuted"
    assert "samples=" in result.counterexample


def test_default_sizes_are_all_different_within_each_tuple(seed):
    for sizes in default_symbolic_sizes(seed["e"]):
        assert len(set(sizes.values())) == len(sizes)


def _correlation(flipped: bool):
    """y_t = Σ_k w_k x_{t+k}, L = Σ_t g_t y_t; ∂L/∂w_k = Σ_t g_t x_{t+k} (flipped: the kernel reversed,
    right only when K = 1)."""
    import numpy as np
    from gradverify import Claim, Derivation, Implementation, Real

    def dL_dw(s):
        K = s.K
        return sp.Matrix([sum(s.g[t] * s.x[t + (K - 1 - k if flipped else k)] for t in range(s.T)) for k in range(K)])

    def code(x, w, g):
        K, T = w.size, g.size
        y = np.array([w @ x[t:t + K] for t in range(T)])
        return g @ y, np.array([g @ x[k:k + T] for k in range(K)])

    return Derivation(id="corr", title="1-D correlation", dims={"K": (1, 3), "T": (1, 4),
                                                                 "N": lambda n: n["T"] + n["K"] - 1},
                      variables={"x": Real("N"), "w": Real("K"), "g": Real("T")},
                      function=lambda s: sum(s.g[t] * sum(s.w[k] * s.x[t + k] for k in range(s.K)) for t in range(s.T)),
                      claims=[Claim("∂L/∂w", dL_dw, output="dw", wrt="w")],
                      implementation=Implementation(code, args=("x", "w", "g"), returns=("L", "dw")))


def test_default_sizes_avoid_a_dimension_of_one_so_a_flipped_kernel_is_refuted():
    right, wrong = _correlation(False), _correlation(True)
    assert all(v >= 2 for sizes in default_symbolic_sizes(right) for k, v in sizes.items() if k in "KT")
    assert check_symbolic(right, (), 0)["∂L/∂w"].status == "proved"
    assert check_symbolic(wrong, (), 0)["∂L/∂w"].status == "refuted"


def test_sizes_that_cannot_avoid_degeneracy_are_named(seed):
    from gradverify.symbolic import degenerate_sizes

    assert degenerate_sizes([{"K": 1, "d": 3, "V": 3}]) == ["K=1", "d=V=3"]
    assert check_symbolic(seed["d-scalar"], (), 0)["dσ/dx"].degenerate == []


@pytest.mark.parametrize("shape, expected, ok", [
    pytest.param((3, 1), (3,), True, id="column-for-vector"),
    pytest.param((1, 3), (3,), True, id="row-for-vector"),
    pytest.param((2, 5), (2, 5), True, id="same-matrix"),
    pytest.param((5, 2), (2, 5), False, id="transposed-matrix"),
    pytest.param((1, 2), (2, 1), False, id="transposed-1xn-matrix"),
])
def test_layout_accepts_either_vector_orientation_but_not_a_transposed_matrix(shape, expected, ok):
    m = sp.zeros(*shape)
    if ok:
        assert to_layout(m, expected, "x").shape == expected
    else:
        with pytest.raises(ShapeMismatch, match="expected"):
            to_layout(m, expected, "x")
