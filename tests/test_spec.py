"""A derivation with a mistake in its own description is a clear InvalidArgument."""

import numpy as np
import pytest

from gradverify import Claim, Derivation, Distinct, Implementation, Index, Indices, InvalidArgument, Real


def impl(x):
    return x, x


def make(**changes):
    fields = dict(id="t", title="t", citation="test", dims={"n": (1, 3)}, variables={"x": Real("n")},
                  function=lambda s: s.x, claims=[Claim("dx", lambda s: 1, output="g", wrt="x")],
                  implementation=Implementation(impl, args=("x",), returns=("f", "g")))
    fields.update(changes)
    return Derivation(**fields)


def test_a_well_formed_derivation_is_accepted():
    assert make().id == "t"


@pytest.mark.parametrize("changes, expected, got", [
    pytest.param({"id": "has space"}, "a non-empty id without spaces", "id='has space'", id="id-with-space"),
    pytest.param({"dims": {"n": (3, 1)}}, "1 <= low <= high", "dims['n']=(3, 1)", id="empty-range"),
    pytest.param({"variables": {"x": Real("m")}}, "a dimension declared in dims", "'m'", id="undeclared-dim"),
    pytest.param({"variables": {"x": "real"}}, "Real(...), Index(...), Indices(...), Int(lo, hi) or Fixed(value)", "variables['x']='real'",
                 id="kind-not-a-kind"),
    pytest.param({"claims": []}, "at least one Claim", "claims=[]", id="no-claims"),
    pytest.param({"claims": [Claim("dx", lambda s: 1, output="nope", wrt="x")]},
                 "claim output among the implementation's returns", "output='nope'", id="unknown-output"),
    pytest.param({"claims": [Claim("dx", lambda s: 1, output="g", wrt="y")]}, "wrt naming a Real variable",
                 "wrt='y'", id="unknown-wrt"),
    pytest.param({"assumptions": [Distinct("d", var="y")]}, "an assumption about a declared variable",
                 "var='y'", id="assumption-on-unknown-variable"),
    pytest.param({"implementation": Implementation(impl, args=("z",), returns=("f", "g"))},
                 "implementation args among the variables", "'z'", id="unknown-arg"),
    pytest.param({"implementation": Implementation(impl, args=("xx",), returns=("f", "g"))},
                 "implementation args among the variables", "whose 'xx' is neither, in derivation 't'. Did you mean 'x'?",
                 id="misspelled-arg"),
    pytest.param({"symbolic_sizes": [{}]}, "every dimension in each symbolic_sizes entry", "missing ['n']",
                 id="incomplete-symbolic-sizes"),
])
def test_bad_derivation_says_what_was_expected_and_what_was_got(changes, expected, got):
    with pytest.raises(InvalidArgument) as info:
        make(**changes)
    message = str(info.value)
    assert message.startswith("Expected ") and expected in message and got in message
    assert "derivation 't'" in message or "id=" in message


def test_real_takes_any_number_of_named_dimensions():
    assert Real("a", "b", "c").dims == ("a", "b", "c")
    with pytest.raises(InvalidArgument, match="dimension names"):
        Real("a", 3)


def test_invalid_argument_is_a_value_error_for_callers_that_catch_those():
    assert issubclass(InvalidArgument, ValueError)


def test_kinds_describe_themselves():
    assert Real("d", "V").describe() == "real d×V"
    assert Index("V").describe() == "index in 0..V-1"
    assert Indices("K", "V", rows="W").describe() == "W×K indices in 0..V-1"


# ---- domains, Require, refused declarations
from gradverify.sampling import RandomSource, draw_point, in_domain  # noqa: E402
from gradverify.spec import Require  # noqa: E402


def _one_var(**changes):
    fields = dict(id="t", title="t", dims={"n": (2, 4)}, variables={"x": Real("n")},
                  function=lambda s: sum(s.x), claims=[Claim("g", lambda s: s.x * 0 + 1, output="g", wrt="x")],
                  implementation=Implementation(lambda x: (x.sum(), np.ones_like(x)), args=("x",),
                                                returns=("f", "g")))
    fields.update(changes)
    return Derivation(**fields)


@pytest.mark.parametrize("domain, test", [
    pytest.param("positive", lambda v: np.all(v > 0), id="positive"),
    pytest.param("nonzero", lambda v: np.all(v != 0), id="nonzero"),
    pytest.param((0.0, 1.0), lambda v: np.all((v > 0) & (v < 1)), id="open-interval"),
    pytest.param((2.0, None), lambda v: np.all(v > 2), id="lower-bound-only"),
])
def test_drawn_values_stay_inside_the_declared_domain_even_at_zero(domain, test):
    kind = Real("n", domain=domain)
    for unit in (np.zeros(5), np.linspace(-1, 1, 5)):
        for scale in (1e-3, 1.0, 6.0):
            assert test(in_domain(kind, unit, scale))


def test_sympy_symbols_carry_the_domain():
    from gradverify.sympy_eval import build_namespace

    d = _one_var(variables={"x": Real("n", domain="positive")})
    point = draw_point(d, RandomSource(np.random.default_rng(0)), d.assumptions)
    _, symbols = build_namespace(d, point, "symbols")
    assert all(sym.is_positive for sym in symbols["x"].ravel())


def test_require_redraws_points_until_the_condition_holds():
    req = Require("x is not constant", var="x", holds=lambda s: np.ptp(s.x) > 0.5)
    d = _one_var(assumptions=[req])
    rng = np.random.default_rng(1)
    assert all(np.ptp(draw_point(d, RandomSource(rng), d.assumptions).values["x"]) > 0.5 for _ in range(50))


class _MyAssumption(Require):
    pass


@pytest.mark.parametrize("changes, expected", [
    pytest.param({"assumptions": [_MyAssumption("mine", var="x", holds=lambda s: True)]}, "assumption of a kind",
                 id="unknown-assumption-kind"),
    pytest.param({"assumptions": [Require("r", var="x")]}, "holds=a function", id="require-without-a-test"),
    pytest.param({"dims": {"n": (1, 10**6)}}, "dimension ranges up to", id="huge-dimension-range"),
    pytest.param({"symbolic_sizes": [{"n": 900}]}, "at most 400 scalar symbols", id="huge-symbolic-sizes"),
    pytest.param({"claims": [Claim("g", lambda s: s.x, output="g", wrt="x", expect="wrong")]}, "expect= one of",
                 id="unknown-expected-verdict"),
])
def test_declarations_that_cannot_work_are_refused_at_registration(changes, expected):
    with pytest.raises(InvalidArgument, match=expected):
        _one_var(**changes)


def test_a_domain_that_is_not_one_is_refused():
    with pytest.raises(InvalidArgument, match="domain="):
        Real("n", domain=(1.0, 0.0))


def test_a_dims_function_that_returns_nonsense_is_the_derivations_error():
    from gradverify.errors import DerivationError
    from gradverify.spec import resolve_sizes

    with pytest.raises(DerivationError, match="expected a positive int"):
        resolve_sizes({"n": (1, 3), "m": lambda s: 0}, {"n": 2})
