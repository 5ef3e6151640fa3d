"""gradcheck on code written in torch or jax: its tensors in, numpy inside, its function wrapped.

gradcheck works on numpy arrays. When ``fn`` is written in torch or jax (said with
``framework=``, else read from tensors among ``args``, else from ``fn``'s code), its
tensors are converted to numpy arrays of the same dtype, and ``fn`` is wrapped to take
numpy arrays and return numpy arrays (`gradverify.frameworks`). The complex step's guard
against non-analytic operations is the framework's own: a TorchFunctionMode for torch, the
traced program (jaxpr) for jax; what it refuses makes "auto" fall back to central
differences, as numpy code's does.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import InvalidArgument
from ..frameworks import FRAMEWORKS, detect, framework, framework_of_values, to_numpy_values

__all__ = ["at_boundary"]


def at_boundary(fn: Callable, args, estimator: str, name: str | None) -> tuple[Callable, object, str]:
    """(fn on numpy arrays, args as numpy arrays, the estimator to use)."""
    if name is not None and name not in FRAMEWORKS:
        raise InvalidArgument("framework 'numpy', 'torch' or 'jax' (or None: detected)", f"framework={name!r}")
    if not callable(fn) or not isinstance(args, (tuple, list)):
        return fn, args, estimator  # gradcheck's own validation says what is wrong
    name = name or _detected(fn, args)
    if name == "numpy":
        return fn, args, estimator
    code = framework(name)
    return code.wrap(fn), type(args)(to_numpy_values(args)), estimator


def _detected(fn: Callable, args) -> str:
    from_values = framework_of_values(args)
    return from_values if from_values != "numpy" else detect(fn)
