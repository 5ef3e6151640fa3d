"""Shared fixtures: the seed derivations, loaded through the real loader."""

import dataclasses
import sys
from pathlib import Path

import pytest

from gradverify.checks import Options
from gradverify.loading import load

ROOT = Path(__file__).resolve().parent.parent
DERIVATIONS = ROOT / "derivations"
sys.path.insert(0, str(DERIVATIONS))  # the tests plant mistakes into the seed's own modules

#: few examples: the planted errors below are found in the first handful
FAST = Options(seed=0, examples=12, symbolic_configs=2)


@pytest.fixture(scope="session")
def seed():
    derivations, failures = load([DERIVATIONS])
    assert failures == []
    return {d.id: d for d in derivations}


def replace_claim(derivation, name, **changes):
    """``derivation`` with one claim changed (a planted wrong claim)."""
    claims = [dataclasses.replace(c, **changes) if c.name == name else c for c in derivation.claims]
    return dataclasses.replace(derivation, claims=claims)


def replace_impl(derivation, fn):
    return dataclasses.replace(derivation, implementation=dataclasses.replace(derivation.implementation, fn=fn))


def by_claim(rows):
    return {r.claim: r for r in rows}


#: a tiny right derivation file (½‖x‖², its gradient x) for command-line tests; ``{claim}`` is the
#: claimed gradient's sympy expression ("s.x" is right)
HALF_SQUARE = '''
import numpy as np
from gradverify import Claim, Derivation, Implementation, Real

def loss_and_grad(x):
    return 0.5 * x @ x, x

derivation = Derivation(
    id="half-square", title="half square", citation="test", dims={"n": (1, 3)}, variables={"x": Real("n")},
    function=lambda s: (s.x.T * s.x)[0, 0] / 2,
    claims=[Claim("dJ/dx", lambda s: {claim}, output="g", wrt="x", as_written="x")],
    implementation=Implementation(loss_and_grad, args=("x",), returns=("J", "g")),
)
'''


def pytest_addoption(parser):
    parser.addoption("--run-slow", action="store_true",
                     help="also run the tests marked slow (the whole fault corpus; statistical checks)")


def pytest_collection_modifyitems(config, items):
    """Tests marked slow are skipped unless --run-slow (or -m naming slow) asks for them."""
    if config.getoption("--run-slow") or "slow" in (config.getoption("-m") or ""):
        return
    skip = pytest.mark.skip(reason="slow: run with --run-slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
