"""Arrays that see every numpy operation applied to them.

Three checks run the user's own numpy code on arrays that watch it: Monte Carlo
arithmetic (`numeric`: each result perturbed by a rounding error), operation
counting (`cost`), and the complex step's guard (`gradcheck`: abs, sign,
comparisons refused). This base does the plumbing they share: unwrapping the
arguments, calling the ufunc, handing each result to a hook, and wrapping
results of the dtype kinds it follows so the watching goes on downstream.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Watching"]


class Watching(np.ndarray):
    #: dtype kinds whose results stay watched ("f" float, "c" complex)
    kinds = "f"

    @classmethod
    def before(cls, ufunc, method, args) -> None:
        """Called before each ufunc; may raise to refuse it."""

    @classmethod
    def after(cls, ufunc, method, args, value, in_place: bool):
        """Called with each ufunc's result (``in_place``: the ``out=`` arrays, to be
        changed in place); returns the result to hand back."""
        return value

    @classmethod
    def adopt(cls, value):
        arr = np.asarray(value)  # (0-d arithmetic gives a numpy scalar: make it an array again)
        return arr.view(cls) if arr.dtype.kind in cls.kinds else value

    def __array_ufunc__(self, ufunc, method, *inputs, out=None, **kwargs):
        cls = type(self)
        args = [np.asarray(x) if isinstance(x, Watching) else x for x in inputs]
        cls.before(ufunc, method, args)
        if out is not None:
            kwargs["out"] = tuple(np.asarray(o) if isinstance(o, Watching) else o for o in out)
        value = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            cls.after(ufunc, method, args, kwargs["out"], in_place=True)
            return out[0] if len(out) == 1 else out
        value = cls.after(ufunc, method, args, value, in_place=False)
        return tuple(cls.adopt(v) for v in value) if isinstance(value, tuple) else cls.adopt(value)

    def __getitem__(self, index):
        item = super().__getitem__(index)
        return item if isinstance(item, np.ndarray) else type(self).adopt(item)
