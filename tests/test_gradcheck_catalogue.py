"""The gradcheck catalogue (tests/gradcheck_catalogue/): ordinary loss-and-gradient code, right and
planted wrong, each through `gradverify.gradcheck` at its small size, each with the verdict it must get.

The expected verdicts are data in each module (``ENTRIES``). Asserted: the verdict, the phrase of
the message an entry names, the wrong entry named where one was planted, and for a pass that it is
not vacuous (``result.resolution`` below the entry's bound, 1e-3 unless it says why not). torch and
jax entries are skipped, with the reason, where the library is not installed.
"""

import sys
import warnings
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gradcheck_catalogue import VERDICTS, entries  # noqa: E402
from gradcheck_catalogue._judge import problems, run  # noqa: E402

ENTRIES = entries()


def test_the_catalogue_is_wide_with_right_and_wrong_versions_of_each_loss():
    assert len(ENTRIES) >= 40
    losses = {e.loss for e in ENTRIES}
    assert len(losses) >= 12, losses
    assert {e.expected for e in ENTRIES} == set(VERDICTS)
    for loss in losses - {"output_forms", "float32_code", "state", "dropout"}:
        kinds = {e.planted == "none" for e in ENTRIES if e.loss == loss}
        assert kinds == {True, False}, f"{loss}: a right version and planted wrong ones"
    for e in ENTRIES:
        assert e.planted == "none" or e.expected != "pass", e.name
        assert set(e.sizes) == {"small", "large"} and e.sizes["small"] <= e.sizes["large"], e.name
        assert e.framework in ("numpy", "torch", "jax"), e.name
        assert e.resolution == 1e-3 or e.resolution_why, f"{e.name}: a coarser pass allowed needs its reason"
    assert {e.framework for e in ENTRIES} == {"numpy", "torch", "jax"}


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_verdict(entry):
    if entry.missing():
        pytest.skip(entry.missing())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # the code's own (log of 0, torch's read-only arrays)
        outcome = run(entry, entry.sizes["small"])
    assert not problems(entry, outcome), (entry.planted, problems(entry, outcome))
