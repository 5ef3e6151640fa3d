"""Vector-valued functions: a claimed Jacobian ``fn(*args) -> (y, J...)``, and a claimed
Jacobian–vector product ``jvp(t, *args)``, each reduced to the scalar check (`gradcheck`).

* Jacobian: a random projection v on the output side (never-small weights, |v| in [½, 1],
  random signs, from a local generator) makes the scalar vᵀy, whose claimed gradient is
  vᵀJ (``J`` of shape y.shape + x.shape, contracted over y's axes); the scalar check then
  projects on the input side along its random directions. An error e in J[o, j] moves the
  claimed gradient's entry j by v_o·e, |v_o| ≥ ½: never hidden by the projection. The entry
  the scalar check names (argument, input index j) is then read back as one entry (o, j) of J:
  the column J[..., j] against central differences of y along x_j, its largest gap named.
  A Hessian is the Jacobian of the gradient: ``gradcheck(lambda x: (grad(x), hess(x)), (x,),
  jacobian=True)``.
* jvp: along a random input direction t and output projection v, φ(s) = vᵀ y(x + s t) has the
  claimed derivative vᵀ jvp(t, x + s t); one scalar check per direction (``directions``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from ..errors import InvalidArgument
from .layers import argument_name, never_small, weights_rng
from .results import GradcheckError, GradcheckResult
from .scalar import check_scalar

__all__ = ["check_jacobian", "check_jvp"]

#: the step of the central differences that read a located column of J back (a message, not a
#: verdict): ∛ε·max(1, |x_j|), where truncation and rounding of a central difference balance
_COLUMN_STEP = float(np.cbrt(np.finfo(np.float64).eps))


def _split(result, count: int) -> tuple:
    if not isinstance(result, (tuple, list)) or len(result) != 1 + count:
        got = f"a {type(result).__name__} of {len(result)}" if isinstance(result, (tuple, list)) \
            else f"one {type(result).__name__}"
        raise InvalidArgument(f"fn to return (y, J) with one Jacobian per wrt argument ({1 + count} values)", got,
                              "With jacobian=True, fn(*args) returns y and ∂y/∂args[i] of shape y.shape + "
                              "args[i].shape for each i in wrt.")
    return result[0], list(result[1:])


def check_jacobian(fn: Callable, args: list, wrt: list, options: dict, raise_exception: bool) -> GradcheckResult:
    """``gradcheck(fn, args, jacobian=True)``."""
    copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else copy.deepcopy(a) for a in args]
    try:
        y, jacobians = _split(fn(*copies), len(wrt))
    except InvalidArgument:
        raise
    except Exception as exc:
        raise InvalidArgument("a function that runs on the arguments given", f"{type(exc).__name__}: {exc}",
                              "Call fn(*args) yourself first.") from exc
    y = np.asarray(y)
    if y.dtype.kind != "f":
        raise InvalidArgument("y, fn's first output, as a float array", f"dtype {y.dtype}")
    for J, i in zip(jacobians, wrt):
        want = y.shape + args[i].shape
        if np.shape(J) != want:
            hint = " (it looks transposed: input axes first)" if np.shape(J) == args[i].shape + y.shape else ""
            raise InvalidArgument(f"the Jacobian for {argument_name(fn, i)} of shape y.shape + args[{i}].shape = "
                                  f"{want}", f"shape {np.shape(J)}{hint}", "J[o, j] = ∂y[o]/∂x[j]: y's axes first.")
    v = never_small(weights_rng(options["seed"]), y.shape, y.dtype if y.dtype == np.float32 else np.float64)
    axes = y.ndim

    def projected(*a):
        y, jacobians = _split(fn(*a), len(wrt))
        return (np.sum(v * y), *(np.tensordot(v, J, axes=axes) for J in jacobians))

    result = check_scalar(projected, args, wrt, **options)
    if not result.ok:
        result = replace(result, message=_entry_of_j(fn, args, wrt, result, y.shape) + result.message)
    if raise_exception and not result.ok:
        raise GradcheckError(result)
    return result


def _entry_of_j(fn, args, wrt, result: GradcheckResult, y_shape: tuple) -> str:
    """"J[o, j] is wrong ..." for the input entry j the scalar check located: its column read
    against central differences of y; "" when nothing was located or the reading fails."""
    if not result.located:
        return "Jacobian (vᵀy, gradient vᵀJ, v random on the output side): "
    e = result.located[0]
    try:
        x = np.array(args[e.argument], dtype=np.float64, copy=True)
        h = _COLUMN_STEP * max(1.0, abs(float(x[e.index])))
        column = []
        for sign in (1.0, -1.0):
            moved = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
            xm = x.copy()
            xm[e.index] += sign * h
            moved[e.argument] = xm.astype(args[e.argument].dtype)
            y, jacobians = _split(fn(*moved), len(wrt))
            column.append(np.asarray(y, dtype=np.float64))
            if sign == 1.0:
                step = float(xm[e.index] - x[e.index])
        numeric = (column[0] - column[1]) / (2 * step)
        _, jacobians = _split(fn(*[np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]),
                              len(wrt))
        claimed = np.asarray(jacobians[wrt.index(e.argument)], dtype=np.float64)[(Ellipsis,) + tuple(e.index)]
    except Exception:  # noqa: BLE001 - only the message's detail is lost
        return "Jacobian (vᵀy, gradient vᵀJ): "
    gap = np.abs(claimed - numeric)
    o = tuple(int(k) for k in np.unravel_index(int(np.argmax(gap)), y_shape)) if gap.ndim else ()
    at = ", ".join(str(k) for k in o + tuple(e.index))
    return (f"Jacobian for {argument_name(fn, e.argument)}: entry J[{at}] = ∂y{list(o)}/∂x"
            f"{list(e.index)} looks wrong: claimed {float(claimed[o]):.12g}, central difference "
            f"{float(numeric[o]):.6g} (the largest gap in that column). ")


def check_jvp(fn: Callable, args: list, wrt: list, jvp: Callable, options: dict,
              raise_exception: bool) -> GradcheckResult:
    """``gradcheck(fn, args, jvp=jvp)``: ``jvp(t, *args)`` returns ∂y/∂x · t, t shaped like
    args[wrt[0]] (a tuple of them, one per wrt argument, when there are several)."""
    rng = weights_rng(options["seed"])
    count = options.get("directions") or 1
    inner = {k: val for k, val in options.items() if k not in ("directions", "spot", "locate", "mode")}
    copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else copy.deepcopy(a) for a in args]
    try:
        y = np.asarray(fn(*copies))
        first = [np.ones(args[i].shape, dtype=args[i].dtype) for i in wrt]
        y_dot = jvp(first[0] if len(first) == 1 else tuple(first), *copies)
    except Exception as exc:
        raise InvalidArgument("fn(*args) and jvp(t, *args) that run on the arguments given",
                              f"{type(exc).__name__}: {exc}",
                              "t is shaped like args[wrt[0]] (a tuple of them when wrt has several).") from exc
    if y.dtype.kind != "f":
        raise InvalidArgument("fn to return y, a float array (with jvp=, fn returns only y)", f"dtype {y.dtype}")
    if np.shape(y_dot) != y.shape:
        raise InvalidArgument(f"jvp to return ∂y/∂x · t with y's shape {y.shape}", f"shape {np.shape(y_dot)}")
    total = None
    for n in range(count):
        t = [never_small(rng, args[i].shape, args[i].dtype) for i in wrt]
        v = never_small(rng, y.shape)
        tangent = t[0] if len(t) == 1 else tuple(t)

        def along(s, t=t, v=v, tangent=tangent):
            a = list(args)
            for i, ti in zip(wrt, t):
                a[i] = args[i] + s[0] * ti
            y_dot = jvp(tangent, *a)
            return np.sum(v * fn(*a)), np.reshape(np.sum(v * y_dot), (1,))

        r = check_scalar(along, (np.zeros(1, dtype=args[wrt[0]].dtype),), (0,), mode="entries", **inner)
        if not r.ok:
            said = r.message
            if r.located:
                e = r.located[0]
                said = f"claimed vᵀ jvp(t, *args) = {e.claimed:.12g}, estimate of d/ds vᵀy(x + s·t) = {e.estimate:.12g}"
            r = replace(r, message=f"jvp is wrong along random direction {n + 1} of {count} (t on the inputs, v on "
                                   f"the outputs, both never-small random weights): {said}", located=[])
        total = r if total is None else replace(total, evaluations=total.evaluations + r.evaluations,
                                                 seconds=total.seconds + r.seconds,
                                                 error_over_tolerance=max(total.error_over_tolerance,
                                                                          r.error_over_tolerance))
        if not r.ok:
            total = replace(r, evaluations=total.evaluations, seconds=total.seconds)
            break
    if raise_exception and not total.ok:
        raise GradcheckError(total)
    return total
