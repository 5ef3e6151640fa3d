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

Both products pin the same way (`pinned`: the lock, then both seeded) and see
whether the code drew the same way (`global_states` before and after; torch's global
generator by `torch_state` and `torch_drew`, which gradcheck names when it was what
drew between two calls).
"""

from __future__ import annotations

import random
import sys
import threading
from contextlib import contextmanager

import numpy as np

__all__ = ["GLOBAL_RNG_LOCK", "global_states", "keeping", "pinned", "seed_both", "torch_drew", "torch_state"]

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


@contextmanager
def pinned(seed: int):
    """Hold `GLOBAL_RNG_LOCK` with ``np.random`` and ``random`` seeded with ``seed`` (inside `keeping`,
    or in a worker process of the report's: the states are not given back here)."""
    with GLOBAL_RNG_LOCK:
        seed_both(seed)
        yield


def global_states() -> tuple:
    """What the global ``np.random`` and ``random`` generators hold now, comparable with ``==`` (to see
    whether code drew from them)."""
    state = np.random.get_state()
    return state[0], state[1].tobytes(), state[2:], random.getstate()


def torch_state():
    """torch's global CPU generator state, if torch is imported (else None)."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        return torch.random.get_rng_state()
    except Exception:  # noqa: BLE001 - a torch without it: nothing to tell
        return None


def torch_drew(before) -> bool:
    """Whether torch's global generator drew since ``before`` (`torch_state`: torch.rand, dropout)."""
    if before is None:
        return False
    after = torch_state()
    return after is not None and not bool(sys.modules["torch"].equal(before, after))
