"""The complex step's guard: which operations it refuses on x + i·h·u, for numpy, torch and jax.

gradcheck sharpens a pass with the complex step, f'(x)·u ≈ Im f(x + i·h·u)/h, which is exact only
where the code is analytic. Every pass is certified by central differences in real arithmetic
(`gradverify.checking.estimators`), so what this package decides is a speed hint: refusing an
operation early skips a complex call that cannot help; an operation it misses costs a few calls
(the estimators disagree and the complex step is dropped), never a false pass.

* `hints`: every name the guards refuse or compute themselves, in one vocabulary of kinds
  (conjugates, parts, modulus, Hermitian linear algebra, norms inside, rounding, orderings,
  leaving the watch, opaque modules), each library's spelling mapped onto one canonical name;
* `ties`: the one test for a tie of real parts (where the imaginary part would decide a
  piecewise function's branch) and the one wording of its refusal;
* `numpy_watch`: the guard for numpy code (a `gradverify.watching.Watcher`); torch's and jax's
  guards live with their frameworks (`gradverify.frameworks.torch_code`, `jax_code`) and read
  the same `hints`.

`NotAnalytic` is what every guard raises.
"""

from __future__ import annotations

__all__ = ["NotAnalytic"]


class NotAnalytic(Exception):
    """The code did something the complex step cannot see through (abs, a comparison at a tie,
    the real part, a conjugate, a cast to real); str() says what. The one exception for it, raised
    by numpy's, torch's and jax's guards alike. Not a TypeError: torch turns a TypeError raised
    inside an operator into NotImplemented."""
