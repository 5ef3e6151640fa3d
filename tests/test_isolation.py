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
