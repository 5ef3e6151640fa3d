"""isolation.Worker: every way a call can end is a typed Outcome, from any thread."""

import ctypes
import os
import sys
import threading

import pytest

from gradverify.isolation import Ending, Limits, Worker, call_here


def double(x):
    return 2 * x


def loop():
    while True:
        pass


def segfault():
    ctypes.string_at(0)


def hard_exit():
    os._exit(5)


def soft_exit():
    sys.exit(0)


def interrupt():
    raise KeyboardInterrupt


def allocate():
    import numpy as np
    return np.ones(2**31).sum()


def unpicklable():
    return lambda: 1


class _WontLoad:
    """Pickles in the worker, and cannot be rebuilt in the parent."""

    def __reduce__(self):
        return (int, ("not a number",))


def unloadable():
    return _WontLoad()


@pytest.fixture(scope="module")
def worker():
    with Worker(Limits(timeout=60, max_memory=2**30)) as w:
        yield w


@pytest.mark.parametrize("fn, kind, message", [
    (segfault, Ending.CRASHED, "crashed with SIGSEGV"),
    (hard_exit, Ending.EXITED, "exited with status 5"),
    (soft_exit, Ending.EXITED, "exited with status 0 (sys.exit)"),
    (interrupt, Ending.RAISED, "raised KeyboardInterrupt"),
    (allocate, Ending.MEMORY, "exceeded 1 GB (MemoryError)"),
    (unpicklable, Ending.RAISED, "the result cannot be sent back"),
    (unloadable, Ending.RAISED, "the result came back but could not be read: ValueError"),
])
def test_each_ending_is_typed_and_the_worker_goes_on(worker, fn, kind, message):
    outcome = worker.call(fn)
    assert outcome.kind is kind and message in outcome.message and not outcome.ok
    after = worker.call(double, 21)
    assert after.ok and after.value == 42


def test_a_call_past_its_deadline_is_killed_and_a_new_worker_starts(worker):
    first = worker.pid
    outcome = worker.call(loop, timeout=0.5)
    assert outcome.kind is Ending.TIMEOUT and outcome.message == "did not return within 0.5 s"
    assert worker.call(double, 1).value == 2 and worker.pid != first


def test_a_worker_works_from_another_thread():
    results = []

    def use():
        with Worker(Limits(timeout=60)) as w:
            results.append(w.call(double, 4))

    threads = [threading.Thread(target=use) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert [r.value for r in results] == [8, 8, 8]


def test_kill_from_another_thread_ends_the_call():
    with Worker(Limits(timeout=120)) as w:
        w.start()
        timer = threading.Timer(0.5, w.kill)
        timer.start()
        outcome = w.call(loop)
        timer.join()
    assert outcome.kind is Ending.KILLED


def test_the_memory_limit_is_enforced_or_said_not_to_be():
    with Worker(Limits(max_memory=2**30)) as w:
        w.start()
        assert w.memory_enforced is True or w.notes


def test_call_here_types_endings_without_a_process():
    assert call_here(double, 2).value == 4
    assert call_here(soft_exit).kind is Ending.EXITED
    with pytest.raises(KeyboardInterrupt):
        call_here(interrupt)


# ------------------------------------------------------------------ a worker reused, each call in a fork
def leave_state():
    os.environ["GRADVERIFY_TEST_LEAK"] = "1"
    sys.modules["gradverify_test_leak"] = sys
    return os.getpid()


def see_state():
    return os.environ.get("GRADVERIFY_TEST_LEAK"), "gradverify_test_leak" in sys.modules, os.getpid()


@pytest.fixture(scope="module")
def forking():
    with Worker(Limits(timeout=60, max_memory=2**30), fork_each_call=True) as w:
        yield w


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_a_forking_worker_is_started_once_and_nothing_a_call_leaves_reaches_the_next(forking):
    forking.start()
    first = forking.pid
    leaving = forking.call(leave_state).value
    leaked, module, seeing = forking.call(see_state).value
    assert (leaked, module) == (None, False) and len({leaving, seeing, first}) == 3
    assert forking.pid == first


def test_a_worker_that_runs_calls_itself_would_leak_state():
    """Why the runner never reuses a plain worker: the second call sees what the first left."""
    with Worker(Limits(timeout=60)) as w:
        w.call(leave_state)
        assert w.call(see_state).value[:2] == ("1", True)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
@pytest.mark.parametrize("fn, kind, message", [
    (segfault, Ending.CRASHED, "crashed with SIGSEGV"),
    (hard_exit, Ending.EXITED, "exited with status 5"),
    (soft_exit, Ending.EXITED, "exited with status 0 (sys.exit)"),
    (interrupt, Ending.RAISED, "raised KeyboardInterrupt"),
    (allocate, Ending.MEMORY, "exceeded 1 GB (MemoryError)"),
    (unpicklable, Ending.RAISED, "the result cannot be sent back"),
])
def test_each_ending_in_a_fork_is_typed_and_the_worker_stays(forking, fn, kind, message):
    forking.start()
    first = forking.pid
    outcome = forking.call(fn)
    assert outcome.kind is kind and message in outcome.message
    assert forking.call(double, 21).value == 42 and forking.pid == first


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_a_fork_past_its_deadline_is_killed_and_the_worker_stays(forking):
    forking.start()
    first = forking.pid
    outcome = forking.call(loop, timeout=0.5)
    assert outcome.kind is Ending.TIMEOUT and outcome.message == "did not return within 0.5 s"
    assert forking.call(double, 1).value == 2 and forking.pid == first


@pytest.mark.skipif(not hasattr(os, "fork"), reason="POSIX only")
def test_kill_ends_a_forked_call_and_a_new_worker_starts():
    with Worker(Limits(timeout=120), fork_each_call=True) as w:
        w.start()
        timer = threading.Timer(0.5, w.kill)
        timer.start()
        outcome = w.call(loop)
        timer.join()
        assert outcome.kind is Ending.KILLED
        assert w.call(double, 3).value == 6
