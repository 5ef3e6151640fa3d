"""A `Workspace`: the memory gradcheck writes its moved arguments into, kept between calls.

Each gradcheck call writes x + i·h·u (a complex copy of every checked argument) and x + step·u
(a real one) into buffers of its own. Made afresh at every call, a buffer of hundreds of megabytes
costs more than the arithmetic done in it: the operating system hands a process fresh memory as
zeroed pages, one fault per 4 KiB at first touch (about 1.5 ms per MB where `docs/benchmarks.md` was
measured: its "fresh memory" row).
A caller that checks the same shapes again and again (a test over many seeds, a check at every
training step) passes one `Workspace` to each call, and every call after the first finds its
buffers made and already touched; with the same seed it also finds the direction's weights u
drawn (the same u: a seed draws the same direction), as the floor of a check has them made
beforehand.

The state is the object's, never the process's: without ``workspace=`` gradcheck keeps nothing,
and a workspace holds its memory until it is dropped or `clear`-ed.
"""

from __future__ import annotations

import threading

import numpy as np

__all__ = ["DIRECTIONS_KEPT", "Workspace"]

#: random directions whose weights a workspace keeps (a call with ``directions=`` up to this many
#: reads every one of them again on a later call; each costs 8 bytes per checked entry)
DIRECTIONS_KEPT = 4


class Workspace:
    """Buffers kept for gradcheck between calls: ``gradcheck(fn, args, workspace=ws)``.

    One workspace may serve several threads: a buffer is lent to one call at a time and given
    back when that call's check ends (a check abandoned at ``timeout=`` gives its buffers back
    only when its thread finishes). At most ``keep`` buffers of each shape and dtype are kept, for
    every shape checked with it (`clear` lets them go), and the weights of the last `DIRECTIONS_KEPT`
    random directions."""

    def __init__(self, keep: int = 2):
        from ..errors import InvalidArgument

        if isinstance(keep, bool) or not isinstance(keep, int) or keep < 1:
            raise InvalidArgument("keep a whole number ≥ 1 (buffers kept per shape and dtype)", f"keep={keep!r}",
                                  "The default, 2, keeps two buffers of each shape and dtype: the real "
                                  "buffers of two arguments of the same shape, say.")
        self.keep = keep
        self._free: dict = {}
        #: the weights of the last random directions drawn over whole arguments: {(key, sizes, slot): u}
        self._weights: dict = {}
        self._lock = threading.Lock()

    def take(self, shape: tuple, dtype) -> np.ndarray:
        """A writeable C-ordered array of ``shape`` and ``dtype``: a kept one, else a new one
        (its contents are whatever they were: the caller writes every entry it reads)."""
        key = (tuple(shape), np.dtype(dtype))
        with self._lock:
            kept = self._free.get(key)
            array = kept.pop() if kept else None
        if array is None:
            return np.empty(shape, dtype=dtype)
        array.flags.writeable = True
        return array

    def give(self, array: np.ndarray) -> None:
        """Keep ``array`` for a later call, if it owns its memory and there is room for it."""
        if not isinstance(array, np.ndarray) or array.base is not None or not array.flags.c_contiguous:
            return
        key = (array.shape, array.dtype)
        with self._lock:
            kept = self._free.setdefault(key, [])
            if len(kept) < self.keep and not any(a is array for a in kept):
                kept.append(array)

    def weights(self, u, slot: int) -> np.ndarray | None:
        """The weights of random direction ``u`` over the whole of argument ``slot`` (read-only, float64):
        drawn once and kept, so that a later call with the same seed and shapes (the same direction)
        does not draw them again. The last `DIRECTIONS_KEPT` directions' are kept (``directions=``
        up to that many are all read again). None for a direction that is not random over the whole
        argument."""
        from .directions import chunks

        n = u.sizes[slot]
        if u.key is None or u.weighted or (u.lo, u.hi) != (0, sum(u.sizes)):
            return None
        key = (u.key, u.sizes, slot)
        with self._lock:
            kept = self._weights.get(key)
        if kept is not None:
            return kept
        values = np.empty(n)
        for s, e in chunks(0, n):
            values[s:e] = u.values(slot, s, e)
        values.flags.writeable = False
        with self._lock:
            self._weights[key] = values
            directions = list(dict.fromkeys(k[:2] for k in self._weights))  # (oldest first)
            for old in directions[:-DIRECTIONS_KEPT]:  # (older directions' weights let go)
                for k in [k for k in self._weights if k[:2] == old]:
                    del self._weights[k]
        return values

    def clear(self) -> None:
        """Let every kept buffer go."""
        with self._lock:
            self._free.clear()
            self._weights.clear()

    @property
    def nbytes(self) -> int:
        """Bytes held by the buffers kept now."""
        with self._lock:
            return sum(a.nbytes for kept in self._free.values() for a in kept) + \
                sum(a.nbytes for a in self._weights.values())

    def __repr__(self) -> str:
        return f"Workspace({self.nbytes / 2**20:.1f} MiB kept)"
