"""The global random states (``np.random``'s and ``random``'s), touched only when asked.

Code that draws from the global generators (word2vec's negative sampling with
``np.random.randint``) gives other outputs at each call, so a check that calls it
several times at one point must seed them identically before every call, as the
assignment's own harness does. That changes state shared by the whole process, so
it is done only where the caller asked for it (``gradcheck(..., pin_rng=True)``, or
in the report's worker processes), one such block at a time (`GLOBAL_RNG_LOCK`),
and the states are given back afterwards (`keeping`). A thread that draws from
``np.random`` while a check runs in another thread without ``pin_rng`` is never
seeded or rewound.
"""

from __future__ import annotations

import random
import threading
from contextlib import contextmanager

import numpy as np

__all__ = ["GLOBAL_RNG_LOCK", "keeping", "seed_both"]

#: one block that seeds the global states at a time: they are shared by every thread
GLOBAL_RNG_LOCK = threading.RLock()


def seed_both(seed: int) -> None:
    """Seed ``np.random`` and ``random`` (hold `GLOBAL_RNG_LOCK` inside `keeping`)."""
    np.random.seed(seed)
    random.seed(seed)


@contextmanager
def keeping():
    """Hold `GLOBAL_RNG_LOCK` and give the global states back as they were before the block."""
    with GLOBAL_RNG_LOCK:
        saved_np, saved_py = np.random.get_state(), random.getstate()
        try:
            yield
        finally:
            np.random.set_state(saved_np)
            random.setstate(saved_py)
