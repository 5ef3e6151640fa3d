"""`Workspace`: the buffers gradcheck writes its moved arguments into, kept between calls by the caller.

A workspace changes where memory comes from, never a verdict: every result with one is the result
without one, a planted wrong entry is still found and located, and bad arguments are refused."""

import threading

import numpy as np
import pytest

from gradverify import InvalidArgument, Workspace, gradcheck
from gradverify.checking.workspace import DIRECTIONS_KEPT


def loss(W, b):
    r = np.tanh(W @ b)
    return 0.5 * (r @ r), np.outer(r * (1 - r * r), b), W.T @ (r * (1 - r * r))


def loss_wrong_entry(W, b):
    value, gW, gb = loss(W, b)
    gW = gW.copy()
    gW[3, 5] += 1e-4 * np.abs(gW).max()
    return value, gW, gb


def loss_transposed(W, b):  # ∂J/∂b written with W where Wᵀ belongs (a square W: the shapes agree)
    r = np.tanh(W @ b)
    return 0.5 * (r @ r), np.outer(r * (1 - r * r), b), W @ (r * (1 - r * r))


@pytest.fixture
def args():
    rng = np.random.default_rng(0)
    return [rng.normal(size=(300, 300)) / 10, rng.normal(size=300)]


def _same(a, b):
    return (a.ok, a.message, a.evaluations, a.resolution, a.certified_resolution, a.estimator, a.mode) == \
        (b.ok, b.message, b.evaluations, b.resolution, b.certified_resolution, b.estimator, b.mode)


@pytest.mark.parametrize("fn, ok", [(loss, True), (loss_wrong_entry, False), (loss_transposed, False)],
                         ids=["right", "one-wrong-entry", "transposed"])
def test_a_workspace_gives_every_call_the_result_it_gives_without_one(args, fn, ok):
    workspace = Workspace()
    alone = gradcheck(fn, args)
    first = gradcheck(fn, args, workspace=workspace)
    later = gradcheck(fn, args, workspace=workspace)  # (its buffers hold the last call's numbers)
    assert alone.ok is ok
    assert _same(alone, first) and _same(alone, later)
    if fn is loss_wrong_entry:
        assert [(e.argument, e.index) for e in later.located] == [(0, (3, 5))]


def test_a_later_call_reuses_the_buffers_the_first_one_made(args, monkeypatch):
    workspace = Workspace()
    gradcheck(loss, args, workspace=workspace)
    assert workspace.nbytes >= args[0].size * 16  # the complex buffer of W at least
    kept = {id(a) for arrays in workspace._free.values() for a in arrays}
    taken, take = [], Workspace.take
    monkeypatch.setattr(Workspace, "take", lambda self, *a: taken.append(take(self, *a)) or taken[-1])
    gradcheck(loss, args, workspace=workspace)
    assert taken and all(id(a) in kept for a in taken)  # every buffer the one the first call made


def test_without_a_workspace_gradcheck_keeps_nothing(args):
    import gc

    result = gradcheck(loss, args)
    assert result.ok
    gc.collect()
    assert not any(isinstance(o, Workspace) for o in gc.get_objects())


def test_one_workspace_serves_threads_checking_at_once(args):
    workspace, results = Workspace(), {}

    def check(name, fn):
        results[name] = [gradcheck(fn, args, workspace=workspace) for _ in range(3)]

    threads = [threading.Thread(target=check, args=(n, f)) for n, f in
               (("right", loss), ("wrong", loss_wrong_entry), ("right too", loss))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(r.ok for r in results["right"] + results["right too"])
    assert not any(r.ok for r in results["wrong"])
    assert all(r.located[0].index == (3, 5) for r in results["wrong"])


def test_clear_lets_the_kept_buffers_go(args):
    workspace = Workspace()
    gradcheck(loss, args, workspace=workspace)
    assert workspace.nbytes > 0 and "MiB kept" in repr(workspace)
    workspace.clear()
    assert workspace.nbytes == 0


@pytest.mark.parametrize("kwargs, expected", [
    pytest.param({"workspace": {}}, "Expected workspace a gradverify.Workspace", id="a-dict"),
    pytest.param({"workspace": "reuse"}, "Expected workspace a gradverify.Workspace", id="a-string"),
])
def test_a_workspace_that_is_not_one_is_refused_with_what_to_do(args, kwargs, expected):
    with pytest.raises(InvalidArgument, match=expected) as info:
        gradcheck(loss, args, **kwargs)
    assert "gradverify.Workspace()" in str(info.value)


def test_a_layer_whose_forward_writes_its_input_still_has_its_workspace_checked():
    def forward(x):  # (the layer check's preflight stops at this write, before any scalar check)
        x *= 2
        return x

    with pytest.raises(InvalidArgument, match="Expected workspace a gradverify.Workspace"):
        gradcheck(forward, (np.ones(3),), backward=lambda dout, cache: (2 * dout,), workspace="x")


@pytest.mark.parametrize("keep", [0, -1, 1.5, True, "2"])
def test_a_workspace_keeping_no_buffer_is_refused(keep):
    with pytest.raises(InvalidArgument, match="Expected keep a whole number"):
        Workspace(keep=keep)


def test_a_later_call_with_the_same_seed_reads_the_direction_it_drew_and_another_seed_draws_its_own(monkeypatch):
    from gradverify.checking.directions import Direction

    rng = np.random.default_rng(1)
    args = [rng.normal(size=(300, 400)), rng.normal(size=400)]  # 120,400 entries: directional
    workspace = Workspace()
    first = gradcheck(loss, args, workspace=workspace)
    drawn, values = [], Direction.values
    monkeypatch.setattr(Direction, "values", lambda self, *a: drawn.append(a) or values(self, *a))
    later = gradcheck(loss, args, workspace=workspace)
    assert first.mode == later.mode == "directional" and drawn == []  # u read, not drawn again
    assert _same(first, later)
    other = gradcheck(loss, args, workspace=workspace, seed=1)
    assert drawn and other.ok and _same(other, gradcheck(loss, args, seed=1))
    buffers = sum(a.nbytes for kept in workspace._free.values() for a in kept)
    for seed in range(2, 2 + 2 * DIRECTIONS_KEPT):
        gradcheck(loss, args, workspace=workspace, seed=seed)
    entries = args[0].size + args[1].size  # the weights of the last DIRECTIONS_KEPT directions, no more
    assert workspace.nbytes == buffers + DIRECTIONS_KEPT * 8 * entries


def test_a_later_call_with_several_directions_reads_every_one_of_them(monkeypatch):
    from gradverify.checking.directions import Direction

    rng = np.random.default_rng(2)
    args = [rng.normal(size=(300, 400)), rng.normal(size=400)]
    workspace = Workspace()
    first = gradcheck(loss, args, workspace=workspace, directions=3)
    drawn, values = [], Direction.values
    monkeypatch.setattr(Direction, "values", lambda self, *a: drawn.append(a) or values(self, *a))
    later = gradcheck(loss, args, workspace=workspace, directions=3)
    assert drawn == [] and _same(first, later)
