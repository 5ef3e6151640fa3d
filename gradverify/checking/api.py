"""``gradcheck``, the public call: a scalar loss goes to `scalar.check_scalar`; a layer, a
Jacobian, a vjp/jvp pair or an hvp to `layers` and `jacobian`, which reduce it to the scalar check."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ..errors import InvalidArgument
from ..tolerances import Tolerance
from .results import GradcheckResult

__all__ = ["gradcheck"]


def gradcheck(fn: Callable, args: Sequence, wrt: Sequence[int] | None = None, *, mode: str = "auto",
              estimator: str = "auto", directions: int | None = None, spot: int | None = None,
              locate: bool | None = None, seed: int = 0, tolerance: Tolerance | str = "auto",
              nondet_tol: float = 0.0, raise_exception: bool = False,
              framework: str | None = None, pin_rng: bool = False,
              min_resolution: float | None = None, timeout: float | None = None,
              backward: Callable | None = None, jacobian: bool = False, vjp: Callable | None = None,
              jvp: Callable | None = None, hvp: Callable | None = None,
              workspace=None) -> GradcheckResult:
    """Check ``fn``'s gradients for ``args[i]``, ``i`` in ``wrt``.

    ``fn(*args)`` returns ``(value, grad for args[wrt[0]], grad for args[wrt[1]], ...)``.
    ``wrt``: argument positions (default: every floating-point array argument).
    ``mode``: "entries" (each entry), "directional" (random directions) or "auto"
    (entries up to ``ENTRIES_UP_TO`` entries). Directional only: ``directions``
    (default 1), ``spot`` (entries also checked one by one, default 0), ``locate``
    (search a failed direction for the wrong entry, default True).
    ``estimator``: "complex-step", "central" or "auto". ``tolerance``: a `Tolerance`,
    or "auto" for the inputs' dtype. ``nondet_tol``: how far two real calls at the
    same point may differ when the full determinism test runs (torch's sense; default 0: bitwise
    equal; a pass whose complex-step value agrees with the real call's does not run it). ``raise_exception``:
    raise `GradcheckError` instead of returning a failed result. ``framework``: "numpy", "torch" or
    "jax", the library ``fn`` is written in (default: read from tensors in ``args``, else from
    ``fn``'s code); ``args`` may then hold that library's tensors, and ``fn`` is called with CPU
    tensors of the same dtype, the complex step guarded by the library's own hooks. ``pin_rng``: fn
    draws from the global ``np.random`` or ``random`` generator (a mini-batch, negative samples), so
    seed both identically (with ``seed``) before every call; their states are given back afterwards,
    and a lock keeps two such checks from interleaving. Without it gradcheck touches no global state:
    such code is reported as not deterministic, with this hint.

    ``min_resolution``: a pass must resolve an error of this fraction of max|grad| in one entry
    (``resolution``), else it is inconclusive (default: the tolerance's, 1e-3 for float64, 1e-1 for
    float32).

    ``timeout``: seconds the check may take. It then runs in a daemon thread of its own, and when the
    time is up gradcheck returns an inconclusive result that says so, abandoning that thread (Python
    cannot stop a thread: fn's call in progress runs on to its end, its result unused). For a hard
    limit on code that may never return, run the check in a worker process (the report does).

    ``workspace``: a `gradverify.Workspace` that keeps the buffers gradcheck writes x + i·h·u and
    x + step·u into between calls (default None: made for this call and freed after it). A caller
    that checks the same shapes repeatedly passes the same one to each call: later calls skip the
    operating system's zeroing of fresh memory, which at 10⁷ entries costs more than the arithmetic.

    Every pass is certified in real arithmetic: central differences along the same directions must
    agree with the claim too (``certified_resolution`` says how finely); the complex step, where the
    code allows it, only sharpens such a pass (``resolution``).

    Beyond a scalar loss (numpy code; each reduced to the check above, `layers` and `jacobian`):
    ``backward=``: a layer, ``forward(*args) -> out`` or ``(out, cache)`` and ``backward(dout, cache)``
    returning the gradients of the ``wrt`` arguments in order (the cache is ``args`` when forward
    returns only out); ``jacobian=True``: ``fn(*args) -> (y, J)``, J of shape y.shape + x.shape
    (a Hessian: ``fn = lambda x: (grad(x), hess(x))``); ``vjp=``: ``vjp(v, *args)`` for
    ``fn(*args) -> y``; ``jvp=``: ``jvp(t, *args)`` for ``fn(*args) -> y``; ``hvp=``:
    ``hvp(v, *args) -> H v`` for the usual ``fn -> (value, grads...)``, checked against fn's
    gradient code (as torch's gradgradcheck)."""
    from .scalar import check_scalar, valid_workspace  # (on first use: `from gradverify import gradcheck` stays light)

    valid_workspace(workspace)  # (here: a layer's preflight may return before the scalar check)
    routed = _route(backward, jacobian, vjp, jvp, hvp)
    options = dict(mode=mode, estimator=estimator, directions=directions, spot=spot, locate=locate, seed=seed,
                   tolerance=tolerance, nondet_tol=nondet_tol, pin_rng=pin_rng, min_resolution=min_resolution,
                   timeout=timeout, workspace=workspace)
    if routed:
        return _beyond_scalar(routed, fn, args, wrt, backward, vjp, jvp, hvp, raise_exception, framework, options)
    return check_scalar(fn, args, wrt, raise_exception=raise_exception, framework=framework, **options)


def _route(backward, jacobian, vjp, jvp, hvp) -> tuple:
    """Which of backward=, jacobian=, vjp=/jvp=, hvp= are given (validated; at most one kind)."""
    for name, value in (("backward", backward), ("vjp", vjp), ("jvp", jvp), ("hvp", hvp)):
        if value is not None and not callable(value):
            raise InvalidArgument(f"{name} a callable (or None)", f"{name}={value!r:.60}",
                                  {"backward": "backward(dout, cache) returns the gradients of the wrt arguments.",
                                   "vjp": "vjp(v, *args) returns vᵀ ∂y/∂args[i] for each i in wrt.",
                                   "jvp": "jvp(t, *args) returns ∂y/∂x · t.",
                                   "hvp": "hvp(v, *args) returns the Hessian times v."}[name])
    if not isinstance(jacobian, bool):
        raise InvalidArgument("jacobian True or False", f"jacobian={jacobian!r:.60}",
                              "jacobian=True: fn(*args) returns (y, J) with J of shape y.shape + x.shape.")
    given = tuple(name for name, on in (("backward", backward is not None), ("jacobian", jacobian),
                                        ("vjp", vjp is not None), ("jvp", jvp is not None),
                                        ("hvp", hvp is not None)) if on)
    if len(given) > 1 and set(given) != {"vjp", "jvp"}:
        raise InvalidArgument("one of backward=, jacobian=True, vjp=/jvp= or hvp= per call",
                              ", ".join(f"{g}=" for g in given), "Check each in its own gradcheck call.")
    return given


def _beyond_scalar(routed, fn, args, wrt, backward, vjp, jvp, hvp, raise_exception, framework, options):
    """A layer, a Jacobian, a vjp/jvp pair or an hvp, each reduced to the scalar check."""
    from . import jacobian as jacobian_check  # (on first use: `from gradverify import gradcheck` stays light)
    from . import layers
    from .scalar import MODES, choice, resolve_wrt, valid_seed

    if not callable(fn):
        raise InvalidArgument("a callable fn" if "backward" not in routed else "a callable forward", f"fn={fn!r:.60}")
    if not isinstance(args, (tuple, list)):
        raise InvalidArgument("args as a tuple or list of fn's arguments", f"args={args!r:.60}",
                              "Wrap a single argument: args=(x,).")
    if framework not in (None, "numpy"):
        raise InvalidArgument(f"numpy code with {routed[0]}=", f"framework={framework!r}",
                              "torch and jax compute Jacobians and backward passes with their own autograd; "
                              "check the scalar loss's gradient with gradcheck(fn, args) instead.")
    if not isinstance(raise_exception, bool):
        raise InvalidArgument("raise_exception True or False", f"raise_exception={raise_exception!r}")
    args = list(args)
    wrt = resolve_wrt(args, wrt)
    choice("mode", options["mode"], MODES)
    valid_seed(options["seed"])
    if "backward" in routed:
        return layers.check_layer(fn, args, wrt, backward, options, raise_exception)
    if "jacobian" in routed:
        return jacobian_check.check_jacobian(fn, args, wrt, options, raise_exception)
    if "hvp" in routed:
        return layers.check_hvp(fn, args, wrt, hvp, options, raise_exception)
    result = None
    if vjp is not None:
        result = layers.check_vjp(fn, args, wrt, vjp, options, raise_exception)
        if not result.ok:
            return result
    if jvp is not None:
        second = jacobian_check.check_jvp(fn, args, wrt, jvp, options, raise_exception)
        if result is not None:
            from dataclasses import replace
            second = replace(second, evaluations=second.evaluations + result.evaluations,
                             seconds=second.seconds + result.seconds)
        result = second
    return result


