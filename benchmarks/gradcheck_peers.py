"""gradverify's numeric check against the peers, on the naive-softmax loss with x = [v_c, U].

    python benchmarks/gradcheck_peers.py [--sizes small,medium,large] [--seeds 3] [--budget 2]

For each size (d=10 V=50; d=50 V=2000; d=300 V=50,000) and each checker, in one run:
the time of one check of the right gradient, that time as a multiple of one
loss-and-gradient evaluation, whether the right gradient passed on every seed (a
false alarm otherwise), and the detection power: the smallest relative error
(planted in one entry of ∂J/∂U as r × max|g|, r = 1e-2 … 1e-10) caught on every
seed. A checker whose estimated time for one check at a size passes --budget
seconds is marked with that estimate, not run (finding its detection power takes
about 30 checks). Then the report's own timings: the whole default report and the symbolic
checks of the seed.

Checkers and their pass rules:
- gradverify: gradverify.gradcheck, mode auto (directional above 256 entries), estimator auto.
- word2vec loop: the assignment's gradcheck_naive, every entry, h = 1e-4, fails when
  |a − n| / max(1, |a|, |n|) > 1e-5.
- scipy check_grad all / random: returns ‖g − approx‖₂ and no verdict; counted as caught
  when the planted run's figure is 10× the right run's (the same seed), a rule kinder
  than any fixed threshold.
- torch gradcheck slow / fast: the claimed gradient as the backward of a
  torch.autograd.Function, float64, default eps, atol, rtol (torch is optional:
  `pip install torch==2.13.0`, the CPU build).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from tabulate import tabulate
from _page import add_write_option, recorded  # benchmarks/_page.py: --write

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "derivations"))

import b_softmax_grad_center as b  # noqa: E402
from gradverify.checking import gradcheck  # noqa: E402

SIZES = {"small": (10, 50), "medium": (50, 2000), "large": (300, 50_000)}
RELATIVE = [10.0 ** -k for k in range(2, 11)]
PLANT_AT = (1, 7)


def problem(d, V, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=d) * 0.3, int(rng.integers(V)), rng.normal(size=(d, V)) * 0.3


def implementation(r: float, scale: float):
    """The naive-softmax loss and gradients, with r × scale added to one entry of ∂J/∂U."""
    def fn(v_c, o, U):
        loss, g_v, g_U = b.naive_softmax_loss_and_gradient(v_c, o, U)
        if r:
            g_U = g_U.copy()
            g_U[PLANT_AT] += r * scale
        return loss, g_v, g_U
    return fn


def timed(fn, *args, repeat=3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


# ---------------------------------------------------------------- the checkers: (fn, v_c, o, U) -> passed?
def check_gradverify(fn, v_c, o, U, seed):
    return gradcheck(fn, (v_c, o, U), wrt=(0, 2), seed=seed).ok


def check_word2vec(fn, v_c, o, U, seed):
    """The assignment's loop: every entry of x = [v_c, U], stop at the first failure."""
    _, g_v, g_U = fn(v_c, o, U)
    for x, g, which in ((v_c, g_v, 0), (U, g_U, 2)):
        for k in range(x.size):
            old = x.flat[k]
            x.flat[k] = old + 1e-4
            fp = fn(v_c, o, U)[0]
            x.flat[k] = old - 1e-4
            fm = fn(v_c, o, U)[0]
            x.flat[k] = old
            numeric, claimed = (fp - fm) / 2e-4, g.flat[k]
            if abs(numeric - claimed) / max(1.0, abs(numeric), abs(claimed)) > 1e-5:
                return False
    return True


def _packed(fn, v_c, o, U):
    d = v_c.size

    def split(x):
        return x[:d], x[d:].reshape(U.shape)

    def f(x):
        return fn(*split(x)[:1], o, split(x)[1])[0]

    def g(x):
        _, g_v, g_U = fn(split(x)[0], o, split(x)[1])
        return np.concatenate([g_v, g_U.ravel()])

    return f, g, np.concatenate([v_c, U.ravel()])


def scipy_figure(direction):
    def figure(fn, v_c, o, U, seed):
        from scipy.optimize import check_grad

        f, g, x0 = _packed(fn, v_c, o, U)
        kw = {"direction": direction}
        if direction == "random":
            kw["rng"] = np.random.default_rng(seed)
        return check_grad(f, g, x0, **kw)
    return figure


def torch_check(fast):
    def check(fn, v_c, o, U, seed):
        import torch

        class Loss(torch.autograd.Function):
            @staticmethod
            def forward(ctx, tv, tU):
                loss, g_v, g_U = fn(tv.detach().numpy(), o, tU.detach().numpy())
                ctx.save_for_backward(torch.from_numpy(np.asarray(g_v)), torch.from_numpy(np.asarray(g_U)))
                return torch.tensor(loss, dtype=torch.float64)

            @staticmethod
            def backward(ctx, grad_out):
                g_v, g_U = ctx.saved_tensors
                return grad_out * g_v, grad_out * g_U

        torch.manual_seed(seed)
        inputs = (torch.tensor(v_c, requires_grad=True), torch.tensor(U, requires_grad=True))
        return torch.autograd.gradcheck(Loss.apply, inputs, fast_mode=fast, raise_exception=False)
    return check


CHECKERS = {
    "gradverify (auto)": ("verdict", check_gradverify, lambda n: 2),
    "word2vec loop (h=1e-4)": ("verdict", check_word2vec, lambda n: 2 * n),
    "scipy check_grad all": ("figure", scipy_figure("all"), lambda n: n + 1),
    "scipy check_grad random": ("figure", scipy_figure("random"), lambda n: 3),
    "torch gradcheck slow": ("verdict", torch_check(False), lambda n: 2 * n + 1),
    "torch gradcheck fast": ("verdict", torch_check(True), lambda n: 4),
}


def torch_available() -> bool:
    try:
        import torch  # noqa: F401  (only whether it imports)
        return True
    except ImportError:
        return False


def run_size(name, seeds, budget):
    d, V = SIZES[name]
    n = d + d * V
    rows = []
    problems = [problem(d, V, s) for s in range(seeds)]
    eval_time, _ = timed(b.naive_softmax_loss_and_gradient, *problems[0])
    for checker, (kind, check, evals) in CHECKERS.items():
        if checker.startswith("torch") and not torch_available():
            rows.append([name, checker, "torch not installed", "", "", ""])
            continue
        estimate = evals(n) * eval_time * (3.0 if checker.startswith("torch") else 1.5)  # torch: tensor overhead
        if estimate > budget:
            rows.append([name, checker, f"too slow: ~{estimate:,.0f} s a check (estimated)", "", "", "not run"])
            continue
        scales = []
        clean_ok, clean_time, baseline = True, float("inf"), []
        for s, (v_c, o, U) in enumerate(problems):
            _, g_v, g_U = b.naive_softmax_loss_and_gradient(v_c, o, U)
            scales.append(max(np.abs(g_v).max(), np.abs(g_U).max()))
            t, out = timed(check, implementation(0.0, scales[-1]), v_c.copy(), o, U.copy(), s,
                           repeat=3 if estimate < 5 else 1)
            clean_time = min(clean_time, t)
            if kind == "verdict":
                clean_ok &= bool(out)
            else:
                baseline.append(out)
        power = "none ≥ 1e-2"
        for r in RELATIVE:
            caught = []
            for s, (v_c, o, U) in enumerate(problems):
                out = check(implementation(r, scales[s]), v_c.copy(), o, U.copy(), s)
                caught.append(not out if kind == "verdict" else out > 10 * baseline[s])
            if not all(caught):
                break
            power = f"{r:.0e}"
        rows.append([name, checker, f"{clean_time:.4f} s", f"{clean_time / eval_time:,.1f}×",
                     "yes" if clean_ok else "FALSE ALARM", power])
    return eval_time, rows


def report_timings():
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "gradverify", "report", "--no-write"], cwd=ROOT, env=env,
                   capture_output=True, check=False)
    whole = time.perf_counter() - t0
    from gradverify.loading import load
    from gradverify.symbolic import check_symbolic

    derivations, _ = load([ROOT / "derivations"])
    t0 = time.perf_counter()
    for d in derivations:
        check_symbolic(d, tuple(d.assumptions), 0)
    symbolic = time.perf_counter() - t0
    return whole, symbolic


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", default="small,medium,large")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--budget", type=float, default=2.0, help="seconds one check may take (estimated)")
    add_write_option(p)
    args = p.parse_args()
    print(f"{time.strftime('%Y-%m-%d')} · {platform.machine()} · {os.cpu_count()} cores · Python "
          f"{platform.python_version()} · numpy {np.__version__} · seeds {args.seeds}")
    rows = []
    for name in args.sizes.split(","):
        eval_time, size_rows = run_size(name, args.seeds, args.budget)
        d, V = SIZES[name]
        print(f"{name}: d={d} V={V}, {d + d * V:,} entries, one loss-and-gradient evaluation {eval_time * 1e3:.3f} ms",
              flush=True)
        rows += size_rows
    print(tabulate(rows, headers=["size", "checker", "time (right gradient)", "× one evaluation",
                                  "right gradient passes", "smallest error caught"]))
    whole, symbolic = report_timings()
    print(f"\npython -m gradverify report (default, imports included): {whole:.2f} s; "
          f"symbolic checks of the seed, together: {symbolic:.2f} s")
    return 0


if __name__ == "__main__":
    with recorded(__file__):  # --write PATH: the output into its region of that page
        sys.exit(main())
