"""Beyond a scalar loss: a layer's backward pass and a claimed Hessian, gradverify beside torch.

    python benchmarks/layers.py [--seeds 3] [--no-torch] [--cases layer,hessian,hvp] [--write docs/benchmarks.md]

Cases (numpy code, float64):
- layer: a CS231n affine layer, x 64×3×16×16, w 768×100, b 100 (``forward(x, w, b) -> (out,
  cache)``, ``backward(dout, cache) -> (dx, dw, db)``), checked with
  ``gradcheck(forward, args, backward=backward)``; planted: one entry of dw off by r·max|dw|.
- hessian: the softmax cross-entropy's Hessian U(diag(ŷ) − ŷŷᵀ)Uᵀ, d = 300, V = 1000, checked as
  the Jacobian of the gradient (``gradcheck(lambda v: (grad(v), hess(v)), (v,), jacobian=True)``);
  planted: one entry of H off by r·max|H| (and H + Hᵀ kept symmetric: both (i, j) and (j, i)).
- hvp: the same loss with d = 300, V = 50,000, the Hessian never formed: ``hvp=`` (H v =
  U(ŷ ⊙ Uᵀv − ŷ (ŷᵀUᵀv))); planted: one entry of H v off by r·max|Hv|·|v_j|.

Peer: torch.autograd.gradcheck(fast_mode=True) on a torch.autograd.Function whose forward and
backward call the same numpy code (the layer's backward; for the Hessian the gradient as forward
and v ↦ H v as backward, H symmetric), default eps, atol, rtol. Its slow mode forms the whole
Jacobian (one backward per output entry): beyond these sizes.

Columns: time of one check of the right code, whether the right code passed on every seed, and the
smallest planted error r (1e-2 … 1e-10) caught on every seed.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from tabulate import tabulate

from _page import add_write_option, recorded  # benchmarks/_page.py: --write
from gradverify import gradcheck

RELATIVE = [10.0 ** -k for k in range(2, 11)]


# ---------------------------------------------------------------- the cases
def affine_forward(x, w, b):
    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)


def affine_backward(dout, cache, r=0.0):
    x, w, b = cache
    dw = x.reshape(x.shape[0], -1).T @ dout
    if r:
        dw = dw.copy()
        dw[300, 42] += r * np.abs(dw).max()
    return (dout @ w.T).reshape(x.shape), dw, dout.sum(axis=0)


def layer_args(seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(64, 3, 16, 16)), rng.normal(size=(768, 100)) * 0.05, rng.normal(size=100)


def softmax(z):
    e = np.exp(z - np.max(z))
    return e / e.sum()


def ce_grad(v, U, o=3):
    p = softmax(U.T @ v)
    p[o] -= 1.0
    return U @ p


def ce_hess(v, U, r=0.0):
    p = softmax(U.T @ v)
    Up = U @ p
    H = (U * p) @ U.T - np.outer(Up, Up)  # U (diag(ŷ) − ŷŷᵀ) Uᵀ
    if r:
        H = H.copy()
        bump = r * np.abs(H).max()
        H[5, 17] += bump
        H[17, 5] += bump
    return H


def ce_hvp(t, v, U, r=0.0):
    p = softmax(U.T @ v)
    a = U.T @ t
    out = U @ (p * a - p * (p @ a))
    if r:
        out = out.copy()
        out[5] += r * np.abs(out).max() * abs(t[5])
    return out


def ce_loss_and_grad(v, U, o=3):
    z = U.T @ v
    m = np.max(z)
    return -(z[o] - m - np.log(np.sum(np.exp(z - m)))), ce_grad(v, U, o)


def hessian_args(seed, d=300, V=1000):
    rng = np.random.default_rng(seed)
    return rng.normal(size=d) * 0.3, rng.normal(size=(d, V)) * 0.3


# ---------------------------------------------------------------- gradverify
def gv_layer(seed, r):
    return gradcheck(affine_forward, layer_args(seed), backward=lambda d, c: affine_backward(d, c, r), seed=seed).ok


def gv_hessian(seed, r):
    v, U = hessian_args(seed)
    return gradcheck(lambda v: (ce_grad(v, U), ce_hess(v, U, r)), (v,), jacobian=True, seed=seed).ok


def gv_hvp(seed, r):
    v, U = hessian_args(seed, 300, 50_000)
    return gradcheck(lambda v: ce_loss_and_grad(v, U), (v,), hvp=lambda t, v: ce_hvp(t, v, U, r), seed=seed).ok


# ---------------------------------------------------------------- torch, fast mode
def torch_checkers():
    import torch

    def numpy_function(forward, backward):
        class F(torch.autograd.Function):
            @staticmethod
            def forward(ctx, *tensors):
                out, cache = forward(*(t.detach().numpy() for t in tensors))
                ctx.cache = cache
                return torch.from_numpy(np.ascontiguousarray(out))

            @staticmethod
            def backward(ctx, dout):
                grads = backward(dout.detach().numpy(), ctx.cache)
                grads = grads if isinstance(grads, tuple) else (grads,)
                return tuple(torch.from_numpy(np.ascontiguousarray(g)) for g in grads)
        return F.apply

    def check(fn, arrays, seed):
        torch.manual_seed(seed)
        tensors = tuple(torch.from_numpy(a).requires_grad_(True) for a in arrays)
        return bool(torch.autograd.gradcheck(fn, tensors, fast_mode=True, raise_exception=False))

    def layer(seed, r):
        return check(numpy_function(affine_forward, lambda d, c: affine_backward(d, c, r)), layer_args(seed), seed)

    def hessian(seed, r):
        v, U = hessian_args(seed)
        fn = numpy_function(lambda v: (ce_grad(v, U), v), lambda d, v: ce_hess(v, U, r) @ d)
        return check(fn, (v,), seed)

    def hvp(seed, r):
        v, U = hessian_args(seed, 300, 50_000)
        fn = numpy_function(lambda v: (ce_grad(v, U), v), lambda d, v: ce_hvp(d, v, U, r))
        return check(fn, (v,), seed)

    return {"layer": layer, "hessian": hessian, "hvp": hvp}


# ---------------------------------------------------------------- the table
def measure(checker, seeds: int) -> tuple[float, bool, str]:
    t0 = time.perf_counter()
    right = all(checker(s, 0.0) for s in range(seeds))
    seconds = (time.perf_counter() - t0) / seeds
    caught = ""
    for r in RELATIVE:
        if all(not checker(s, r) for s in range(seeds)):
            caught = f"{r:.0e}"
        else:
            break
    return seconds, right, caught or "none"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--no-torch", action="store_true", help="gradverify only")
    parser.add_argument("--cases", default="layer,hessian,hvp", help="comma-separated: layer, hessian, hvp")
    add_write_option(parser)
    args = parser.parse_args(argv)
    checkers = {"gradverify": {"layer": gv_layer, "hessian": gv_hessian, "hvp": gv_hvp}}
    if not args.no_torch:
        try:
            checkers["torch gradcheck fast"] = torch_checkers()
        except ImportError:
            print("torch not installed: gradverify only")
    rows = []
    for case in args.cases.split(","):
        for name, table in checkers.items():
            seconds, right, caught = measure(table[case], args.seeds)
            rows.append([case, name, f"{seconds:.3f}", "yes" if right else "NO (false alarm)", caught])
    print(tabulate(rows, headers=["case", "checker", "s per check", "right passes", "smallest r caught"]))


if __name__ == "__main__":
    with recorded(__file__):  # --write PATH: the output into its region of that page
        main()
