"""Cost claims, checked by counting numpy's element operations."""

import numpy as np

import e_negative_sampling as e
from gradverify.cost import CostClaim, check_cost, count_work


def test_count_work_counts_products_elementwise_and_reductions():
    A, x = np.ones((3, 4)), np.ones(4)
    assert count_work(lambda A, x: A @ x, A, x) == 12
    assert count_work(lambda A, x: np.exp(A), A, x) == 12
    assert count_work(lambda A, x: A.sum(), A, x) == 12
    assert count_work(lambda A, x: np.outer(x, x), A, x) == 16
    assert count_work(lambda A, x: np.zeros_like(A), A, x) == 0  # allocation is not arithmetic


def test_the_seed_cost_claim_holds_by_count():
    result = check_cost(e.COST)
    assert result.verdict == "holds"
    assert abs(result.exponents["naive softmax"] - 1.0) < 0.05
    assert abs(result.exponents["negative sampling"]) < 0.05


def test_a_negative_sampling_that_touches_all_of_U_refutes_the_cost_claim():
    def dense_negative_sampling(v_c, o, samples, U):
        scores = U.T @ v_c  # every word's score: V·d work
        return e.neg_sampling_loss_and_gradient(v_c, o, samples, U) + (scores,)

    claim = CostClaim(e.COST.name, e.COST.as_written,
                      {**e.COST.implementations,
                       "negative sampling": (dense_negative_sampling, e.COST.implementations["negative sampling"][1])},
                      e.COST.expect, fixed=e.COST.fixed, values=e.COST.values)
    result = check_cost(claim)
    assert result.verdict == "refuted" and result.exponents["negative sampling"] > 0.5
    assert "negative sampling: work ∝ V^" in result.summary()


def test_a_cost_claim_whose_code_raises_is_an_error():
    claim = CostClaim("c", "t", {"x": (lambda U: 1 / 0, lambda n, rng: (np.ones(n["V"]),))}, {"x": (0, 1)},
                      values=(2, 4))
    result = check_cost(claim)
    assert result.verdict == "error" and "ZeroDivisionError" in result.message
