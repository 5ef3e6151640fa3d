"""Diagnosis: how a refuted claim relates to the truth, in one line."""

import dataclasses

import numpy as np
import pytest

import planted
from conftest import FAST, by_claim, replace_claim
from gradverify.checks import check_derivation
from gradverify.diagnosis import diagnose, worst_entries

T = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])


def column_zero(j):
    C = T.copy()
    C[:, j] = 0.0
    return C


@pytest.mark.parametrize("claimed, kwargs, expected", [
    pytest.param(-T, {}, "sign flipped", id="sign"),
    pytest.param(T.T, {}, "transposed: shape 3×2 where 2×3 belongs", id="transposed-shape"),
    pytest.param(0.5 * T, {}, "off by a constant factor: claimed = 1/2 × true", id="half"),
    pytest.param(2 * T, {}, "off by a constant factor: claimed = 2 × true", id="double"),
    pytest.param(T + 1, {"terms": [("1", np.ones((2, 3)))]}, "extra term: 1", id="extra-term"),
    pytest.param(T - 1, {"true_terms": [("1", np.ones((2, 3)))]}, "missing term: 1", id="missing-term"),
    pytest.param(column_zero(1), {"indices": {"o": 1}}, "wrong only at column o=1", id="only-at-o"),
    pytest.param(T, {}, "", id="right-claim-no-diagnosis"),
    pytest.param(T * np.array([[1, 0.3, 1], [1, 1, 1]]), {}, "wrong only at entry 1", id="no-name-one-entry")
])
def test_diagnose_names_the_relation(claimed, kwargs, expected):
    if expected == "wrong only at entry 1":
        expected = ""  # a single wrong entry of a matrix: named by its column
        assert diagnose(claimed, T, **kwargs).startswith("wrong only at column 1")
        return
    assert diagnose(claimed, T, **kwargs) == expected


def test_square_transpose_is_named():
    S = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert diagnose(S.T, S) == "transposed"


def test_repeated_indices_are_named_with_the_list():
    C = T.copy()
    C[:, :2] /= 2
    assert diagnose(C, T, indices={"o": 2, "samples": [0, 0, 1]}) == \
        "wrong only where indices repeat: samples=[0, 0, 1]"


def test_worst_entries_lists_index_claimed_and_reference():
    assert worst_entries(column_zero(2), T, n=2) == [([1, 2], 0.0, 6.0), ([0, 2], 0.0, 3.0)]


@pytest.mark.parametrize("did, claim, wrong, expected", [
    pytest.param("b", "∂J/∂v_c", planted.b_flipped_sign, "sign flipped", id="flipped"),
    pytest.param("b", "∂J/∂v_c", planted.b_missing_u_o, "missing term", id="missing-u_o"),
    pytest.param("c", "∂J/∂U", planted.c_scaled_by_two, "off by a constant factor: claimed = 2 × true", id="x2"),
])
def test_report_rows_carry_the_diagnosis_of_a_planted_mistake(seed, did, claim, wrong, expected):
    row = by_claim(check_derivation(replace_claim(seed[did], claim, expr=wrong), FAST))[claim]
    assert row.diagnosis.startswith(expected), row.diagnosis


def test_u_k_diagnosis_says_indices_repeat(seed):
    row = by_claim(check_derivation(seed["e"], FAST))["∂J/∂u_k"]
    assert "only where indices repeat: samples=" in row.diagnosis


def _tanh(claim):
    import sympy as sp

    from gradverify import Claim, Derivation, Implementation, Real

    return Derivation(
        id="tanh", title="Σ tanh(x)", dims={"n": (2, 4)}, variables={"x": Real("n")},
        function=lambda s: sum(sp.tanh(xi) for xi in s.x),
        claims=[Claim("∂f/∂x", lambda s: s.x.applyfunc(claim), output="g", wrt="x")],
        implementation=Implementation(lambda x: (np.tanh(x).sum(), 1 - np.tanh(x)), args=("x",), returns=("f", "g")))


def test_a_relation_seen_at_one_point_only_is_not_stated():
    """tanh' claimed 1 − tanh: near 0 it looks like "0.999 × true"; at other points it does not."""
    import sympy as sp

    row = check_derivation(_tanh(lambda xi: 1 - sp.tanh(xi)), FAST)[0]
    assert row.verdict == "refuted"
    assert "constant factor" not in row.diagnosis
    for check in row.checks.values():
        assert "constant factor" not in check.diagnosis, check.diagnosis


def test_agreed_needs_the_same_relation_at_every_point():
    from gradverify.diagnosis import agreed

    assert agreed(["off by a constant factor: claimed = 1.025 × true", "off by a constant factor: claimed = 0.9 × true"]) == ""
    assert agreed(["wrong only at column o=2", "wrong only at column o=4"]) == "wrong only at column o=2"
    assert agreed(["sign flipped"]) == ""  # one point is not enough


def test_worst_entries_print_enough_digits_to_show_a_small_difference():
    from gradverify.diagnosis import pair_text

    claimed, numeric = pair_text(-0.5, -0.5 - 1e-7)
    assert claimed != numeric and claimed == "-0.5"


# ---- matrix-level terms (gradverify.matrix_terms) ------------------------------------------------------------
def _cosine_rows():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent / "catalogue"))
    import cosine_rows

    return cosine_rows


def test_a_cosine_claim_missing_its_term_is_diagnosed_at_the_matrix_level():
    from gradverify.symbolic import check_symbolic

    res = check_symbolic(_cosine_rows().cosine_rows_missing_term, (), 0)["∂L/∂A"]
    assert res.status == "refuted"
    assert res.diagnosis == "missing term: cos(a,b)·a/‖a‖² (a, b: rows of A, B)"
    # every failing point read says so (at both size tuples, N = 1 and N = 2)
    assert {o.text for o in res.observations} == {res.diagnosis} and len(res.observations) >= 4


def _regularised(extra):
    """½‖W x − y‖² (+ nothing): a claim (W x − y) xᵀ, plus ``extra(s)``."""
    from gradverify import Claim, Derivation, Implementation, Real

    def f(s):
        r = s.W * s.x - s.y
        return (r.T * r)[0, 0] / 2

    def code(W, x, y, lam):
        r = W @ x - y
        return 0.5 * r @ r, np.outer(r, x)

    return Derivation(
        id="reg", title="least squares", dims={"m": (2, 3), "n": (2, 4)},
        variables={"W": Real("m", "n"), "x": Real("n"), "y": Real("m"), "λ": Real(domain="positive")},
        function=f,
        claims=[Claim("∂f/∂W", lambda s: (s.W * s.x - s.y) * s.x.T + extra(s), output="g", wrt="W")],
        implementation=Implementation(code, args=("W", "x", "y", "λ"), returns=("f", "g")),
        symbolic_sizes=[{"m": 2, "n": 3}, {"m": 3, "n": 2}])


def test_an_extra_lambda_w_term_is_named_at_the_matrix_level():
    from gradverify.symbolic import check_symbolic

    res = check_symbolic(_regularised(lambda s: getattr(s, "λ") * s.W), (), 0)["∂f/∂W"]
    assert res.status == "refuted" and res.diagnosis == "extra term: λ·W"
    right = check_symbolic(_regularised(lambda s: 0 * s.W), (), 0)["∂f/∂W"]
    assert right.status == "proved" and right.diagnosis == ""


def test_a_term_no_view_reads_keeps_its_per_entry_form(seed):
    """−u_o of the softmax gradient by v_c is a column of U picked by an index: not an expression
    of v_c laid out as the gradient, so it is named entry by entry."""
    from gradverify.symbolic import check_symbolic

    res = check_symbolic(replace_claim(seed["b"], "∂J/∂v_c", expr=planted.b_missing_u_o), (), 0)["∂J/∂v_c"]
    assert res.diagnosis.startswith("missing term: -U₀,"), res.diagnosis  # entry (0, 0), as before
    assert "‖" not in res.diagnosis and "rows of" not in res.diagnosis and "columns of" not in res.diagnosis


def _symbols(name, shape):
    import sympy as sp

    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        out[idx] = sp.Symbol(f"{name}[{','.join(map(str, idx))}]", real=True)
    return out


def test_matrix_label_says_nothing_where_the_entries_are_not_one_expression():
    import sympy as sp

    from gradverify.matrix_terms import matrix_label

    W, lam = _symbols("W", (2, 3)), np.array(sp.Symbol("λ"), dtype=object)
    symbols = {"W": W, "λ": lam}
    assert matrix_label(lam[()] * W, symbols) == "λ·W"
    uneven = lam[()] * W
    uneven[1, 2] = 2 * uneven[1, 2]  # one entry twice the others: no matrix expression says that
    assert matrix_label(uneven, symbols) == ""
    assert matrix_label(W * W, symbols) == ""  # an entrywise square: not said as a product
    assert matrix_label(W * 0 + W[0, 0], symbols) == ""  # one entry everywhere


def test_matrix_label_states_no_rewriting_its_check_refutes(monkeypatch):
    """The rewritten expression is checked against the entries at random points: a rewriting that
    does not hold there is never printed."""
    import sympy as sp

    from gradverify import matrix_terms

    W, lam = _symbols("W", (2, 2)), np.array(sp.Symbol("λ"), dtype=object)
    rewrite = matrix_terms._rewrite

    def wrong(e, view, idx):
        lifted, meaning = rewrite(e, view, idx)
        return 2 * lifted, meaning  # the same at every entry, and twice the term

    monkeypatch.setattr(matrix_terms, "_rewrite", wrong)
    assert matrix_terms.matrix_label(lam[()] * W, {"W": W, "λ": lam}) == ""


def test_a_matrix_level_term_is_not_stated_when_the_points_disagree():
    from gradverify.diagnosis import Observation, decide

    cos = "missing term: cos(a,b)·a/‖a‖² (a, b: rows of A, B)"
    assert decide([Observation(cos, {"N": 1}), Observation(cos, {"N": 2})]) == cos
    assert decide([Observation(cos, {"N": 1}), Observation("extra term: λ·W", {"N": 2}),
                   Observation("", {"N": 2})]) == ""


def test_half_of_a_term_missing_is_named_with_its_fraction():
    """½‖W x − y‖² + (λ/2)‖W‖² with the claim's regulariser term λ/2·W (the 2 of the square forgotten)."""
    from gradverify.symbolic import check_symbolic

    d = _regularised(lambda s: getattr(s, "λ") * s.W / 2)
    d = dataclasses.replace(d, function=lambda s: ((s.W * s.x - s.y).T * (s.W * s.x - s.y))[0, 0] / 2
                            + getattr(s, "λ") * sum(w ** 2 for w in s.W) / 2)
    res = check_symbolic(d, (), 0)["∂f/∂W"]
    assert res.status == "refuted" and res.diagnosis == "missing term: 1/2 of λ·W", res.diagnosis
    right = check_symbolic(dataclasses.replace(d, claims=[dataclasses.replace(
        d.claims[0], expr=lambda s: (s.W * s.x - s.y) * s.x.T + getattr(s, "λ") * s.W)]), (), 0)["∂f/∂W"]
    assert right.status == "proved"


def test_part_of_a_term_is_named_only_for_a_simple_fraction():
    t = np.array([[1.0, 2.0], [3.0, 5.0]])
    T = np.array([[2.0, -1.0], [0.5, 4.0]]) + t
    assert diagnose(T - t / 3, T, true_terms=[("t", t)]) == "missing term: 1/3 of t"
    assert diagnose(T - 0.37 * t, T, true_terms=[("t", t)]) == ""  # no simple fraction: nothing said
    assert diagnose(T - t / 3 + 1e-3 * np.eye(2), T, true_terms=[("t", t)]) == ""  # not the whole difference


def _entries(shape, entry):
    out = np.empty(shape, dtype=object)
    for idx in np.ndindex(shape):
        out[idx] = entry(idx)
    return out


def test_matrix_label_reads_vectors_columns_and_whole_matrices():
    import sympy as sp

    from gradverify.matrix_terms import matrix_label

    U, W, x, y = _symbols("U", (2, 3)), _symbols("W", (2, 3)), _symbols("x", (3,)), _symbols("y", (3,))
    column_norm = [sp.sqrt(sum(U[k, j] ** 2 for k in range(2))) for j in range(3)]
    assert matrix_label(_entries((2, 3), lambda i: U[i] / column_norm[i[1]]), {"U": U}) == "u/‖u‖ (u: columns of U)"
    norm_x = sp.sqrt(sum(v ** 2 for v in x))
    assert matrix_label(_entries((3,), lambda i: x[i] / norm_x), {"x": x, "y": y}) == "x/‖x‖"
    dot = sum(a * b for a, b in zip(x, y))
    assert matrix_label(_entries((3,), lambda i: y[i] * dot), {"x": x, "y": y}) == "xᵀy·y"
    fro = sp.sqrt(sum(w ** 2 for w in W.ravel()))
    assert matrix_label(_entries((2, 3), lambda i: 2 * W[i] / fro), {"W": W}) == "2·W/‖W‖_F"
    assert matrix_label(_entries((2, 3), lambda i: W[i] - 1), {"W": W}) == ""  # W − 𝟙: a term with no array


# ---------------------------------------------------------------- a KL whose entropy term's derivative is forgotten
def _kl_entropy_forgotten():
    import sympy as sp

    from gradverify import Claim, Derivation, Implementation, Real

    def softmax(v):
        e = v.applyfunc(sp.exp)
        return e / sum(e)

    def kl(s):  # KL(p ‖ q) = Σ p log p − Σ p log q, p = softmax(a), q = softmax(b)
        p, q = softmax(s.a), softmax(s.b)
        return sum(p[i] * sp.log(p[i]) for i in range(s.n)) - sum(p[i] * sp.log(q[i]) for i in range(s.n))

    def cross_entropy_part(s):  # ∂/∂a of −Σ p log q alone
        p, q = softmax(s.a), softmax(s.b)
        c = sum(p[i] * sp.log(q[i]) for i in range(s.n))
        return sp.Matrix([-p[i] * (sp.log(q[i]) - c) for i in range(s.n)])

    def code(a, b):
        p = np.exp(a - a.max())
        p /= p.sum()
        q = np.exp(b - b.max())
        q /= q.sum()
        lq = np.log(q)
        return float(p @ np.log(p) - p @ lq), -p * (lq - p @ lq)

    return Derivation(id="kl-entropy-forgotten", title="KL between softmaxes", citation="test",
                      dims={"n": (2, 4)}, variables={"a": Real("n"), "b": Real("n")}, function=kl,
                      claims=[Claim("∂KL/∂a", cross_entropy_part, output="g", wrt="a")],
                      implementation=Implementation(code, args=("a", "b"), returns=("KL", "g")))


def test_a_kl_whose_entropy_term_is_forgotten_is_diagnosed_as_that_missing_term():
    (row,) = check_derivation(_kl_entropy_forgotten(), FAST)
    assert row.verdict == "refuted"
    assert row.checks["symbolic"].diagnosis.startswith("missing term: ∂/∂a of "), row.checks["symbolic"].diagnosis
    assert "log(exp(a₀)/(exp(a₀) + exp(a₁)))" in row.checks["symbolic"].diagnosis  # the entropy's p log p
