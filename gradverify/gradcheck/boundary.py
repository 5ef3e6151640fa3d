"""gradcheck on code written in torch or jax: its tensors in, numpy inside, its function wrapped.

gradcheck works on numpy arrays. When ``fn`` is written in torch or jax (said with
``framework=``, else read from tensors among ``args``, else from ``fn``'s code), its
tensors are converted to numpy arrays of the same dtype, and ``fn`` is wrapped to take
numpy arrays and return numpy arrays (`gradverify.frameworks`). The complex step's guard
against non-analytic operations sees numpy operations only: for torch and jax code
"auto" picks the central difference, and the complex step is refused.
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
    if estimator == "complex-step":
        raise InvalidArgument(f"estimator 'central' or 'auto' for code written in {name}",
                              "estimator='complex-step'",
                              f"The complex step is guarded by watching numpy's operations for non-analytic ones "
                              f"(abs, comparisons); {name}'s are not seen, so a wrong result could pass. "
                              f"Leave estimator out: 'auto' is the central difference for {name} code.")
    code = framework(name)
    return code.wrap(fn), type(args)(to_numpy_values(args)), "central" if estimator == "auto" else estimator


def _detected(fn: Callable, args) -> str:
    from_values = framework_of_values(args)
    return from_values if from_values != "numpy" else detect(fn)
