"""A claim's formula taken from its LaTeX as written (`latex_claim`), checked the three usual ways."""

import sympy as sp
import pytest

from gradverify import Claim, Derivation, Implementation, Index, Real
from gradverify.checks import Options, check_derivation
from gradverify.errors import InvalidArgument
from gradverify.steps import Columns, Define, Set, SymbolTable
from gradverify.steps import Index as StepIndex
from gradverify.steps import Real as StepReal
from gradverify.steps.claims import latex_claim
from _word2vec import one_hot_row, softmax_row
from b_softmax_grad_center import J, naive_softmax_loss_and_gradient

TABLE = SymbolTable(sizes=[{"d": 2, "V": 3}], names=[
    StepReal("v_c", "d"), StepReal("U", "d", "V"), StepIndex("o", "V"), StepIndex("w", "V"), Set("Vocab", "V"),
    Columns("u", of="U"),
    Define(r"\hat{y}", lambda s: softmax_row(s["U"].T * s["v_c"])),
    Define("y", lambda s: one_hot_row(s["o"], s.size("V")))])


def derivation(latex):
    return Derivation(
        id="b-latex", title="naive softmax, the claim as written", citation="seed (b)",
        dims={"d": (1, 3), "V": (2, 4)}, variables={"v_c": Real("d"), "o": Index("V"), "U": Real("d", "V")},
        function=lambda s: J(s.v_c, s.o, s.U),
        claims=[Claim("∂J/∂v_c", latex_claim(latex, TABLE), output="grad_v_c", wrt="v_c", as_written=latex)],
        implementation=Implementation(naive_softmax_loss_and_gradient, args=("v_c", "o", "U"),
                                      returns=("J", "grad_v_c", "grad_U")),
        symbolic_sizes=[{"d": 2, "V": 3}])


OPTIONS = Options(seed=0, examples=5)


def test_the_seeds_final_claim_as_written_holds():
    (row,) = check_derivation(derivation(r"U(\hat{y} - y)^T"), OPTIONS)
    assert row.verdict == "holds", row.message


def test_the_other_form_as_written_holds_too():
    (row,) = check_derivation(derivation(r"-u_o + \sum_{w \in Vocab} \hat{y}_w u_w"), OPTIONS)
    assert row.verdict == "holds", row.message


def test_a_planted_sign_error_in_the_latex_is_refuted():
    (row,) = check_derivation(derivation(r"U(y - \hat{y})^T"), OPTIONS)
    assert row.verdict == "refuted"


def test_a_claim_that_does_not_parse_is_refused_when_it_is_written():
    with pytest.raises(InvalidArgument, match=r"line 1, column \d+"):
        latex_claim(r"U(\hat{y} - y^T", TABLE)
