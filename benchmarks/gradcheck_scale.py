"""gradcheck at scale: blind spots, dense gradients, first-call cost and the time to locate.

    python benchmarks/gradcheck_scale.py [--parts plants,dense,cost] [--seeds 100] [--dense-seeds 20]

plants: errors of 1e-6 × max|g| planted in 1, 2 and 16 entries (equal, opposite and
  random signs) at N = 10⁵ and 1.5·10⁶ entries, for a dense gradient (least squares
  J = ½‖Wx − t‖², ∂J/∂W = (Wx − t)xᵀ) and a sparse one (an embedding table E of which
  8 rows are used: J = ½‖Σ_rows E − t‖², every other row's gradient 0); the count of
  seeds on which gradcheck (default arguments, seed = the seed) reports the failure.
dense: W 3000 × 5000 (1.5·10⁷ entries): false alarms on the right gradient and
  catches of a single-entry error of 1e-8 × max|g|, over --dense-seeds seeds.
cost: in a fresh process each (the first call, as a user makes it), the time of
  gradcheck on the right gradient and on one with a 1e-6 × max|g| error in one entry
  (reported *and* located), as a multiple of one loss-and-gradient evaluation (the
  median of 3 in the same process; the first of the 3, which pays for the process's fresh
  memory, is shown beside it), for the dense case and word2vec (d=300, V=50,000). Beside
  it, in the same process: the floor of any complex-step check (one real call, one complex
  call on x + i·h·u, writing x + i·h·u into a buffer made and touched beforehand, and
  Σ gradᵀu as one dot product with u made beforehand: no guard, no direction drawn, no
  bookkeeping), and the floor of a *certified* check: that, plus the four real calls of
  central differences at h and 2h that every pass must agree with; then `ROUNDS` rounds,
  each timing the certified floor, a later call, and a later call that passes a `Workspace`
  (its buffers made by an earlier call, as the floor's are), one after the other: each
  ratio is read within its round and the median over the rounds printed (the machine's
  state drifts between rounds). The figures to hold, on a later call: ≤ 1.3 for a right
  gradient, ≤ 4 for locating a wrong entry. Dense at 1.5·10⁶ and 1.5·10⁷ entries. Each process waits `HANDED_BACK` seconds before its first
  evaluation, so that it starts as a fresh process on a quiet machine does (see there). And in a
  fresh process of its own: what 480 MB (the complex step's footprint at this size: x + i·h·u and
  the complex gradient it returns) costs to touch the first time, again at once after freeing it,
  and again once the machine has handed it back.
"""

from __future__ import annotations

import argparse
from _page import add_write_option, recorded  # benchmarks/_page.py: --write
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from tabulate import tabulate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "derivations"))

from gradverify import Workspace, gradcheck


# ---------------------------------------------------------------- problems: (fn, args, wrt, gradient)
def dense(n_entries: int, seed: int, m: int | None = None):
    m = m or int(np.sqrt(n_entries * 3 / 5))
    n = n_entries // m
    rng = np.random.default_rng(seed)
    W, x, t = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=m)

    def fn(W, x, t):
        r = W @ x - t
        return 0.5 * (r @ r), np.outer(r, x)

    return fn, (W, x, t), (0,)


def sparse(n_entries: int, seed: int, d: int = 100):
    rng = np.random.default_rng(seed)
    E = rng.normal(size=(n_entries // d, d))
    rows, t = rng.choice(E.shape[0], size=8, replace=False), rng.normal(size=d)

    def fn(E):
        r = E[rows].sum(axis=0) - t
        g = np.zeros_like(E)
        g[rows] = r
        return 0.5 * (r @ r), g

    return fn, (E,), (0,)


def word2vec(seed: int, d: int = 300, V: int = 50_000):
    import b_softmax_grad_center as b

    rng = np.random.default_rng(seed)
    return b.naive_softmax_loss_and_gradient, (rng.normal(size=d) * 0.3, int(rng.integers(V)),
                                               rng.normal(size=(d, V)) * 0.3), (0, 2)


PROBLEMS = {"dense": dense, "sparse": sparse}


def planted(fn, wrt, where, signs, size):
    """fn with size × signs added to the gradient of args[wrt[0]] at the flat positions ``where``."""
    def wrong(*args):
        out = list(fn(*args))
        g = np.array(out[1], copy=True)
        g.reshape(-1)[where] += signs * size
        out[1] = g
        return tuple(out)
    return wrong


def largest(fn, args, wrt):
    return max(float(np.max(np.abs(g))) for g in fn(*args)[1:1 + len(wrt)])


# ---------------------------------------------------------------- parts
def failed(result) -> bool:
    """A planted error caught: a failure, not an inconclusive check (which resolves too little to say)."""
    return not result.ok and not result.inconclusive


def plants(seeds: int, sizes=(100_000, 1_500_000)) -> list:
    rows = []
    for kind in ("dense", "sparse"):
        for n in sizes:
            fn, args, wrt = PROBLEMS[kind](n, 0)
            size = 1e-6 * largest(fn, args, wrt)
            for count in (1, 2, 16):
                for pattern in (("equal",) if count == 1 else ("equal", "opposite", "random")):
                    caught, t0 = 0, time.perf_counter()
                    for seed in range(seeds):
                        rng = np.random.default_rng(10_000 + seed)
                        where = rng.choice(args[wrt[0]].size, size=count, replace=False)
                        signs = {"equal": np.ones(count), "opposite": np.resize([1.0, -1.0], count),
                                 "random": rng.choice([-1.0, 1.0], size=count)}[pattern]
                        caught += failed(gradcheck(planted(fn, wrt, where, signs, size), args, wrt, seed=seed,
                                                   locate=False))
                    rows.append({"gradient": kind, "N": n, "wrong entries": count, "signs": pattern,
                                 "caught": f"{caught}/{seeds}", "seconds": round(time.perf_counter() - t0, 1)})
                    print(rows[-1], flush=True)
    return rows


def dense_power(seeds: int) -> dict:
    false_alarms = caught = 0
    worst_right = 0.0
    for seed in range(seeds):
        fn, args, wrt = dense(15_000_000, seed, m=3000)
        right = gradcheck(fn, args, wrt, seed=seed)
        false_alarms += not right.ok
        worst_right = max(worst_right, right.error_over_tolerance)
        rng = np.random.default_rng(seed)
        where = rng.choice(args[0].size, size=1)
        size = 1e-8 * largest(fn, args, wrt)
        caught += failed(gradcheck(planted(fn, wrt, where, np.ones(1), size), args, wrt, seed=seed, locate=False))
        print(f"dense seed {seed}: false alarms {false_alarms}, caught {caught}", flush=True)
    return {"seeds": seeds, "false alarms": false_alarms, "worst error/tolerance (right)": round(worst_right, 4),
            "caught 1e-8": f"{caught}/{seeds}"}


def one_cost(problem: str, wrong: bool) -> dict:
    """Run in a fresh process: times of one evaluation and of the first gradcheck call."""
    fn, args, wrt = (dense(15_000_000, 0, m=3000) if problem == "dense" else
                     dense(1_500_000, 0, m=1000) if problem == "dense-1.5e6" else word2vec(0))
    time.sleep(HANDED_BACK)  # what the set-up (and the process before) freed is back with the host
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t0)
    evaluation = sorted(times)[1]
    if wrong:
        k = 1 * args[wrt[-1]].shape[-1] + 7
        fn = planted_last(fn, wrt, k, 1e-6 * largest(fn, args, wrt))
    t0 = time.perf_counter()
    result = gradcheck(fn, args, wrt)
    seconds = time.perf_counter() - t0
    workspace = Workspace()
    gradcheck(fn, args, wrt, workspace=workspace)  # (its first call makes the buffers the later ones reuse)
    # ROUNDS rounds, each timing the certified floor, a later call and a later call with the workspace one
    # after the other: the machine's state drifts (memory handed back to the host), and a ratio is read
    # within a round, then the median over the rounds taken
    floors, certifieds, laters, kepts = [], [], [], []
    made = Floor(fn, args, wrt)
    made.complex_step(), made.cross_check()  # (once untimed: every buffer touched)
    for _ in range(ROUNDS):
        floors.append(made.complex_step())
        certifieds.append(floors[-1] + made.cross_check())
        laters.append(_median_time(lambda: gradcheck(fn, args, wrt), 1))
        kepts.append(_median_time(lambda: gradcheck(fn, args, wrt, workspace=workspace), 1))
    del workspace, made
    floor, certified = _median(floors), _median(certifieds)
    later = _median([t / c for t, c in zip(laters, certifieds)]) * certified
    kept = _median([t / c for t, c in zip(kepts, certifieds)]) * certified
    return {"problem": problem, "gradient": "wrong (1e-6, one entry)" if wrong else "right", "ok": result.ok,
            "located": [str(e) for e in result.located], "evaluations": result.evaluations,
            "seconds": round(seconds, 3), "one evaluation (s)": round(evaluation, 4),
            "× one evaluation": round(seconds / evaluation, 1),
            # the process's first evaluation: what its fresh memory costs on this machine
            "first evaluation (s)": round(times[0], 4),
            "later call ×": round(later / evaluation, 1),
            "complex-step floor ×": round(floor / evaluation, 1),
            # the floor of a certified check: the complex-step floor and the four real calls of central
            # differences at h and 2h along the same direction (buffers made beforehand)
            "certified floor ×": round(certified / evaluation, 1),
            "first call / certified floor": round(seconds / certified, 2),
            "later call / certified floor": round(later / certified, 2),
            "later call, workspace= / certified floor": round(kept / certified, 2)}


#: rounds of (certified floor, later call, later call with a workspace) timed in turn
ROUNDS = 7


def _median(values: list) -> float:
    return sorted(values)[len(values) // 2]


def _median_time(call, n: int = 3) -> float:
    """The median wall-clock time of ``n`` calls."""
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return sorted(times)[n // 2]


class Floor:
    """The floors, their buffers made and touched once, beforehand (as a `Workspace` keeps gradcheck's):
    u (uniform in (-1, 1), drawn once), x + step·u and x + i·h·u, reused by every timing."""

    def __init__(self, fn, args, wrt):
        rng = np.random.default_rng(0)
        self.fn, self.args, self.wrt = fn, args, wrt
        self.us = {i: rng.uniform(-1, 1, size=args[i].shape) for i in wrt}
        self.bufs = {i: np.zeros(args[i].shape) for i in wrt}
        self.zs = {i: np.zeros(args[i].shape, dtype=complex) for i in wrt}

    def cross_check(self, h: float = 1e-5) -> float:
        """The least the real-arithmetic cross-check of a pass can cost: fn at x ± h·u and x ± 2h·u."""
        t0 = time.perf_counter()
        for step in (h, -h, 2 * h, -2 * h):
            moved = list(self.args)
            for i in self.wrt:
                np.multiply(self.us[i], step, out=self.bufs[i])
                self.bufs[i] += self.args[i]
                moved[i] = self.bufs[i]
            self.fn(*moved)
        return time.perf_counter() - t0

    def complex_step(self, h: float = 1e-20) -> float:
        """The least a complex-step check of fn can cost: a real call, x + i·h·u written, a complex
        call, and Σ gradᵀu as one dot product."""
        t0 = time.perf_counter()
        grads = self.fn(*self.args)[1:1 + len(self.wrt)]
        moved = list(self.args)
        for i in self.wrt:
            self.zs[i].real = self.args[i]
            np.multiply(self.us[i], h, out=self.zs[i].imag)
            moved[i] = self.zs[i]
        np.imag(self.fn(*moved)[0]) / h
        sum(float(np.dot(np.ravel(g), self.us[i].reshape(-1))) for g, i in zip(grads, self.wrt))
        del grads
        return time.perf_counter() - t0


def fresh_memory(megabytes: int = 480) -> dict:
    """Run in a fresh process: ms to fill ``megabytes`` the process never used, again at once after
    freeing them, and again once the machine had time to hand them back (`HANDED_BACK`)."""
    out = {}
    time.sleep(HANDED_BACK)
    for label, wait in (("first touch (ms)", 0.0), ("at once after freeing (ms)", 0.0),
                        (f"{HANDED_BACK:g} s after freeing (ms)", HANDED_BACK)):
        time.sleep(wait)
        t0 = time.perf_counter()
        a = np.ones(megabytes * 2**20 // 8)
        out[label] = round((time.perf_counter() - t0) * 1000, 1)
        del a
    return {"megabytes": megabytes, **out}


#: seconds after which memory a process freed is back with this machine's host: a virtual machine
#: with Linux free page reporting (``page_reporting.page_reporting_order=11`` on this kernel's command
#: line) returns free 8 MB blocks about 2 s after they are freed, and a page handed back costs ~1.5
#: ms/MB to touch again (480 MB: ~30 ms at once after freeing, ~730 ms 3 s later, measured
#: 2026-12-02). Each cost process waits this long before its first evaluation, so every run starts
#: in the same state: nothing freed earlier by another process is still at hand.
HANDED_BACK = 3.0


def page_reporting() -> str:
    """The kernel's free page reporting setting, as its command line states it ('' if none)."""
    try:
        words = Path("/proc/cmdline").read_text().split()
    except OSError:
        return ""
    return " ".join(w for w in words if w.startswith("page_reporting"))


def planted_last(fn, wrt, k, size):
    """fn with ``size`` added to the last wrt gradient at flat position k (index (1, 7) here).

    Added in place: the problems here return a fresh gradient array on every call (np.outer), and
    a copy of it (240 MB complex on a complex-step call) would be the benchmark's cost, not the
    checker's: the wrong function must cost one evaluation, as the right one does."""
    def wrong(*args):
        out = fn(*args)
        np.asarray(out[len(wrt)]).reshape(-1)[k] += size
        return out
    return wrong


#: the issue's targets for a later call, as a multiple of the certified floor
TARGETS = {"right": 1.3, "wrong (1e-6, one entry)": 4.0}


def cost() -> list:
    rows = []
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for problem in ("dense-1.5e6", "dense", "word2vec"):
        for wrong in (False, True):
            out = subprocess.run([sys.executable, __file__, "--one-cost", problem, str(int(wrong))], env=env,
                                 capture_output=True, text=True, check=True)
            rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    out = subprocess.run([sys.executable, __file__, "--one-memory"], env=env, capture_output=True, text=True,
                         check=True)
    memory = json.loads(out.stdout.strip().splitlines()[-1])
    table = [[r["problem"], r["gradient"], "pass" if r["ok"] else "fail, " + "; ".join(r["located"]),
              r["evaluations"], f"{r['one evaluation (s)'] * 1000:.1f} ms", r["certified floor ×"],
              r["first call / certified floor"], r["later call / certified floor"],
              r["later call, workspace= / certified floor"], f"≤ {TARGETS[r['gradient']]:g}",
              "yes" if r["later call, workspace= / certified floor"] <= TARGETS[r["gradient"]] else "NO"]
             for r in rows]
    print(tabulate(table, headers=["problem", "gradient", "verdict", "evaluations", "one evaluation",
                                   "certified floor (evaluations)", "first call / floor", "later call / floor",
                                   "later call with workspace= / floor", "target", "met (with workspace=)"]))
    print()
    print(f"Each problem in a fresh process. The certified floor is one real call, x + i·h·u written, one "
          f"complex call, one dot product and the four real calls of central differences, its buffers made "
          f"beforehand, as a Workspace keeps gradcheck's; a later call's ratio to it is the median of "
          f"{ROUNDS} rounds that time both in turn (the figures swing with the machine's state). Fresh "
          f"memory here: {memory['megabytes']} MB cost {memory['first touch (ms)']} ms to touch the first time, "
          f"{memory['at once after freeing (ms)']} ms again at once after freeing it, and "
          f"{memory['3 s after freeing (ms)']} ms once the machine had {HANDED_BACK:g} s to take it back.")
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--parts", default="plants,dense,cost")
    p.add_argument("--seeds", type=int, default=100)
    p.add_argument("--dense-seeds", type=int, default=20)
    p.add_argument("--plant-sizes", default="100000,1500000", help="N for the planted errors")
    p.add_argument("--one-cost", nargs=2, help=argparse.SUPPRESS)
    p.add_argument("--one-memory", action="store_true", help=argparse.SUPPRESS)
    add_write_option(p)
    a = p.parse_args()
    if a.one_memory:
        print(json.dumps(fresh_memory()))
        return 0
    if a.one_cost:
        print(json.dumps(one_cost(a.one_cost[0], bool(int(a.one_cost[1])))))
        return 0
    print(f"{time.strftime('%Y-%m-%d')} · {platform.machine()} · {os.cpu_count()} cores · Python "
          f"{platform.python_version()} · numpy {np.__version__} · load {os.getloadavg()[0]:.1f}"
          f"{' · ' + page_reporting() if page_reporting() else ''}", flush=True)
    parts = a.parts.split(",")
    if "cost" in parts:
        cost()
    if "dense" in parts:
        print(dense_power(a.dense_seeds))
    if "plants" in parts:
        plants(a.seeds, tuple(int(n) for n in a.plant_sizes.split(",")))
    return 0


if __name__ == "__main__":
    with recorded(__file__):  # --write PATH: the output into its region of that page
        sys.exit(main())
