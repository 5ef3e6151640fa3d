"""Each link of a written chain checked: right links hold, planted wrong ones are refuted and say why,
links that need an assumption name it, a side that does not parse is reported and the chain goes on."""

import pytest
import sympy as sp

from gradverify.errors import InvalidArgument
from gradverify.steps import (Columns, Condition, Define, Function, Index, OneHot, Real, Set, SymbolTable,
                              check_chain)


def softmax_row(scores):
    e = [sp.exp(x) for x in scores]
    return sp.Matrix(1, len(e), [x / sum(e) for x in e])


TABLE = SymbolTable(
    sizes=[{"d": 2, "V": 3}],
    names=[Real("v_c", "d"), Real("U", "d", "V"), Real("y", "V", row=True), Real("x"), Index("o", "V"),
           Index("w", "V"), Set("Vocab", "V"), Columns("u", of="U"),
           Define(r"\hat{y}", lambda s: softmax_row(list(s["U"].T * s["v_c"]))),
           Define("J", r"-\log \hat{y}_o"),
           Function(r"\sigma", lambda t: 1 / (1 + sp.exp(-t)))],
    assumptions=[OneHot("y", at="o"), Condition(r"w \neq o", lambda i: i["w"] != i["o"])])

RIGHT = [r"\frac{\partial J}{\partial v_c}",
         r"\frac{\partial}{\partial v_c} - (u_o^T v_c - \log \sum_{w \in Vocab} exp(u_w^T v_c))",
         r"-u_o + \frac{\sum_{w} exp(u_w^T v_c) u_w}{\sum_{w} exp(u_w^T v_c)}",
         r"-u_o + \sum_{w} \hat{y}_w u_w"]


def verdicts(links):
    return [link.verdict for link in links]


def test_a_right_chain_holds_link_by_link_and_is_proven():
    links = check_chain(RIGHT, TABLE)
    assert verdicts(links) == ["holds"] * 3
    assert all(link.proof == "symbolic" for link in links)
    assert [link.link for link in links] == [1, 2, 3]


@pytest.mark.parametrize("wrong, diagnosis", [
    pytest.param(r"u_o - \sum_{w} \hat{y}_w u_w", "sign flipped", id="flipped-sign"),
    pytest.param(r"-u_o", r"a term dropped: +\sum_{w} \hat{y}_w u_w", id="dropped-term"),
    pytest.param(r"-u_o^T + \sum_{w} \hat{y}_w u_w^T", "transposed", id="transposed"),
    pytest.param(r"-2 u_o + 2 \sum_{w} \hat{y}_w u_w", "off by a factor: the right side is 2 times", id="factor"),
    pytest.param(r"-u_o + \sum_{w} \hat{y}_w u_w + v_c", r"a term added: the right side's +v_c", id="added-term"),
])
def test_a_planted_wrong_link_is_refuted_with_both_sides_and_a_diagnosis(wrong, diagnosis):
    links = check_chain(RIGHT + [wrong], TABLE)
    assert verdicts(links) == ["holds"] * 3 + ["refuted"]
    bad = links[-1]
    assert diagnosis in bad.diagnosis
    assert bad.latex.endswith(wrong)
    example = bad.counterexample
    assert example["sizes"] == {"d": 2, "V": 3} and "o" in example["indices"]
    assert set(example["values"]) <= {"v_c", "U"}
    assert ("left" in example and example["left"] != example["right"]) or "left_shape" in example


def test_a_function_then_a_power_is_the_power_of_its_value():
    """σ(x)^2 is (σ(x))², as everyone reads it, not σ(x²)."""
    assert verdicts(check_chain([r"\sigma(x)^2", r"\sigma(x) \sigma(x)"], TABLE)) == ["holds"]
    assert verdicts(check_chain([r"\sigma(x)^2", r"\sigma(x^2)"], TABLE)) == ["refuted"]


@pytest.mark.parametrize("sum_", [r"\sum_{k=1}^{3} k x", r"\sum_{1 \leq k \leq 3} k x", r"\sum_{3 \geq k \geq 1} k x",
                                  r"\sum_{0 < k < 4} k x", r"\sum^{3}_{k=1} k x",
                                  r"\sum_{-3 \leq k \leq 3 \& k \neq 0 \& k > 0} k x"])
def test_every_form_of_sum_limits_runs_over_the_right_values(sum_):
    assert verdicts(check_chain([sum_, "6 x"], TABLE)) == ["holds"]
    assert verdicts(check_chain([sum_, "5 x"], TABLE)) == ["refuted"]


def test_a_counterexample_is_shrunk_to_simple_values():
    links = check_chain([r"\sigma(x)", r"\frac{1}{1 + e^{x}}"], TABLE)
    assert verdicts(links) == ["refuted"]
    assert links[0].counterexample["values"] == {"x": "1"}  # 0 makes both sides 1/2: the next value is kept


def test_a_link_that_needs_y_one_hot_says_so():
    links = check_chain([r"-u_o + \sum_{w} \hat{y}_w u_w", r"U(\hat{y} - y)^T"], TABLE)
    assert verdicts(links) == ["conditional"]
    assert links[0].condition == "y one-hot at o"
    assert links[0].counterexample["left"] != links[0].counterexample["right"]


def test_a_link_that_needs_w_not_o_says_so():
    links = check_chain([r"\frac{\partial J}{\partial u_w}", r"\frac{exp(u_w^T v_c)v_c}{\sum_o exp(u_o^T v_c)}"],
                        TABLE)
    assert verdicts(links) == ["conditional"] and links[0].condition == r"w \neq o"


def test_a_side_that_does_not_parse_is_reported_and_the_chain_goes_on():
    sides = [RIGHT[0], RIGHT[2], r"-u_o + \frac{\sum_{w} exp(u_w^T v_c u_w}{\sum_{w} exp(u_w^T v_c)}", RIGHT[3],
             r"u_o"]
    links = check_chain(sides, TABLE, where=lambda i, offset: f"side {i + 1}, offset {offset}")
    assert verdicts(links) == ["holds", "unparsed", "holds", "refuted"]
    assert links[1].position == f"side 3, offset {sides[2].index('}{')}" and "expected )" in links[1].diagnosis
    assert "compared with side 2, since side 3 does not parse" in links[2].diagnosis
    assert links[2].latex == f"{sides[1]} = {sides[3]}"


@pytest.mark.parametrize("sides, words", [
    pytest.param(["v_c", "z"], "z is not in the symbol table", id="undeclared"),
    pytest.param(["v_c", "v_c v_c"], "a product of a 2×1 and a 2×1 matrix", id="shapes"),
    pytest.param(["v_c", r"\frac{\partial J}{\partial (v_c + v_c)}"], "it is not a variable", id="wrt"),
    pytest.param(["x", r"\sum_q x"], "q is not declared as an Index", id="sum-index"),
    pytest.param(["x", r"\sum_{k=1}^{1000000} x"], "a sum of 1000000 terms", id="huge-sum"),
    pytest.param(["x", r"\sigma"], "is not a value here", id="bare-function"),
    pytest.param(["x", r"v_c^2"], "a power of a 2×1 matrix", id="matrix-power"),
    pytest.param(["x", r"\frac{1}{v_c}"], "denominator is a 2×1 matrix", id="matrix-denominator"),
    pytest.param(["x", r"\begin{bmatrix} x & \cdots \end{bmatrix}"], "stands for entries not written",
                 id="ellipsis"),
])
def test_a_side_that_means_nothing_with_this_table_is_an_error_that_says_why(sides, words):
    links = check_chain(sides, TABLE)
    assert verdicts(links) == ["error"] and words in links[0].diagnosis


def test_the_table_refuses_bad_declarations():
    with pytest.raises(InvalidArgument, match="each size an integer"):
        SymbolTable(sizes=[{"d": 10_000}])
    with pytest.raises(InvalidArgument, match="each name declared once"):
        SymbolTable(sizes=[{"d": 2}], names=[Real("x"), Real("x", "d")])
    with pytest.raises(InvalidArgument, match="scalar, vector"):
        Real("T", "a", "b", "c")
    with pytest.raises(InvalidArgument, match="dimension 'V' of U in every one of sizes"):
        SymbolTable(sizes=[{"d": 2, "V": 3}, {"d": 2}], names=[Real("U", "d", "V")])
    with pytest.raises(InvalidArgument, match="naming a declared matrix"):
        SymbolTable(sizes=[{"d": 2}], names=[Real("v", "d"), Columns("u", of="v")])
    with pytest.raises(InvalidArgument, match="OneHot"):
        SymbolTable(sizes=[{"V": 2}], names=[Real("y", "V")], assumptions=[OneHot("y", at="o")])


def test_steps_refuse_a_missing_table_or_text():
    from gradverify.steps import Steps

    with pytest.raises(InvalidArgument, match="exactly one of source"):
        Steps("x", table=TABLE)
    with pytest.raises(InvalidArgument, match="table= a SymbolTable"):
        Steps("x", text="$$a = b$$", table={"a": 1})


def test_steps_read_inline_latex():
    from gradverify.steps import Steps, check_steps

    links = check_steps(Steps("inline", text=r"$$\begin{aligned} \sigma(x) &= \frac{1}{1+e^{-x}} \\ "
                                              r"&= \frac{e^{x}}{1 + e^{x}} \\ &= 1 - \sigma(x) \end{aligned}$$",
                              table=TABLE))
    assert verdicts(links) == ["holds", "holds", "refuted"]


from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FRAGMENTS = ["x", "v_c", "u_w", r"\hat{y}_w", "y", "U", "J", "2", r"\sigma(x)", r"\sum_w", "e^{x}", "+", "-", r"\odot",
             "^T", "_o", r"\frac{\partial}{\partial x}", r"\frac{1}{x}", "P(O = w | C = c)", r"\log", "(x, v_c)", "'",
             r"\begin{bmatrix} x & 1 \end{bmatrix}", "_{o+1}"]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4), min_size=2, max_size=2))
def test_any_pair_of_sides_gets_a_verdict_never_an_exception(sides):
    links = check_chain([" ".join(s) for s in sides], TABLE)
    assert len(links) == 1 and links[0].verdict in ("holds", "conditional", "refuted", "unparsed", "error")
    assert links[0].verdict == "holds" or links[0].diagnosis or links[0].counterexample


def test_a_proof_past_its_time_is_cut_off_in_gradverifys_own_worker(monkeypatch):
    """The timer signal stops sympy mid-proof; the link still holds, on the 50-digit numbers."""
    import signal
    import time

    from gradverify.steps import chain

    def slow(d):
        time.sleep(5)
        return True

    monkeypatch.setattr(chain, "_zero", slow)
    monkeypatch.setattr(chain, "PROOF_SECONDS", 0.2)
    before = signal.getsignal(signal.SIGALRM)
    started = time.monotonic()
    links = check_chain([r"\sigma(x)", r"\frac{e^{x}}{1 + e^{x}}"], TABLE, alarm=True)
    assert time.monotonic() - started < 4
    assert verdicts(links) == ["holds"] and "ran out of its 0.2 s" in links[0].proof
    assert signal.getsignal(signal.SIGALRM) is before and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
