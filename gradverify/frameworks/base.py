"""The boundary between gradverify's numpy arrays and a framework's tensors: what every framework
does (`Framework`); which one a name means is `gradverify.frameworks.registry`'s."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np

from ..mca import MonteCarloArithmetic
from ..watching import Watched

__all__ = ["Framework", "converted", "is_float_array"]


def is_float_array(value) -> bool:
    """Real or complex floating point: what is converted (complex: the complex step's inputs)."""
    return isinstance(value, np.ndarray) and value.dtype.kind in "fc"


def _rounding_watch(args) -> MonteCarloArithmetic | None:
    """The Monte Carlo arithmetic watching the inputs, if any (`gradverify.mca`)."""
    for a in args:
        if isinstance(a, Watched) and isinstance(a.watcher, MonteCarloArithmetic):
            return a.watcher
    return None


class Framework:
    """numpy: the identity at the boundary. Subclasses convert to and from their tensors and
    run the code under their own rounding watch and complex-step guard."""

    name = "numpy"

    def to_code(self, value):
        """An input as the function takes it (a float array becomes a CPU tensor of its dtype)."""
        return value

    def to_numpy(self, value):
        """An output as gradverify reads it (a tensor becomes a numpy array)."""
        return value

    def is_array(self, value) -> bool:
        return isinstance(value, np.ndarray)

    def context(self):
        """Held around every call of the function (jax: 64-bit mode)."""
        return contextlib.nullcontext()

    def run(self, fn: Callable, args: list, rounding: MonteCarloArithmetic | None, guarded: bool):
        """``fn(*args)`` on the framework's inputs; ``rounding``: perturb every operation's result
        as that Monte Carlo arithmetic does; ``guarded``: complex inputs, refuse what is not
        analytic. numpy's watchers ride on the arrays themselves."""
        return fn(*args)

    def call(self, fn: Callable, args) -> object:
        """``fn`` on ``args`` converted in, its result (or each element of a tuple) converted out.
        numpy code is called as it is and its result left as it returned it."""
        if self.name == "numpy":
            return fn(*args)
        rounding = _rounding_watch(args)
        with self.context():
            args = [self.to_code(a) for a in args]
            guarded = any(np.iscomplexobj(a) for a in args if self.is_array(a))
            return converted(self.run(fn, args, rounding, guarded), self.to_numpy)

    def wrap(self, fn: Callable) -> Callable:
        """``fn`` as a function of numpy arrays that returns numpy arrays."""
        if self.name == "numpy":
            return fn

        def on_numpy(*args):
            return self.call(fn, args)

        on_numpy.__name__ = getattr(fn, "__name__", "fn")
        on_numpy.__wrapped__ = fn
        on_numpy.framework = self.name  # gradcheck: guarded by the framework's own hooks, not numpy's
        return on_numpy


def converted(out, convert: Callable):
    """``convert`` applied to ``out``, or to each element of a tuple or list (a namedtuple stays one)."""
    if isinstance(out, (tuple, list)):
        items = [convert(o) for o in out]
        return type(out)(*items) if hasattr(out, "_fields") else type(out)(items)
    return convert(out)
