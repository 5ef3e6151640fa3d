"""The processor's rounding direction, switched for a call: how far code's own rounding can move
its outputs when no hook sees its arithmetic.

Monte Carlo arithmetic (`gradverify.mca`) perturbs what numpy hands to watched arrays; code that
copies its inputs first (``x = np.array(x)``, Python floats) computes out of its sight. Rounding
upward, downward and toward zero instead of to nearest changes every floating-point operation the
thread makes, numpy's C loops and Python's floats alike (C99's fesetround, per thread), so the
spread of the outputs over the three directions shows the rounding a computation is sensitive to:
1 − 1/(1 + e⁻⁵⁰) is 0 to nearest and 1.1e-16 upward, the cancellation a bound from the formula
alone misses. Deterministic: the same code gives the same spread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from contextlib import contextmanager, nullcontext

__all__ = ["DIRECTIONS", "available", "current", "directed"]

#: <fenv.h>'s FE_TONEAREST, then FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO, by architecture
_MODES = {"x86_64": (0x000, 0x800, 0x400, 0xC00), "AMD64": (0x000, 0x800, 0x400, 0xC00),
          "aarch64": (0x000, 0x400000, 0x800000, 0xC00000), "arm64": (0x000, 0x400000, 0x800000, 0xC00000)}
#: the directions a call is repeated in
DIRECTIONS = ("upward", "downward", "toward zero")


def _libm():
    name = ctypes.util.find_library("m") or ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name) if name else None
    except OSError:
        return None


def available() -> bool:
    """Whether this platform lets the rounding direction be switched (glibc or macOS, x86-64 or ARM64)."""
    lib = _libm()
    return lib is not None and hasattr(lib, "fesetround") and platform.machine() in _MODES


@contextmanager
def directed(direction: str):
    """Within the block, this thread rounds ``direction`` (one of `DIRECTIONS`); the rounding mode
    it had before is given back after (not "to nearest": a caller may have set another).

    The BLAS library computes matrix products in worker threads of its own, which keep their own
    rounding mode (to nearest), so a product would be rounded partly one way and partly the other:
    BLAS runs on the calling thread alone within the block (threadpoolctl, the established tool
    for this; without it the products keep their threads and are rounded to nearest in part)."""
    lib = _libm()
    others = _MODES[platform.machine()][1:]
    mode = dict(zip(DIRECTIONS, others))[direction]
    before = lib.fegetround()
    with _one_blas_thread():
        if lib.fesetround(mode) != 0:
            raise OSError(f"fesetround refused the rounding direction {direction}")
        try:
            yield
        finally:
            lib.fesetround(before)


def current() -> int:
    """This thread's rounding mode, as <fenv.h> numbers it (fegetround)."""
    return _libm().fegetround()


def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return nullcontext()
    return threadpool_limits(limits=1, user_api="blas")
