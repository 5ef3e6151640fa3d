"""Every name the complex step's guards know, in one vocabulary for numpy, torch and jax.

Each `Kind` below is a set of canonical operation names with the one reason they are in it.
Each library's spelling is mapped onto the canonical name by `canonical` (torch's
``linalg_cholesky_ex`` and ``cholesky_``, numpy's ``absolute``, a ``__gt__`` operator), so one
list serves the three guards; `REFUSED_BY` says which kinds each guard refuses by name, and why it
sees the others another way.

Every kind is a **speed hint only**. gradcheck certifies every pass by central differences in
real arithmetic: refusing a name here skips a complex-step call that cannot help (the estimators
would disagree and the complex step would be dropped); a name missing from a list costs a few
calls, never a false pass.

Not here, because they are not hints: the lists that decide the *rounding model* (torch_code's
``ELEMENTARY``, jax_code's ``_EXACT``, ``mca``'s exact functions, ``rounding``'s ``LAPACK``): a name
missing from them changes a tolerance. Nor the tables of what a guard computes itself (torch's
handlers for relu, clamp, max ...; jax's for max, clamp, argmax ...): they are code, and each sits
beside its functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

__all__ = ["CONJUGATES", "HERMITIAN", "Kind", "LEAVES_THE_WATCH", "MODULUS", "MOMENTS", "NORMS_INSIDE", "OPAQUE",
           "ORDERINGS", "PARTS", "REFUSED_BY", "ROUNDING", "SCALED_BY_A_MODULUS", "BY_REAL_PART", "canonical",
           "opaque_module", "refusal"]

#: one spelling per operation: numpy's ufunc names, Python's operators, torch's aliases
_ALIASES = {"absolute": "abs", "__abs__": "abs", "conjugate": "conj", "sgn": "sign", "around": "round",
            "greater": "gt", "__gt__": "gt", "greater_equal": "ge", "__ge__": "ge", "less": "lt", "__lt__": "lt",
            "less_equal": "le", "__le__": "le", "equal": "eq", "__eq__": "eq", "not_equal": "ne", "__ne__": "ne",
            "pinverse": "pinv", "topk": "top_k"}
#: spellings that mean another operation in one library: torch.cond and jax's cond primitive are
#: branches (lax.cond), not the condition number np.linalg.cond and torch's linalg_cond compute
_SPELLINGS = {"torch": {"cond": "branch"}, "jax": {"cond": "branch"}}


@lru_cache(maxsize=4096)  # a pure function of its arguments, asked once per operation the guards see
def canonical(name: str, library: str = "") -> str:
    """The vocabulary's name for a library's spelling: an in-place torch method as its operation
    (``relu_`` → ``relu``), torch's ATen prefix and error-returning variant dropped
    (``linalg_cholesky_ex`` → ``cholesky``), aliases as one name (``absolute`` → ``abs``,
    ``greater`` and ``__gt__`` → ``gt``). Dunder names other than the operators stay as they are.
    ``library``: a name that means another operation there (jax's ``cond`` is a branch) is told apart."""
    if name in _SPELLINGS.get(library, {}):
        return _SPELLINGS[library][name]
    if name in _ALIASES:
        return _ALIASES[name]
    if name.endswith("_") and not name.startswith("_"):
        name = name[:-1]
    name = name.removeprefix("linalg_").removesuffix("_ex")
    return _ALIASES.get(name, name)


@dataclass(frozen=True)
class Kind:
    """A kind of operation the complex step cannot see through as the real function continued to
    x + i·h·u (``why`` says how), by canonical name. ``parts``: a name containing one of them is of
    this kind too, whatever its prefix or suffix (torch's ``_conj``, ``conj_physical_``). A speed
    hint, as every list here: a name missing costs complex-step calls, never a false pass."""

    title: str
    why: str
    names: frozenset
    parts: tuple = ()

    def __contains__(self, name: str) -> bool:
        return self.holds(name)

    def holds(self, name: str, library: str = "") -> bool:
        """Whether ``library``'s operation of this name is of this kind."""
        return canonical(name, library) in self.names or any(part in name for part in self.parts)


CONJUGATES = Kind(
    "conjugates", "takes complex numbers to complex numbers but is not analytic: the conjugate, z/|z|, the angle, "
    "products that conjugate their first factor (vdot, vecdot); the complex step through it is wrong with no real "
    "number ever appearing",
    frozenset({"conj", "conj_physical", "sign", "vdot", "vecdot", "vecmat", "adjoint", "H", "mH", "conj_transpose",
               "angle"}),
    parts=("conj", "vecdot", "sgn", "adjoint"))

PARTS = Kind(
    "takes a part", "takes the real or imaginary part: the complex step's imaginary part is dropped (or is all that "
    "is left)",
    frozenset({"real", "imag", "real_if_close"}))

MODULUS = Kind(
    "the modulus", "|z| of a complex number is its modulus, a real number, not |x| continued (that one is "
    "`BY_REAL_PART`'s, where the guard computes it)",
    frozenset({"abs", "fabs"}))

HERMITIAN = Kind(
    "reads a matrix as Hermitian", "linear algebra that reads a complex matrix as Hermitian or makes unitary factors "
    "(Cholesky from one triangle, eigh, SVD, QR, slogdet's log|det|, norms by |z|²): not the real routine continued to "
    "x + i·h·u, so the complex step through it reads a derivative of 0 (a GP's forgotten log-det term passed). det, "
    "inv, solve, eigvals, logdet and the triangular solves are analytic and allowed",
    frozenset({"cholesky", "cholesky_solve", "cholesky_inverse", "eigh", "eigvalsh", "symeig", "eig", "svd", "svdvals",
               "svd_lowrank", "pca_lowrank", "pinv", "lstsq", "qr", "geqrf", "orgqr", "ormqr", "householder_product",
               "slogdet", "cond", "matrix_rank", "norm", "matrix_norm", "vector_norm", "nuclear_norm", "ldl_factor",
               "ldl_solve", "lobpcg", "schur", "hessenberg", "tridiagonal"}))

NORMS_INSIDE = Kind(
    "a norm inside", "functions composed of others inside the library (torch's TorchFunctionMode sees the outer call "
    "only) that take a norm |z| inside: F.normalize's projection term went unseen, and a claim that forgot it passed",
    frozenset({"normalize", "cosine_similarity", "pairwise_distance", "cdist", "triplet_margin_loss",
               "triplet_margin_with_distance_loss", "cosine_embedding_loss", "rms_norm", "local_response_norm",
               "clip_grad_norm", "weight_norm"}))

MOMENTS = Kind(
    "second moments", "variances and covariances of complex numbers conjugate (|z − m|², z·z̄ᵀ)",
    frozenset({"var", "std", "nanvar", "nanstd", "cov", "corrcoef"}))

ROUNDING = Kind(
    "rounds", "rounding, remainders and steps: locally constant or discontinuous on the real line, and not continued "
    "to complex numbers as the real function",
    frozenset({"floor", "ceil", "trunc", "rint", "round", "fmod", "remainder", "copysign", "heaviside",
               "reduce_precision"}))

SCALED_BY_A_MODULUS = Kind(
    "scaled by a modulus", "scipy.special's exponentially scaled functions (numpy ufuncs), which on complex numbers "
    "scale by exp(−|Re z|) or exp(−|Im z|): not the real function continued (a von Mises normaliser "
    "log ive(0, κ) + κ with a wrong claim passed)",
    frozenset({"i0e", "i1e", "k0e", "k1e", "ive", "kve", "jve", "yve", "hankel1e", "hankel2e", "airye"}))

BY_REAL_PART = Kind(
    "continued by the real part", "|x| and sign(x): on the real line |x| = x·sign(x) and sign is locally constant "
    "away from 0, so |z| continued to x + i·h·u is z·sign(Re z) and sign(z) is sign(Re z). numpy's and torch's guards "
    "compute them so (an L1 penalty, a mean absolute error, Huber), refusing Re z = 0 with Im z ≠ 0 (the kink) and "
    "numbers whose imaginary part is the code's own (np.fft, a cast, 1j: above STEP_SIZED·|Re z|), whose |z| is the "
    "modulus it means",
    frozenset({"abs", "sign"}))

ORDERINGS = Kind(
    "orders", "comparisons, max and min, clamps, relu and its relatives, sorts: piecewise analytic. On complex numbers "
    "the guards decide them by the real part, which away from a tie is the real function's choice and stays the "
    "same near x, so the complex step through the piece selected is exact; at a tie (real parts equal, imaginary "
    "parts not) the imaginary part would decide: a kink, refused (`gradverify.guard.ties`). An ordering a guard "
    "does not compute itself is refused by name (numpy, jax) or by the library (torch refuses complex orderings)",
    frozenset({"gt", "ge", "lt", "le", "eq", "ne", "maximum", "minimum", "fmax", "fmin", "max", "min", "amax", "amin",
               "argmax", "argmin", "reduce_max", "reduce_min", "clamp", "clip", "clamp_min", "clamp_max", "relu",
               "relu6", "leaky_relu", "hardtanh", "threshold", "_threshold", "elu", "sort", "argsort", "cummax",
               "cummin", "top_k"}))

LEAVES_THE_WATCH = Kind(
    "leaves the watch", "hands a complex tensor's numbers to code the guard does not watch (numpy, Python lists and "
    "numbers: abs() of a Python complex is the modulus, unseen). ``.item()`` is allowed: the guard hands back the "
    "0-d tensor itself, so that what follows stays watched",
    frozenset({"numpy", "tolist", "__array__", "__float__", "__int__", "__index__", "__bool__"}))

#: which kinds each guard refuses by name. numpy's guard computes `BY_REAL_PART` and the orderings
#: whose ties it watches, and refuses the rest. torch's guard computes `BY_REAL_PART` and the
#: orderings in its handler table; torch itself refuses complex tensors in the other orderings and in
#: `ROUNDING` (its own message is passed on); its `MODULUS` and `MOMENTS` results are real, which the
#: guard sees (torch.cov, which conjugates inside ATen, is left to the central differences on
#: purpose: tests/gradcheck_catalogue/unseen.py plants a forgotten term behind it). jax's guard sees
#: `PARTS` and `MODULUS` by their real results (its own complex comparisons are built of real and
#: imag, allowed), and refuses the orderings it does not run itself.
REFUSED_BY = {
    "numpy": (CONJUGATES, PARTS, MODULUS, HERMITIAN, NORMS_INSIDE, MOMENTS, ROUNDING, ORDERINGS),
    "torch": (CONJUGATES, PARTS, HERMITIAN, NORMS_INSIDE, LEAVES_THE_WATCH),
    "jax": (CONJUGATES, HERMITIAN, NORMS_INSIDE, MOMENTS, ROUNDING, ORDERINGS),
}


@lru_cache(maxsize=4096)  # a pure function of its arguments, asked once per operation the guards see
def refusal(library: str, name: str, computes: frozenset = frozenset()) -> Kind | None:
    """The kind under which ``library``'s guard refuses an operation of this name, or None.
    ``computes``: the canonical names of the orderings this guard computes itself (not refused)."""
    for kind in REFUSED_BY[library]:
        if kind.holds(name, library) and not (kind is ORDERINGS and canonical(name, library) in computes):
            return kind
    return None


#: scipy's subpackages whose routines hand their inputs to compiled code as plain arrays
#: (np.asarray, then LAPACK or C): numpy code that calls them computes outside the complex step's
#: watch, and scipy.linalg.cholesky or eigvalsh read x + i·h·u as Hermitian (a forgotten term passed).
#: scipy.fft too: its result is a plain array, so an abs after it goes unseen. Not scipy.special
#: (its functions are numpy ufuncs, watched). A speed hint as the kinds above are: code calling them
#: goes to central differences at once.
OPAQUE = ("scipy.linalg", "scipy.spatial", "scipy.sparse", "scipy.signal", "scipy.ndimage", "scipy.optimize",
          "scipy.integrate", "scipy.interpolate", "scipy.stats", "scipy.cluster", "scipy.fft", "scipy.fftpack")


def opaque_module(name: str) -> str | None:
    """The library of `OPAQUE` that a module of this name belongs to, or None."""
    return next((p for p in OPAQUE if name == p or name.startswith(p + ".")), None)
