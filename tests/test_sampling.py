"""Drawing points within assumptions, and hypothesis's shrinking."""

import numpy as np
from hypothesis import example, given, settings, strategies as st

from gradverify.sampling import HypothesisSource, RandomSource, draw_point
from gradverify.search import explore


def _all_points(derivation, assumptions, n=200, seed=0):
    rng = np.random.default_rng(seed)
    return [draw_point(derivation, RandomSource(rng), assumptions) for _ in range(n)]


def test_points_respect_dimension_ranges(seed):
    for p in _all_points(seed["e"], seed["e"].assumptions):
        assert 1 <= p.sizes["d"] <= 4 and 1 <= p.sizes["K"] <= 3 and 4 <= p.sizes["V"] <= 7
        assert p.values["U"].shape == (p.sizes["d"], p.sizes["V"])
        assert len(p.values["samples"]) == p.sizes["K"]


def test_excludes_keeps_o_out_of_the_samples_and_distinct_keeps_them_apart(seed):
    for p in _all_points(seed["e"], seed["e"].assumptions):
        assert p.values["o"] not in p.values["samples"]
        assert len(set(p.values["samples"])) == len(p.values["samples"])


def test_without_distinct_repeated_samples_are_drawn_often(seed):
    stated = [a for a in seed["e"].assumptions if a.source == "stated"]
    points = _all_points(seed["e"], stated)
    repeats = sum(len(set(p.values["samples"])) < len(p.values["samples"]) for p in points)
    assert repeats > 40  # repeats are where the (e) bug hides; they must not be rare
    assert all(p.values["o"] not in p.values["samples"] for p in points)


def test_one_hot_fixes_y_at_o_and_marks_it_fixed(seed):
    for p in _all_points(seed["a"], seed["a"].assumptions, n=50):
        y = p.values["y"]
        assert y[p.values["o"]] == 1.0 and y.sum() == 1.0 and "y" in p.fixed


def test_without_one_hot_y_is_a_free_real_vector(seed):
    p = _all_points(seed["a"], [], n=1)[0]
    assert "y" not in p.fixed and p.values["y"].shape == (p.sizes["V"],)


def test_window_rows_exclude_their_own_outside_word(seed):
    for p in _all_points(seed["f-negsample"], seed["f-negsample"].assumptions, n=100):
        assert len(p.values["samples"]) == p.sizes["W"] == 2 * p.sizes["m"]
        for o, row in zip(p.values["outside"], p.values["samples"]):
            assert o not in row


@settings(max_examples=30, deadline=None)
@given(st.data())
@example(data=None)
def test_hypothesis_draws_stay_within_assumptions(seed, data):
    e = seed["e"]
    if data is None:  # the pinned example: the smallest point hypothesis can make
        source = RandomSource(np.random.default_rng(0))
    else:
        source = HypothesisSource(data)
    p = draw_point(e, source, e.assumptions)
    assert p.values["o"] not in p.values["samples"]
    assert len(set(p.values["samples"])) == len(p.values["samples"])


def test_explore_shrinks_a_failure_to_a_small_point(seed):
    e = seed["e"]

    def evaluate(point, target=None):  # "fails" whenever two samples repeat
        s = point.values["samples"]
        return {"repeat": s} if len(set(s)) < len(s) else {}

    stated = [a for a in e.assumptions if a.source == "stated"]
    result = explore(lambda src: draw_point(e, src, stated), evaluate, examples=30, seed=0)
    found = result.failures["repeat"].point
    assert found.sizes["K"] == 2 and found.sizes["d"] == 1 and found.sizes["V"] == 4
    assert found.values["samples"][0] == found.values["samples"][1]


def test_explore_is_reproducible_with_the_same_seed(seed):
    b = seed["b"]
    seen = [[], []]
    for run in range(2):
        explore(lambda src: draw_point(b, src, ()), lambda p, target=None: seen[run].append(p.describe()) or {}, 10, seed=5)
    assert seen[0] == seen[1]
