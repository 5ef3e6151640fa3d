"""The catalogue written in torch and jax (tests/catalogue_frameworks/): the numpy catalogue's
losses as torch and jax users write them, right and planted wrong, each with the verdict it must
get. Skipped, with the reason, where the optional extra is absent; `.ci/run` installs both."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "catalogue"))  # the specs are the numpy catalogue's
sys.path.insert(0, str(HERE / "catalogue_frameworks"))

from gradverify.checks import Options, check_derivation  # noqa: E402
from gradverify.loading import load  # noqa: E402
from catalogue._registry import _module_of  # noqa: E402

OPTIONS = Options(seed=0, examples=20)


_LOADED: dict = {}


def _entries(library: str):
    """The library's catalogue file, loaded once per process (each of its 10 entries is a test)."""
    pytest.importorskip(library, reason=f"{library} is an optional extra: pip install 'gradverify[{library}]'")
    if library not in _LOADED:
        path = HERE / "catalogue_frameworks" / f"{library}_losses.py"
        derivations, failures = load([path])
        assert failures == []
        module = _module_of(path)  # (the loader leaves no module of the folder in sys.modules)
        _LOADED[library] = derivations, module.EXPECTED
    return _LOADED[library]


@pytest.mark.parametrize("library", ["torch", "jax"])
def test_each_framework_catalogue_has_right_and_wrong_versions_of_five_losses(library):
    derivations, expected = _entries(library)
    assert sorted(d.id for d in derivations) == sorted(expected)
    assert {v for v, _ in expected.values()} == {"holds", "refuted"} and len(expected) == 10


#: the entries the default run checks (by sorted id: the logistic loss, right and with σ dropped, the
#: cheapest pair); the other eight of each library, seconds each (jax traces and compiles), are marked
#: slow and run by `python -m pytest -m slow` (`.ci/run` runs both)
SMOKE = (4, 5)


@pytest.mark.parametrize("library", ["torch", "jax"])
@pytest.mark.parametrize("k", [k if k in SMOKE else pytest.param(k, marks=pytest.mark.slow) for k in range(10)])
def test_every_framework_catalogue_entry_gets_its_verdict(library, k):  # (one test each: xdist spreads them)
    derivations, expected = _entries(library)
    d = sorted(derivations, key=lambda d: d.id)[k]
    for row in check_derivation(d, OPTIONS):
        assert row.verdict == expected[d.id][0], (d.id, row.claim, expected[d.id], row.message)
        if row.verdict == "holds":  # nothing failed and something was compared
            assert all(c.status in ("proved", "sampled", "pass") for c in row.checks.values()), row.as_dict()
