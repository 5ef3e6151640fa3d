"""A derivation with a mistake in its own description is a clear InvalidArgument."""

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
    pytest.param({"variables": {"x": "real"}}, "Real(...), Index(...) or Indices(...)", "variables['x']='real'",
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
    pytest.param({"symbolic_sizes": [{}]}, "every dimension in each symbolic_sizes entry", "missing ['n']",
                 id="incomplete-symbolic-sizes"),
])
def test_bad_derivation_says_what_was_expected_and_what_was_got(changes, expected, got):
    with pytest.raises(InvalidArgument) as info:
        make(**changes)
    message = str(info.value)
    assert message.startswith("Expected ") and expected in message and got in message
    assert "derivation 't'" in message or "id=" in message


def test_real_with_three_dims_is_refused_with_a_hint():
    with pytest.raises(InvalidArgument, match="at most 2 dimensions"):
        Real("a", "b", "c")


def test_invalid_argument_is_a_value_error_for_callers_that_catch_those():
    assert issubclass(InvalidArgument, ValueError)


def test_kinds_describe_themselves():
    assert Real("d", "V").describe() == "real d×V"
    assert Index("V").describe() == "index in 0..V-1"
    assert Indices("K", "V", rows="W").describe() == "W×K indices in 0..V-1"
