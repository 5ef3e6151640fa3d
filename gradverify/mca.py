"""Monte Carlo arithmetic: run the user's code with every operation's rounding randomised.

Each numpy operation's result is multiplied by 1 + δ, δ uniform in
[−spread·u, spread·u] (u the unit roundoff), as Parker's Monte Carlo arithmetic
(1997; the idea behind Verificarlo and CADNA) models rounding. Running the same
code a few times this way shows how far its own rounding can move each output,
cancellation inside it (1 − σ(−x) for large x, ŷ_o − 1 when the model is sure)
included, which moving the inputs alone never shows.

One implementation serves every check that needs it: the report's numeric
checks (a δ per entry: the most faithful model) and gradcheck (a δ per
operation: one random number per operation, cheap at 10⁷ entries). The random
generator, the spread and the count of operations seen live on the instance.
"""

from __future__ import annotations

import numpy as np

from .watching import Watched, Watcher

__all__ = ["MonteCarloArithmetic", "one_ulp"]


class MonteCarloArithmetic(Watcher):
    """A watcher that perturbs the result of every numpy operation by a random rounding error.

    ``spread``: the size of each error in units of ``unit_roundoff`` (see
    `Tolerance.mca_spread`). ``per_entry``: one δ for each entry of a result
    (True) or one for the whole result (False, cheaper). ``kinds``: the dtype
    kinds perturbed and followed ("f" real; "fc" complex too, for the complex
    step). ``guard``: another watcher whose ``before`` runs first (the complex
    step's refusal of non-analytic operations).
    """

    def __init__(self, rng: np.random.Generator, unit_roundoff: float, spread: float, *, per_entry: bool = True,
                 kinds: str = "f", guard: Watcher | None = None):
        self.rng, self.size, self.per_entry, self.kinds, self.guard = rng, spread * unit_roundoff, per_entry, kinds, guard
        self.spread, self.unit_roundoff = spread, unit_roundoff
        self._sizes: dict = {}  # `size_for`, per dtype
        #: operations seen: 0 means the code never computed on our arrays
        self.seen = 0

    def before(self, ufunc, method, args):
        if self.guard is not None:
            self.guard.before(ufunc, method, args)

    def function(self, func, args, kwargs):
        return NotImplemented if self.guard is None else self.guard.function(func, args, kwargs)

    def call(self, ufunc, method, args, kwargs):
        if self.guard is None:  # (`Watcher.call`, inlined: every operation of the code comes here)
            return getattr(ufunc, method)(*args, **kwargs)
        return self.guard.call(ufunc, method, args, kwargs)

    def part(self, name, array):
        if self.guard is not None:
            self.guard.part(name, array)

    def scalar(self, value):
        return value if self.guard is None else self.guard.scalar(value)

    def returned(self, func, args, value):
        """A numpy function's result (np.dot, np.einsum, np.concatenate ...): one computed outside
        the ufuncs watched (np.dot's sum of products, in C) is perturbed as an operation's result
        is; one that only moves numbers (`_EXACT_FUNCTIONS`) or that watched ufuncs already made
        (np.mean) is left as it is. Either way it stays watched."""
        if self.guard is not None:
            self.guard.inspect(func, args, value)
        return self._returned(func, value)

    def _returned(self, func, value):
        if isinstance(value, (tuple, list)) and not hasattr(value, "_fields"):
            return type(value)(self._returned(func, v) for v in value)
        if isinstance(value, Watched) or not isinstance(value, (np.ndarray, np.generic)):
            return value
        if np.asarray(value).dtype.kind in self.kinds and getattr(func, "__name__", "") not in _EXACT_FUNCTIONS:
            self.seen += 1
            value = self.perturbed(np.asarray(value), fresh=True)
        return self.adopt(value)

    def size_for(self, dtype) -> float:
        """The largest relative rounding error of one operation whose result has ``dtype``: the
        spread times the unit roundoff, float32's (2⁻²⁴) for code that computes in float32."""
        try:
            return self._sizes[dtype]  # one computation per dtype: every operation asks
        except (KeyError, TypeError):  # (first sight of the dtype; or an unhashable one)
            size = self.spread * max(self.unit_roundoff, _epsilon(dtype) / 2)
        try:
            self._sizes[dtype] = size
        except TypeError:
            pass
        return size

    def deltas(self, shape, dtype) -> np.ndarray:
        """Relative rounding errors δ for a result of ``shape`` and ``dtype`` (one for the whole
        result unless ``per_entry``), at that dtype's rounding: what every perturbation draws."""
        return self.size_for(dtype) * self.rng.uniform(-1.0, 1.0, size=shape if self.per_entry else ())

    def perturbed(self, arr, fresh: bool = False, scale: float = 0.0):
        """arr·(1 + δ), δ at the rounding of arr's dtype; the code's own precision stays (float32
        code goes on in float32). ``fresh``: arr is a result no one else holds, multiplied in
        place (same numbers): a 10⁷-entry result is not copied. ``scale``: the result of a fused
        operation, whose rounding inside is also at the size of its inputs: + scale·δ′ as well."""
        # (every numpy operation of the code comes here: the plain attributes where they answer, not
        # np.result_type and np.shape, which cost a call each)
        numpy_value = isinstance(arr, (np.ndarray, np.generic))
        dtype = arr.dtype if numpy_value else np.result_type(arr)
        shape = arr.shape if numpy_value else np.shape(arr)
        factor = 1.0 + self.deltas(shape, dtype)
        if dtype.kind in "fc" and dtype != _FLOAT64:  # (float64 code: the factor is float64 already)
            factor = np.asarray(factor).astype(_REAL_OF.get(dtype) or np.finfo(dtype).dtype, copy=False)
        if scale:
            return arr * factor + (scale * self.deltas(shape, dtype)).astype(np.finfo(dtype).dtype)
        if (fresh and isinstance(arr, np.ndarray) and arr.ndim and arr.flags.owndata and arr.flags.writeable
                and (getattr(factor, "dtype", None) == dtype or np.result_type(arr, factor) == dtype)):
            arr *= factor
            return arr
        return arr * factor

    def cast(self, source, value):
        """A cast to a narrower float (float64 → float32) rounds every entry once: perturbed at
        the new dtype's rounding, as an operation's result is."""
        if np.asarray(value).dtype.kind in self.kinds and _epsilon(np.asarray(value).dtype) > _epsilon(source):
            self.seen += 1
            return self.perturbed(value, fresh=True)
        return value

    def after(self, ufunc, method, args, value, in_place):
        self.seen += 1
        if in_place:
            for o in value:
                if isinstance(o, np.ndarray) and o.dtype.kind in self.kinds:
                    o[...] = self.perturbed(o)
            return value
        if isinstance(value, tuple):
            return tuple(self.perturbed(v, fresh=True) if np.asarray(v).dtype.kind in self.kinds else v
                         for v in value)
        return self.perturbed(value, fresh=True) if np.asarray(value).dtype.kind in self.kinds else value


#: numpy functions that move, select or build numbers without rounding them (a result of any other
#: function computed outside the watched ufuncs is perturbed; perturbing an exact one only widens
#: the rounding measured a little)
_EXACT_FUNCTIONS = frozenset({
    "concatenate", "stack", "hstack", "vstack", "dstack", "column_stack", "block", "where", "select", "choose",
    "diag", "diagonal", "diagflat", "tril", "triu", "broadcast_to", "broadcast_arrays", "copy", "reshape", "ravel",
    "transpose", "swapaxes", "moveaxis", "rollaxis", "squeeze", "expand_dims", "atleast_1d", "atleast_2d",
    "atleast_3d", "take", "take_along_axis", "put", "put_along_axis", "compress", "extract", "pad", "tile",
    "repeat", "flip", "fliplr", "flipud", "roll", "rot90", "split", "array_split", "hsplit", "vsplit", "sort",
    "partition", "zeros_like", "ones_like", "empty_like", "full_like", "copyto", "delete", "insert", "append",
    "resize", "unique", "nan_to_num", "real", "imag", "clip", "amax", "amin", "max", "min", "searchsorted",
    "argsort", "argmax", "argmin", "nonzero", "flatnonzero",
})


_FLOAT64 = np.dtype(np.float64)

#: the real dtype of a float or complex dtype, for the common ones (np.finfo's ``dtype``, without the call)
_REAL_OF = {np.dtype(np.float64): np.dtype(np.float64), np.dtype(np.float32): np.dtype(np.float32),
            np.dtype(np.complex128): np.dtype(np.float64), np.dtype(np.complex64): np.dtype(np.float32)}


def _epsilon(dtype) -> float:
    """Machine epsilon of a floating dtype: numpy's, ml_dtypes' (bfloat16, as jax hands it over)
    or torch's; 0 for any other dtype (integers, booleans)."""
    import sys

    module = type(dtype).__module__.partition(".")[0]
    try:
        if module == "torch":
            return float(sys.modules["torch"].finfo(dtype).eps) if dtype.is_floating_point or dtype.is_complex else 0.0
        dtype = np.dtype(dtype)
        if dtype.kind in "fc":
            return float(np.finfo(dtype).eps)
        if "ml_dtypes" in sys.modules and dtype.kind == "V":  # bfloat16 and friends
            return float(sys.modules["ml_dtypes"].finfo(dtype).eps)
    except (TypeError, ValueError, KeyError):
        pass
    return 0.0


def one_ulp(arr, rng: np.random.Generator) -> np.ndarray:
    """Each entry moved one ulp up or down at random (the rounding of an input)."""
    toward = np.where(rng.integers(0, 2, size=np.shape(arr)) == 1, np.inf, -np.inf)
    with np.errstate(all="ignore"):  # nextafter of 0 underflows by design: no user setting may turn it into an error
        return np.nextafter(arr, toward)
