"""Arrays that see every numpy operation applied to them.

Three checks run the user's own numpy code on arrays that watch it: Monte Carlo
arithmetic (`mca`: each result perturbed by a rounding error), operation
counting (`cost`), and the complex step's guard (`gradcheck`: abs, sign,
comparisons refused). The state of a watch (a random generator, a counter)
lives on a `Watcher` object, never on a class or a module: every array that
watching produces carries its watcher, so two watches running at once in two
threads never see each other's operations.

This module does the plumbing they share: unwrapping the arguments, calling the
ufunc, handing each result to the watcher, and wrapping results of the dtype
kinds it follows so the watching goes on downstream.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Watcher", "Watched"]


class Watcher:
    """What to do around each numpy operation; subclasses keep their state on the instance."""

    #: dtype kinds whose results stay watched ("f" float, "c" complex)
    kinds = "f"

    def before(self, ufunc, method, args) -> None:
        """Called before each ufunc; may raise to refuse it."""

    def call(self, ufunc, method, args, kwargs):
        """The ufunc applied (``args`` plain); a subclass may compute it its own way."""
        return getattr(ufunc, method)(*args, **kwargs)

    def after(self, ufunc, method, args, value, in_place: bool):
        """Called with each ufunc's result (``in_place``: the ``out=`` arrays, to be
        changed in place); returns the result to hand back."""
        return value

    def function(self, func, args, kwargs):
        """Called for numpy functions that are not ufuncs (``np.dot``, ``np.linalg.norm``);
        returns the result, or ``NotImplemented`` to let numpy run them as usual."""
        return NotImplemented

    def inspect(self, func, args, value) -> None:
        """Called with the result of a numpy function that is not a ufunc, before `returned`;
        may raise to refuse it."""

    def returned(self, func, args, value):
        """Called with the result of a numpy function that is not a ufunc (``np.dot``,
        ``np.concatenate``, ``np.where``): numpy hands back plain arrays, so the result is
        watched again here (else a later operation would go unseen); subclasses may also
        perturb it."""
        self.inspect(func, args, value)
        return self.adopt_all(value)

    def adopt_all(self, value):
        """`adopt` on an array, or on each array in a tuple or list of results."""
        if isinstance(value, (tuple, list)) and not hasattr(value, "_fields"):
            return type(value)(self.adopt_all(v) for v in value)
        if isinstance(value, Watched) or not isinstance(value, (np.ndarray, np.generic)):
            return value
        return self.adopt(value)

    def cast(self, source: np.dtype, value):
        """Called with the result of ``array.astype(...)`` (``source``: the array's dtype before);
        returns the result to hand back. A cast to a narrower float rounds."""
        return value

    def scalar(self, value):
        """Called with what ``array.item()`` returns; returns what to hand back."""
        return value

    def part(self, name: str, array) -> None:
        """Called before ``array.real`` or ``array.imag`` is read (``name``: "real" or "imag");
        may raise to refuse it."""

    def watch(self, array) -> "Watched":
        """``array`` as a watched view (no copy)."""
        view = np.asarray(array).view(Watched)
        view.watcher = self
        return view

    def adopt(self, value):
        """A result, watched when its dtype kind is followed."""
        arr = np.asarray(value)  # (0-d arithmetic gives a numpy scalar: make it an array again)
        return self.watch(arr) if arr.dtype.kind in self.kinds else value


def _plain(x):
    return np.asarray(x) if isinstance(x, Watched) else x


class Watched(np.ndarray):
    """An ndarray that hands every numpy operation to its ``watcher``."""

    watcher: Watcher | None = None

    def __array_finalize__(self, obj):
        self.watcher = getattr(obj, "watcher", None)

    @staticmethod
    def _watcher_of(values) -> Watcher:
        for v in values:  # (a loop, not a generator: this runs for every operation of the code)
            if isinstance(v, Watched) and v.watcher is not None:
                return v.watcher
        raise StopIteration

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        watcher = self._watcher_of(inputs + (out or ()))
        args = [np.asarray(x) if isinstance(x, Watched) else x for x in inputs]  # (`_plain`, inlined)
        watcher.before(ufunc, method, args)
        if out is not None:
            kwargs["out"] = tuple(_plain(o) for o in out)
        value = watcher.call(ufunc, method, args, kwargs)
        if out is not None:
            watcher.after(ufunc, method, args, kwargs["out"], in_place=True)
            return out[0] if len(out) == 1 else out
        value = watcher.after(ufunc, method, args, value, in_place=False)
        return tuple(watcher.adopt(v) for v in value) if isinstance(value, tuple) else watcher.adopt(value)

    def __array_function__(self, func, types, args, kwargs):
        watcher = self.watcher
        result = watcher.function(func, args, kwargs) if watcher is not None else NotImplemented
        if result is NotImplemented:
            result = super().__array_function__(func, types, args, kwargs)
            if watcher is not None:
                result = watcher.returned(func, args, result)
        return result

    def astype(self, dtype, *args, **kwargs):
        value = np.ndarray.astype(np.asarray(self), dtype, *args, **kwargs)
        if self.watcher is None:
            return value
        return self.watcher.adopt(self.watcher.cast(self.dtype, value))

    def item(self, *args):
        value = np.ndarray.item(np.asarray(self), *args)
        return value if self.watcher is None else self.watcher.scalar(value)

    def tolist(self):
        if self.watcher is not None:
            self.watcher.part("tolist", self)
        return np.ndarray.tolist(np.asarray(self))

    def __complex__(self):
        if self.watcher is not None:
            self.watcher.part("complex", self)
        return complex(np.asarray(self))

    @property
    def real(self):
        if self.watcher is not None:
            self.watcher.part("real", self)
        return np.ndarray.real.__get__(self)

    @real.setter
    def real(self, value):
        np.ndarray.real.__set__(self, value)

    @property
    def imag(self):
        if self.watcher is not None:
            self.watcher.part("imag", self)
        return np.ndarray.imag.__get__(self)

    @imag.setter
    def imag(self, value):
        np.ndarray.imag.__set__(self, value)

    def __getitem__(self, index):
        item = super().__getitem__(index)
        if isinstance(item, np.ndarray) or self.watcher is None:
            return item
        return self.watcher.adopt(item)
