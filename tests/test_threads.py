"""No process-wide state: the checks give the serial results when run from 4 threads at once."""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from conftest import FAST
from gradverify import numeric
from gradverify.cost import count_work
from gradverify.spec import Point
from gradverify.symbolic import check_symbolic
from gradverify.tolerances import DEFAULT_TOLERANCE

import b_softmax_grad_center as b


def _in_threads(fn, n=4):
    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(lambda _: fn(), range(n)))


def test_symbolic_check_gives_the_serial_result_in_every_thread(seed):
    def run():
        res = check_symbolic(seed["e"], tuple(seed["e"].assumptions), 0)
        return {k: (v.status, v.points, v.detail) for k, v in res.items()}

    serial = run()
    assert all(r == serial for r in _in_threads(run))
    assert {s for s, _, _ in serial.values()} == {"proved"}


def test_monte_carlo_noise_gives_the_serial_result_in_every_thread(seed):
    rng = np.random.default_rng(3)
    point = Point({"d": 3, "V": 5}, {"v_c": rng.normal(size=3), "o": 1, "U": rng.normal(size=(3, 5))}, 1.0)

    def run():
        base = numeric.call(seed["b"], point)
        noise, watched = numeric.noise(seed["b"], point, base, DEFAULT_TOLERANCE, np.random.default_rng(0))
        return watched, {k: v.tobytes() for k, v in noise.items()}

    serial = run()
    assert serial[0] and all(r == serial for r in _in_threads(run))


def test_numeric_checks_of_a_derivation_give_the_serial_verdicts_in_every_thread(seed):
    from gradverify.checks import check_derivation

    def run():
        return [(r.claim, r.verdict, r.checks["finite_difference"].figures.error_over_tolerance)
                for r in check_derivation(seed["c"], FAST)]

    serial = run()
    assert all(r == serial for r in _in_threads(run))


def test_count_work_counts_each_call_alone_in_every_thread():
    rng = np.random.default_rng(0)
    v_c, U = rng.normal(size=20), rng.normal(size=(20, 100))

    def run():
        return count_work(b.naive_softmax_loss_and_gradient, v_c, 3, U)

    serial = run()
    assert serial > 2000 and _in_threads(run, 8) == [serial] * 8
