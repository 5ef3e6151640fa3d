"""Calling the user's ``fn``: safely, repeatably, and in complex arithmetic.

`Calls` holds everything one gradcheck call needs between evaluations (its
buffers, the claimed gradients, the count of evaluations): one object per call,
nothing kept at module level, so calls in several threads never meet.

- The caller's arrays are never handed to ``fn``: it gets read-only views, so an
  implementation that writes into its argument raises instead of changing the
  caller's data, and is reported as modifying its argument in place.
- Determinism. ``fn`` is called once at the point (`start`: the claimed
  gradients). Each complex-step call is a second call at the same point as far
  as its real part goes (Re f(x + i·h·u) = f(x) − h²/2·uᵀHu, h = 2⁻⁶⁶ ≈ 1.4e-20): when
  its real value agrees with the real call's within the rounding model
  (`agrees`), no further call is needed. Otherwise, and always before a failed
  comparison is reported or central differences are used, the full test runs
  (`settle`): a second real call whose outputs must match the first bitwise; if
  they do not, the global ``np.random`` and ``random`` states are seeded
  identically before every call (what word2vec's own harness does) and two
  calls repeated; if they still differ by more than ``nondet_tol``,
  `NotDeterministic` is raised (a failure, never a pass; it names torch's global
  generator when that is what drew between the calls). The full test copies the
  claimed gradients before the second call and keeps the copy as the claim: ``fn``
  may return the same array at every call (a layer's ``self.dW``, a torch ``.grad``),
  and an array changed since (accumulated into, never zeroed) is a failure that says
  so; a later call cannot change the claim under the check. Noise in a gradient
  alone moves Σ gradᵀu: above the comparison's rounding bound it fails the
  comparison and meets the full test; below it, a pass does not see it.
- The complex step evaluates ``fn`` on arguments x + i·h·u, watched so that
  non-analytic numpy operations raise `NotAnalytic` (`gradverify.guard.numpy_watch`; which
  operations, for numpy, torch and jax alike: `gradverify.guard.hints`). Its buffers (x + i·h·u,
  the moved real arguments of central differences) are made once per call (or taken from
  the caller's `Workspace` and given back at its end) and
  only the entries a new direction changes are written again. Central differences
  along a whole direction the complex buffer holds need no buffer of their own: it is
  turned into h·u (contiguous) and room for x + step·u (`Calls._compact`), and filled
  afresh if the complex step is needed again.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import InvalidArgument
from ..frameworks.detection import opaque_libraries
from ..guard import NotAnalytic
from ..guard.numpy_watch import ComplexGuard
from ..mca import MonteCarloArithmetic
from ..tolerances import SUM_BLOCK, Tolerance
from .. import rng
from ..calling import difference, modified, read_only as _read_only, running, snapshot
from ..watching import Watcher
from .directions import Direction, chunks
from .workspace import Workspace

__all__ = ["Calls", "ComplexEvaluation", "Evaluation", "ModifiesArgument", "NotAnalytic", "NotDeterministic",
           "WatchRefused"]

#: what to do when fn's value is a vector or an array (gradcheck's own check is of one number)
_VECTOR_VALUED = ("For a vector-valued fn return (y, J) and pass jacobian=True (J of shape y.shape + x.shape); for a "
                  "layer pass its backward: gradcheck(forward, args, backward=backward); for a vjp or jvp pass vjp= "
                  "or jvp=; for a Hessian-vector product hvp=.")


class WatchRefused(Exception):
    """fn runs on plain arrays but raised on gradverify's watched ones (a library that refuses ndarray
    subclasses: autograd, numba, ``type(x) is np.ndarray``); str() says what it raised."""


class NotDeterministic(Exception):
    """Two calls at the same point gave different outputs; str() says by how much."""


class ModifiesArgument(Exception):
    """``fn`` wrote into one of its arguments; str() names it."""


@dataclass(frozen=True)
class Evaluation:
    """One real evaluation: the value and the gradients for the ``wrt`` arguments."""

    value: float
    grads: list
    #: the arrays fn returned, when ``grads`` are copies of them (fn keeps its gradients' memory)
    returned: list | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class ComplexEvaluation:
    """One evaluation at x + i·h·u: the derivative along u (Im f / h), the real part of the
    value, and the real parts of the gradients when they were asked for (else None)."""

    derivative: float
    value: float
    grads: list | None = None


def _largest_difference(a: Evaluation, b: Evaluation) -> float:
    """0.0 when bitwise equal (NaN where NaN), else the largest absolute difference (`calling.difference`)."""
    pairs = [(np.asarray(a.value), np.asarray(b.value))] + list(zip(a.grads, b.grads))
    return max((d[0] for d in (difference(p, q) for p, q in pairs) if d is not None), default=0.0)


class Calls:
    """``fn`` and its arguments for one gradcheck call; counts evaluations."""

    read_only = staticmethod(_read_only)

    def __init__(self, fn, args: list, wrt: list, tol: Tolerance, seed: int, nondet_tol: float,
                 pin_rng: bool = False, workspace: Workspace | None = None):
        self.fn, self.args, self.wrt, self.tol = fn, args, wrt, tol
        #: where the buffers below come from and go back to (`give_back`); None: made for this call alone
        self.workspace = workspace
        self.seed, self.nondet_tol, self.pin_rng = seed, nondet_tol, pin_rng
        self.evaluations = 0
        #: numpy's floating-point error handling as the caller had it: fn runs under it, gradverify's own
        #: arithmetic under its own (a gradient entry of 1e-200 squared must not raise in a direction)
        self.errstate = np.geterr()
        self.pinned = False  # True once the global RNGs are seeded before every call (pin_rng=True only)
        self.nondeterminism = 0.0  # the difference between two identical calls, when accepted
        self.sizes = tuple(int(args[i].size) for i in wrt)
        self.complex_dtype = np.result_type(*(args[i].dtype for i in wrt), np.complex64)
        self._buffers: dict = {}  # slot: x + i·h·u (complex), made once per gradcheck call
        self._imag_written: dict = {}  # slot: the local range [a, b) where its imaginary part may be ≠ 0
        self._filled: tuple | None = None  # (direction, h) the buffers hold now
        self._moved_buffers: dict = {}  # slot: x + step·u (real), made once per gradcheck call
        #: slots whose complex buffer was turned into [h·u | x + step·u] (`_compact`): filled afresh if needed again
        self._compacted: set = set()
        self._moved_written: dict = {}  # slot: the local range [a, b) where it may differ from x
        self.base: Evaluation | None = None
        #: True once the full determinism test (`settle`) has run
        self.settled = False
        #: a complex-step call failed after the base was taken: fn may have written into the gradient
        #: arrays it returned (``self.dW.fill(0)``, then complex values refused), so `settle` takes the
        #: base again before it copies it
        self._base_touched = False
        self._opaque: list | None = None  # the libraries fn calls that the complex step cannot watch (once)
        #: the gradient arrays fn returned in its last call that are its own memory (not an argument's)
        self._returned: list = []
        #: slot: max |x| of the argument, read when its complex buffer was filled (`largest_magnitude`)
        self.largest_x: dict = {}
        #: True once fn returned a gradient in memory it returned before (`_claimable`)
        self.keeps_memory = False

    # ------------------------------------------------------------ calling
    def _call(self, args, watched: bool = False):
        self.evaluations += 1
        try:
            # fn's arithmetic as the caller set it (what fn sets, undone); the global RNGs seeded only with
            # pin_rng=True, once needed (`settle`), inside rng.keeping() (gradcheck holds it)
            with running(self.seed if self.pinned else None, self.errstate):
                return self.fn(*args)
        except NotAnalytic:
            raise
        except ValueError as exc:
            if "read-only" in str(exc):
                raise ModifiesArgument(self._which_is_modified()) from exc
            raise self._failed(exc, args) from exc
        except Exception as exc:
            if watched:
                raise WatchRefused(f"{type(exc).__name__}: {exc}") from exc
            raise self._failed(exc, args) from exc

    def _failed(self, exc, args):
        if any(np.iscomplexobj(a) for a in args):
            # code that runs on real numbers but not on complex ones (scipy's cdist: "Unsupported dtype
            # complex128", a C extension, an int() of a complex): central differences, never an error;
            # if the real call fails too, that call reports it
            return NotAnalytic(f"{type(exc).__name__}: {exc}")
        return InvalidArgument("a function that runs on the arguments given", f"{type(exc).__name__}: {exc}",
                               "Call fn(*args) yourself first.")

    def _which_is_modified(self) -> str:
        """Call on copies and name the arrays that changed."""
        copies = snapshot(self.args)
        with contextlib.suppress(Exception):  # the write was seen already; only the name is sought
            self.fn(*copies)
        changed = [i for i in modified(self.args, copies) if isinstance(self.args[i], np.ndarray)]
        names = ", ".join(f"args[{i}]" for i in changed) or "an argument"
        return (f"fn modifies its argument {names} in place; gradcheck passes read-only arrays and never "
                f"changes yours. Work on a copy inside fn (x = x.copy()).")

    def real(self, moved: dict | None = None, watched: bool = False) -> Evaluation:
        """fn at the arguments, ``moved`` replacing some wrt arrays (by argument position).
        ``watched``: ``moved`` holds gradverify's watched arrays, and an exception is `WatchRefused`."""
        args = [_read_only(a) for a in self.args]
        for i, x in (moved or {}).items():
            args[i] = x
        out = self._call(args, watched)
        if self.base is None:
            self._validate(out)
        returned = [np.asarray(g) for g in out[1:1 + len(self.wrt)]]
        grads, stale = self._claimable(returned, args)
        evaluation = Evaluation(float(np.real(out[0])), grads, returned if grads is not returned else None)
        if stale:
            self.base = self.real()
        return evaluation

    def _claimable(self, returned: list, args: list, keep: bool = True) -> tuple[list, bool]:
        """The gradients fn returned, safe to keep; and whether the base taken before is stale.

        fn may hand back memory it keeps and writes again at its next call (a layer's
        ``self.dW[...] = …``, a cached buffer): a claim kept as that array would change under the check
        with every later call. That is seen as a gradient sharing memory with one the call before
        returned (an argument passed in does not count: J = ½‖x‖² may return x itself); from then on every
        gradient is copied as it comes back, and a base taken before it is taken again (its arrays now
        hold the later call's numbers). Code that returns fresh arrays is never copied."""
        own = [g for g in returned if not any(isinstance(a, np.ndarray) and np.may_share_memory(g, a) for a in args)]
        stale = False
        if not self.keeps_memory and any(np.may_share_memory(g, p) for g in own for p in self._returned):
            self.keeps_memory = True
            stale = self.base is not None
        self._returned = own
        if self.keeps_memory and keep:
            return [np.array(g, copy=True) for g in returned], stale
        return returned, stale

    def _validate(self, out, real: bool = True) -> None:
        """fn must return a real scalar value and one real float gradient per wrt, of its argument's
        shape (``real``: a real call; a complex-step call returns complex numbers by design)."""
        expected = 1 + len(self.wrt)
        if not isinstance(out, (tuple, list)) and np.ndim(out) > 0:
            raise InvalidArgument("fn to return (value, gradients...) with a scalar value",
                                  f"one array of shape {np.shape(out)}", _VECTOR_VALUED)
        if not isinstance(out, (tuple, list)) or len(out) != expected:
            got = len(out) if isinstance(out, (tuple, list)) else 1
            more = isinstance(out, (tuple, list)) and got > expected
            raise InvalidArgument(f"fn to return (value, {len(self.wrt)} gradient{'s' if len(self.wrt) != 1 else ''}, "
                                  f"one per wrt)", f"{got} value{'s' if got != 1 else ''}",
                                  f"wrt is {tuple(self.wrt)} (left out, it is every float array in args); pass "
                                  f"wrt= the positions of the arguments fn returns gradients for, in its order"
                                  + (": a gradient returned beyond them would go unchecked." if more else "."))
        value = np.asarray(out[0])
        if value.ndim != 0:
            raise InvalidArgument("a scalar value as fn's first output", f"shape {value.shape}",
                                  _VECTOR_VALUED)
        if real and value.dtype.kind not in "fiub":
            raise InvalidArgument("a real number as fn's value", f"{value.dtype} value {value.item()!r:.60}",
                                  "Return the loss as a real float (a complex loss has no gradient in this sense).")
        for g, i in zip(out[1:], self.wrt):
            if np.shape(g) != self.args[i].shape:
                raise InvalidArgument(f"the gradient for args[{i}] with its shape {self.args[i].shape}",
                                      f"shape {np.shape(g)}")
            kind = np.asarray(g).dtype.kind
            if kind not in "fiub" and not (kind == "c" and not real):
                raise InvalidArgument(f"a real float array as the gradient for args[{i}]",
                                      f"dtype {np.asarray(g).dtype}",
                                      "Return gradients as float arrays (g.astype(np.float64)).")

    def start(self) -> Evaluation:
        """The real call at the point: the value and the claimed gradients."""
        self.base = self.real()
        return self.base

    def agrees(self, value: float, settled_too: bool = False) -> bool:
        """Whether the real part of a complex-step value is the real call's value up to rounding.

        The bound is the comparison's own a-priori model (`SUM_BLOCK`): safety·u·√block·|f|.
        False sends the caller to `settle`; it never fails a check by itself. Once settled, True
        unless ``settled_too``."""
        if self.settled and not settled_too:
            return True
        bound = self.tol.safety * self.tol.unit_roundoff * math.sqrt(SUM_BLOCK) * abs(self.base.value)
        return abs(value - self.base.value) <= bound

    def settle(self) -> bool:
        """The full determinism test (once): a second real call at the point, bitwise equal to the
        first, else both repeated with the global RNGs pinned. Raises `NotDeterministic`.
        Returns True when the base changed (the RNGs were pinned): estimates made before are stale.

        The base's gradients are copied first and the copy is the claim from then on: ``fn`` may
        return the same array at every call (a cached gradient, a layer's own ``self.dW``), which a
        later call would change under the claim, and which compared with itself is always equal."""
        if self.settled:
            return False
        self.settled = True
        if self._base_touched:
            self.base = self.real()
        drew, torch_before = rng.global_states(), rng.torch_state()
        base, second = self._twice(self.base)
        self.base = base
        diff = _largest_difference(base, second)
        if diff == 0.0:
            return False
        if diff <= self.nondet_tol:
            self.nondeterminism = diff
            return False
        if not self.pin_rng:
            raise NotDeterministic(self._differ(diff, rng.torch_drew(torch_before), drew != rng.global_states(),
                                                self._what_changed(base, second)))
        self.pinned = True
        torch_before = rng.torch_state()
        first, second = self._twice(self.real())
        diff = _largest_difference(first, second)
        if diff > self.nondet_tol:
            raise NotDeterministic(self._differ(diff, rng.torch_drew(torch_before)))
        self.nondeterminism = diff
        self.base = first
        return True

    def _twice(self, first: Evaluation) -> tuple[Evaluation, Evaluation]:
        """``first`` with its gradients copied, and a second real call; `NotDeterministic` if the
        second returned the first's own array, changed (the copy says what it held)."""
        kept = Evaluation(first.value, [np.array(g, copy=True) for g in first.grads])
        second = self.real()
        for slot, (was, now) in enumerate(zip(first.returned or first.grads, second.returned or second.grads)):
            changed = difference(kept.grads[slot], now) if np.may_share_memory(was, now) else None
            if changed is not None:
                step = changed[0]
                raise NotDeterministic(
                    f"fn returned the same gradient array for args[{self.wrt[slot]}] as in the call before, "
                    f"changed (by up to {step:.3g}): it accumulates into it (self.dW += …, or a torch .grad "
                    f"not zeroed); return a new array each call (or zero it first: self.dW[...] = 0, "
                    f"x.grad = None).")
        return kept, second

    def _what_changed(self, a: Evaluation, b: Evaluation) -> str:
        """Which outputs of two calls at the same point differ, and where the most."""
        said = []
        if difference(np.asarray(a.value), np.asarray(b.value)) is not None:
            said.append(f"the value ({a.value:.12g}, then {b.value:.12g})")
        for slot, (p, q) in enumerate(zip(a.grads, b.grads)):
            differs = difference(p, q)
            if differs is None:
                continue
            k = differs[1]
            said.append(f"the gradient for args[{self.wrt[slot]}] (most at index {k}: {float(p[k]):.12g}, then "
                        f"{float(q[k]):.12g})")
        return "; ".join(said)

    @staticmethod
    def _differ(diff: float, torch_drew: bool, global_drew: bool = False, changed: str = "") -> str:
        said = f"not deterministic: outputs differ between two calls at the same point by {diff:.3g} "
        if changed and not torch_drew and not global_drew:
            return (said + f"— {changed} — and fn drew from no global generator: fn keeps state between calls "
                    "(an array it writes into and keeps, such as a buffer accumulated with +=, a cache, a counter). "
                    "Make fn compute each output afresh from its arguments (start buffers from zeros in every "
                    "call), or pass nondet_tol= the difference you accept.")
        if global_drew:
            return (said + "(fn draws from the global np.random or random generator: a mini-batch, negative "
                    "samples, dropout). Pass pin_rng=True to have gradcheck seed both identically before every "
                    "call (it gives their states back afterwards, and holds a lock meanwhile so that two such "
                    "checks never interleave), or draw from a generator fn makes from a seed "
                    "(np.random.default_rng(seed)), or pass nondet_tol= the difference you accept.")
        if torch_drew:
            return (said + "(np.random and random were seeded identically before each call, but fn draws from "
                    "torch's global generator: torch.rand, dropout). Call torch.manual_seed(seed) at the start "
                    "of fn, or draw from a torch.Generator made from a seed "
                    "(torch.Generator().manual_seed(seed)), or pass nondet_tol= the difference you accept.")
        return (said + "(even with np.random and random seeded identically before each call). Seed any "
                "generator fn makes (np.random.default_rng(seed), torch.manual_seed(seed)), make fn keep no "
                "state between calls, or pass nondet_tol= the difference you accept.")

    # ------------------------------------------------------------ the complex step
    def _complex_args(self, u: Direction, h: float, watcher: Watcher) -> list:
        args = [_read_only(a) for a in self.args]
        same, self._filled = self._filled == (u, h), None  # (None while being written)
        for slot, i in enumerate(self.wrt):
            z = self._buffers.get(slot)
            if z is None or slot in self._compacted:
                if z is None:
                    z = self._buffers[slot] = self._new(self.args[i].shape, self.complex_dtype)
                z.flags.writeable = True
                moved = self._moved_buffers.pop(slot, None)  # (its second half, or a buffer of its own)
                if moved is not None and self.workspace is not None:
                    self.workspace.give(moved)  # (kept if it is its own memory, not the half)
                kept = self.workspace.weights(u, slot) if self.workspace is not None else None
                self._imag_written[slot], self.largest_x[slot] = _fill_complex(z.reshape(-1), self.args[i].reshape(-1),
                                                                             u, slot, h, kept)
                self._compacted.discard(slot)  # (once filled: a fill cut short leaves it to be filled again)
            elif not same:
                z.flags.writeable = True
                self._imag_written[slot] = _fill_imaginary(z.reshape(-1).imag, u, slot, h, self._imag_written[slot])
            z.flags.writeable = False
            args[i] = watcher.watch(z)
        self._filled = (u, h)
        return args

    def complex(self, u: Direction, h: float, jitter: np.random.Generator | None = None,
                grads: bool = False) -> ComplexEvaluation:
        """One evaluation at x + i·h·u, or NotAnalytic. ``grads``: keep the real parts of the
        gradients (else they are let go at once, so their memory serves the next call).
        With ``jitter``, in Monte Carlo arithmetic (one rounding error per operation)."""
        numpy_code = getattr(self.fn, "framework", "numpy") == "numpy"
        if self._opaque is None:
            self._opaque = opaque_libraries(self.fn) if numpy_code else []
        if self._opaque:
            raise NotAnalytic(f"fn calls {', '.join(self._opaque)}, whose routines hand their inputs to compiled "
                              f"code as plain arrays: the complex step cannot see what they compute (Cholesky or "
                              f"eigvalsh read x + i·h·u as Hermitian)")
        guard = ComplexGuard()
        watcher: Watcher = guard
        if jitter is not None:
            watcher = MonteCarloArithmetic(jitter, self.tol.unit_roundoff, self.tol.mca_spread, per_entry=False,
                                           kinds="fc", guard=guard)
        args = self._complex_args(u, h, watcher)
        # No warnings filter and no profile hook: both are process-wide (another thread's code would
        # meet them). What the code does out of the watch (a cast that drops the imaginary part, a
        # compiled routine that conjugates) is caught by the central differences every pass meets.
        try:
            out = self._call(args)
        except BaseException:
            self._base_touched = self.base is not None and not self.settled
            raise
        if self.base is None:
            self._validate(out, real=False)
        value = np.asarray(out[0])
        if value.dtype.kind != "c":
            raise NotAnalytic("the value came back real: the imaginary part was dropped")
        if guard.seen == 0 and getattr(self.fn, "framework", "numpy") == "numpy":
            # torch's and jax's code is guarded by their own hooks; numpy code that computed on
            # nothing watched took its inputs out of the watch first (np.asarray(x), np.array(x))
            raise NotAnalytic("the code computed on numbers taken out of gradverify's watch (np.asarray or "
                              "np.array of an argument hands numpy a plain array): the complex step cannot see "
                              "what it did with them")
        kept, stale = self._claimable([np.asarray(g) for g in out[1:1 + len(self.wrt)]], args, keep=grads)
        kept = [g.real for g in kept] if grads else None
        evaluation = ComplexEvaluation(float(value.imag) / h, float(value.real), kept)
        if stale:
            self.base = self.real()
        return evaluation

    def weights(self, u: Direction, slot: int, s: int, e: int) -> np.ndarray:
        """u on the slot's local entries [s, e) (float64, a fresh array): read back from the complex
        buffer when it holds x + i·h·u with h a power of two (h·u and its quotient by h are then exact:
        a power of two scales exactly; in a complex64 buffer it is u as float32 holds it, the u the complex
        step itself was taken along), else drawn again from the direction's stream."""
        if s == 0 and slot not in self._compacted and \
                (0, self.sizes[slot]) in ((a, b) for k, a, b in u.pieces() if k == slot):
            self._compact(u, slot)  # (h·u made contiguous now, for this read and the central differences' writes)
        imag = self._holds(u, slot)
        if imag is not None:
            return np.multiply(imag[s:e], 1.0 / self._filled[1], dtype=np.float64)
        return u.values(slot, s, e)

    def _holds(self, u: Direction, slot: int) -> np.ndarray | None:
        """The flat imaginary part h·u of the slot's complex buffer, if it holds ``u`` with h a power of two."""
        if self._filled is not None and self._filled[0] == u and math.frexp(self._filled[1])[0] == 0.5:
            flat = self._buffers[slot].reshape(-1)
            return flat.view(np.float64)[:flat.size] if slot in self._compacted else flat.imag
        return None

    def _compact(self, u: Direction, slot: int) -> np.ndarray | None:
        """The slot's complex buffer x + i·h·u (complex128, holding ``u`` over all its entries) turned into
        two float64 halves: h·u, contiguous (read back by `weights` and `moved` without the stride of an
        imaginary part, which halves their speed), and room for x + step·u (returned, flat), so that the
        central differences that certify a pass need no buffer of their own. The complex step's buffer is
        filled afresh when it is needed again (only where a pass is not certified at once)."""
        z = self._buffers.get(slot)
        x = self.args[self.wrt[slot]]
        if z is None or z.dtype != np.complex128 or x.dtype != np.float64 or self._holds(u, slot) is None:
            return None
        z.flags.writeable = True
        pairs = z.reshape(-1).view(np.float64)
        n = z.size
        if slot in self._compacted:  # (turned already: its moved half was let go, and is taken again)
            z.flags.writeable = False
            return pairs[n:]
        for s, e in chunks(0, n):  # forward, chunk by chunk: entry k comes from 2k + 1 ≥ k, so only the
            source = pairs[2 * s + 1:2 * e:2]  # first chunk reads where it writes (copied first for that)
            pairs[s:e] = source.copy() if 2 * s + 1 < e else source
        self._compacted.add(slot)
        z.flags.writeable = False  # (made writeable only while gradverify writes x + step·u into it)
        return pairs[n:]

    # ------------------------------------------------------------ moved real arguments
    def release_moved(self) -> None:
        """Let the moved buffers go (made again if central differences are needed later): back to the
        workspace, if there is one, else freed for the complex step's memory."""
        if self.workspace is not None:
            for buf in self._moved_buffers.values():
                self.workspace.give(buf)  # (a half of a compacted complex buffer is not its own: not kept)
        self._moved_buffers.clear()
        self._moved_written.clear()

    def _new(self, shape: tuple, dtype) -> np.ndarray:
        """A C-ordered buffer: the workspace's, if there is one."""
        return np.empty(shape, dtype=dtype) if self.workspace is None else self.workspace.take(shape, dtype)

    def give_back(self) -> None:
        """The check is over: every buffer back to the workspace (nothing kept without one)."""
        if self.workspace is None:
            return
        self.release_moved()
        for z in self._buffers.values():
            self.workspace.give(z)
        self._buffers.clear()
        self._compacted.clear()
        self._imag_written.clear()
        self._filled = None

    def moved(self, u: Direction, step: float) -> dict:
        """{argument position: x + step·u} for the wrt arrays the direction covers (read-only views
        of one buffer per argument, rewritten only where this direction or the last one moved it)."""
        out = {}
        for slot, a, b in u.pieces():
            i = self.wrt[slot]
            x = self.args[i]
            buf = self._moved_buffers.get(slot)
            if buf is None:
                half = self._compact(u, slot) if (a, b) == (0, x.size) else None
                if half is not None:
                    buf = self._moved_buffers[slot] = half.reshape(x.shape)
                    self._moved_written[slot] = (0, x.size)  # (every entry is written below)
                else:
                    buf = self._moved_buffers[slot] = self._new(x.shape, x.dtype)  # (C order: flat views write into it)
                    np.copyto(buf, x)
                    self._moved_written[slot] = (0, 0)
            owner = self._buffers[slot] if slot in self._compacted else None  # (buf may be its second half)
            if owner is not None:
                owner.flags.writeable = True
            buf.flags.writeable = True
            flat, xf = buf.reshape(-1), x.reshape(-1)
            lo, hi = self._moved_written[slot]
            for s, e in ((lo, min(hi, a)), (max(lo, b), hi)):  # undo the last move outside [a, b)
                if s < e:
                    flat[s:e] = xf[s:e]
            imag = self._holds(u, slot) if flat.dtype == np.float64 else None
            for s, e in chunks(a, b):  # x + step·u in float64, then stored in x's dtype
                if imag is not None:  # (step/h)·(h·u): the same product, each factor exact
                    np.multiply(imag[s:e], step / self._filled[1], out=flat[s:e])
                    flat[s:e] += xf[s:e]
                else:
                    np.add(xf[s:e], step * self.weights(u, slot, s, e), out=flat[s:e])
            self._moved_written[slot] = (a, b)
            buf.flags.writeable = False
            if owner is not None:
                owner.flags.writeable = False
            out[i] = _read_only(buf)
        return out


def _fill_complex(z: np.ndarray, x: np.ndarray, u: Direction, slot: int, h: float,
                  kept: np.ndarray | None = None) -> tuple[tuple[int, int], float]:
    """A fresh buffer: z = x + i·h·u, written chunk by chunk (each piece of memory touched once); and
    max |x| (`largest_magnitude`), read while each chunk of x is at hand. ``kept``: u over the whole
    slot, drawn already (a workspace's), read instead of drawn."""
    covered = [(a, b) for s, a, b in u.pieces() if s == slot]
    a, b = covered[0] if covered else (0, 0)
    worst = 0.0
    for s, e in chunks(0, z.size):
        piece, xs = z[s:e], x[s:e]
        piece.real = xs
        worst = max(worst, float(xs.max()), -float(xs.min()))
        if e <= a or s >= b:
            piece.imag = 0.0
            continue
        lo, hi = max(s, a), min(e, b)
        piece.imag[:lo - s] = 0.0
        piece.imag[hi - s:] = 0.0
        np.multiply(u.values(slot, lo, hi) if kept is None else kept[lo:hi], h, out=piece.imag[lo - s:hi - s])
    return (a, b), worst


def _fill_imaginary(imag: np.ndarray, u: Direction, slot: int, h: float, written: tuple) -> tuple[int, int]:
    """imag = h·u on the slot's entries, 0 elsewhere, written into the strided imaginary part.
    Only [a, b) and what the last direction ``written`` outside it need writing."""
    covered = [(a, b) for s, a, b in u.pieces() if s == slot]
    a, b = covered[0] if covered else (0, 0)
    lo, hi = written
    for s, e in ((lo, min(hi, a)), (max(lo, b), hi)):
        if s < e:
            imag[s:e] = 0.0
    for s, e in chunks(a, b):
        np.multiply(u.values(slot, s, e), h, out=imag[s:e])
    return a, b
