"""Running many derivations: each in a process of its own, in parallel, under limits.

Every derivation file is imported and checked in a process of its own, never in
the process that writes the report. A runner starts one worker per job
(`gradverify.isolation.Worker` with ``fork_each_call``: numpy, sympy, hypothesis
and gradverify already imported) and reuses it for every task, each task in a
fresh fork of it; a worker is replaced only when it died or was killed
(`Runner.close` stops them at the end):

* a derivation that loops, eats memory, exits, crashes or raises
  ``KeyboardInterrupt`` becomes ERROR rows that say why, and every other
  derivation still gets its verdict;
* nothing one derivation changes (numpy's error state, the global RNGs, warning
  filters, ``sys.path``, ``sys.modules``, the current folder) reaches another,
  and two folders may each have a helper module of the same name;
* a derivation's worker has the same modules loaded whether it runs alone
  (``--only``) or in a full run, whatever ``--jobs`` is: hypothesis draws
  constants it finds in loaded modules, so this is what keeps a seed's report
  the same.

First each file is imported in a worker to learn which derivations it defines
(`Summary`); then each derivation is checked in a fresh worker that imports its
file again. Ctrl-C (or SIGTERM, see `Interrupted`) kills the workers and
returns at once.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .isolation import DEFAULT_LIMITS, Ending, Limits, Outcome, Worker, call_here, describe_bytes, describe_seconds
from .loading import LoadFailure, discover, duplicate, load_file
from .tracebacks import describe, trim_text

__all__ = ["Runner", "Progress", "Interrupted", "Summary", "ClaimName", "DEFAULT_LIMITS", "find_derivations",
           "check_all", "mutants_all"]



class Interrupted(BaseException):
    """The run was stopped by a signal (SIGINT, SIGTERM); the workers are gone."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@dataclass(frozen=True)
class ClaimName:
    name: str
    as_written: str
    expect: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class Summary:
    """What the report needs to know of a derivation without importing it: enough for
    ``list``, for ERROR rows when its check crashes, and for ordering the work."""

    id: str
    title: str
    path: str
    citation: str
    origin: str
    variables: tuple[tuple[str, str], ...]
    assumptions: tuple[tuple[str, str], ...]
    claims: tuple[ClaimName, ...]
    #: the library the implementation is written in: numpy, torch or jax (said or detected)
    written_in: str = "numpy"

    @property
    def weight(self) -> int:
        """How long it takes, roughly: each assumption can mean a rerun of every claim."""
        return len(self.claims) * (1 + len(self.assumptions))


class Progress:
    """One line on ``stream`` saying what is running, shown once a run takes longer
    than ``delay`` seconds; off unless ``enabled`` (the CLI: stderr is a terminal, no ``--quiet``)."""

    def __init__(self, stream=None, *, enabled: bool = False, delay: float = 2.0, detail: str = ""):
        self.stream = stream if stream is not None else sys.stderr
        self.enabled, self.delay, self.detail = enabled, delay, detail
        self._start = time.monotonic()
        self._shown = False

    def update(self, phase: str, done: int, total: int, running: list[str]) -> None:
        if not self.enabled or time.monotonic() - self._start < self.delay:
            return
        names = ", ".join(running[:4]) + (", …" if len(running) > 4 else "")
        detail = f" ({self.detail})" if self.detail else ""
        self.stream.write(f"\r\x1b[K{phase}{detail}: {done}/{total} done; running {names}")
        self.stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._shown = False


@dataclass
class _Task:
    label: str
    fn: Callable
    args: tuple
    weight: int = 0


@dataclass
class Runner:
    """Runs tasks each in a fresh `Worker` under ``limits``, ``jobs`` at a time.
    ``in_process``: one after the other in this process instead, with no limits and
    no isolation (``--in-process``: for a debugger, or a test that patches gradverify)."""

    limits: Limits = DEFAULT_LIMITS
    jobs: int = 1
    progress: Progress = field(default_factory=Progress)
    in_process: bool = False
    #: the options that raise the time and memory limits, named in the hint of a row that hit one
    flags: tuple[str, str] = ("--timeout", "--max-memory")
    #: time each derivation's check in its worker (`gradverify.profiling.Profile`, in ``profiles`` by id)
    profile: bool = False
    profiles: dict = field(default_factory=dict, init=False)
    _active: dict = field(default_factory=dict, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _stopping: bool = field(default=False, init=False, repr=False)
    _idle: list = field(default_factory=list, init=False, repr=False)
    notes: list[str] = field(default_factory=list, init=False)

    def map(self, phase: str, tasks: list[_Task]) -> list[Outcome]:
        """Each task's outcome, in order (the heaviest start first). On Ctrl-C: the
        workers are killed and the KeyboardInterrupt (or `Interrupted`) goes on."""
        if not tasks:
            return []
        if self.in_process:
            return [call_here(t.fn, *t.args) for t in tasks]
        order = sorted(range(len(tasks)), key=lambda i: -tasks[i].weight)
        results: dict[int, Outcome] = {}
        pool = ThreadPoolExecutor(max(1, min(self.jobs, len(tasks))), thread_name_prefix="gradverify-run")
        try:
            futures = {pool.submit(self._one, tasks[i]): i for i in order}
            pending = set(futures)
            while pending:
                done, pending = wait_futures(pending, timeout=0.25, return_when=FIRST_COMPLETED)
                for f in done:
                    results[futures[f]] = f.result()
                self.progress.update(phase, len(results), len(tasks), self._running())
        except BaseException:
            self.stop()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self.progress.finish()
        return [results[i] for i in range(len(tasks))]

    def close(self) -> None:
        """Stop the workers this runner keeps between tasks (call it when the run is over)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for w in idle:
            w.close()

    def _worker(self) -> Worker:
        """An idle worker of this runner, or a new one (not started yet): started once, each task in a
        fork of it. Called holding ``_lock``."""
        if self._idle:
            return self._idle.pop()
        return Worker(self.limits, fork_each_call=True, warm=_warm_worker)

    def _done_with(self, worker: Worker) -> None:
        if not worker.fork_each_call:  # a worker that runs calls itself is never reused: state would leak
            worker.close()
            return
        with self._lock:
            if not self._stopping:
                self._idle.append(worker)
                return
        worker.close()

    def stop(self) -> None:
        """Kill every worker under way; tasks not started yet do not start (thread-safe)."""
        with self._lock:
            self._stopping = True
            workers = list(self._active)
            idle, self._idle = self._idle, []
        for w in workers:
            w.kill()
        for w in idle:
            w.kill()
            w.close()

    def _running(self) -> list[str]:
        with self._lock:
            return list(self._active.values())

    def _one(self, task: _Task) -> Outcome:
        with self._lock:  # (one step: a `stop` between the test and the registration would miss the worker)
            if self._stopping:
                return Outcome(Ending.KILLED, message="stopped (interrupted)")
            worker = self._worker()
            self._active[worker] = task.label
        try:
            outcome = worker.call(task.fn, *task.args)
            for note in worker.notes:
                if note not in self.notes:
                    self.notes.append(note)
            return outcome
        finally:
            with self._lock:
                self._active.pop(worker, None)
            self._done_with(worker)


# ---------------------------------------------------------------- why a worker did not return
def why_it_ended(outcome: Outcome, limits: Limits, flags: tuple[str, str] = ("--timeout", "--max-memory")) -> str:
    """Why a task did not return, naming the limit it hit and the option that raises it."""
    if outcome.kind is Ending.TIMEOUT:
        return f"did not return within {describe_seconds(limits.timeout)} (raise {flags[0]} if it needs longer)"
    if outcome.kind is Ending.MEMORY and limits.max_memory:
        return (f"exceeded {describe_bytes(limits.max_memory)} of memory "
                f"(raise {flags[1]} if it needs more)")
    return outcome.message


def _traceback_of(outcome: Outcome) -> str:
    """What ``report --traceback`` shows for a worker that did not return: the traceback of what
    it raised, in the user's frames, or why there is none."""
    if outcome.traceback:
        return trim_text(outcome.traceback)
    return "no traceback: " + _NO_TRACEBACK.get(outcome.kind, "the worker raised no exception")


_NO_TRACEBACK = {
    Ending.EXITED: "the code ended its process without an exception (os._exit), which leaves none behind",
    Ending.CRASHED: "the process was killed by a signal, which leaves none behind",
    Ending.TIMEOUT: "the worker was stopped at the time limit, wherever it was",
    Ending.MEMORY: "the worker ran out of memory",
    Ending.KILLED: "the run was interrupted",
}


# ---------------------------------------------------------------- phase 1: which derivations
def _describe(path: str, neighbours: tuple[str, ...], limits: Limits | None = None,
              flags: tuple[str, str] = ("--timeout", "--max-memory")):
    """In a worker: the summaries of the derivations ``path`` defines, and its load failures."""
    # in a worker (limits given) its modules stay, as the checks will find them; in this process
    # (--in-process) they go, so that another folder's helper of the same name is its own
    found, failures = load_file(path, neighbours, keep_modules=limits is not None)
    memory = _memory_limit(limits, flags)
    for f in failures:
        f.message = _one_message(f.message)
        if memory and "MemoryError" in f.message:
            f.message = f"{f.message} ({memory})"
    return [summary_of(d, path) for d in found], failures


#: a row's message longer than this many lines (a user's exception with a page of text) is cut:
#: the first lines name the cause, and the traceback (``--traceback``, ``--tb=long``) keeps it all
MESSAGE_LINES = 10
MESSAGE_CHARS = 4000


def _one_message(text: str) -> str:
    """``text`` cut to `MESSAGE_LINES` lines and `MESSAGE_CHARS` characters, saying how much was cut."""
    lines = text.splitlines()
    if len(lines) <= MESSAGE_LINES and len(text) <= MESSAGE_CHARS:
        return text
    kept = "\n".join(lines[:MESSAGE_LINES])[:MESSAGE_CHARS]
    return f"{kept} … ({len(lines) - kept.count(chr(10)) - 1} more lines, {len(text) - len(kept)} more characters)"


def summary_of(d, path: str) -> Summary:
    """What the report keeps of derivation ``d`` defined in ``path``."""
    return Summary(d.id, d.title, path, d.citation, d.origin,
                   tuple((n, k.describe()) for n, k in d.variables.items()),
                   tuple((a.text, a.source) for a in d.assumptions),
                   tuple(ClaimName(c.name, c.as_written, c.expect, c.reason) for c in d.claims),
                   d.implementation.written_in)


def find_derivations(paths, runner: Runner, neighbours: tuple[str, ...] | None = None
                     ) -> tuple[list[Summary], list[LoadFailure]]:
    """Every derivation under ``paths``, each file imported in a worker of its own. ``neighbours``:
    the derivation files whose derivations a file may import without defining them (default: those
    under ``paths``)."""
    files = [str(f) for f in discover(paths)]
    neighbours = tuple(files) if neighbours is None else tuple(neighbours)
    limits = None if runner.in_process else runner.limits
    tasks = [_Task(Path(f).name, _describe, (f, neighbours, limits, runner.flags)) for f in files]
    summaries: list[Summary] = []
    failures: list[LoadFailure] = []
    seen: dict[str, str] = {}
    for file, outcome in zip(files, runner.map("loading", tasks)):
        if not outcome.ok:
            failures.append(LoadFailure(file, f"{file} {why_it_ended(outcome, runner.limits, runner.flags)} during import",
                                        _traceback_of(outcome)))
            continue
        found, failed = outcome.value
        failures += [LoadFailure(file, f.message, f.traceback) for f in failed]
        for s in found:
            if s.id in seen:
                failures.append(duplicate(s.id, file, seen[s.id]))
                continue
            seen[s.id] = file
            summaries.append(s)
    return summaries, failures


# ---------------------------------------------------------------- phase 2: checking
def _digest_of(path: str, derivation_id: str) -> str | None:
    """In a worker: the `gradverify.fingerprint.digest` of what ``path`` defines as ``derivation_id``."""
    from .fingerprint import digest

    return digest(_load_one(path, derivation_id))


def fingerprint_task(path: str, derivation_id: str) -> _Task:
    """A task for `Runner.map`: the digest of ``derivation_id`` as ``path`` defines it on import."""
    return _Task(derivation_id, _digest_of, (path, derivation_id))


def _hypothesis_home_outside_the_project() -> None:
    """In a worker: hypothesis keeps its cache of constants under the system's temporary folder,
    not in ./.hypothesis (a report with --no-write writes nothing where it runs). The cache is
    keyed by each module's source, so runs may share it; the examples database is off."""
    import tempfile

    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "gradverify-hypothesis")


def _warm_worker() -> None:
    """In a worker, before its first fork: what each check would otherwise do first, in every fork.
    hypothesis scans the modules loaded for constants (kept per process; each fork then scans only
    the modules its derivation adds, and draws from the same constants as before) and sets up the
    random generators it seeds for each test (seeded again for each, so no state carries over).
    hypothesis's private helper may move in a later release: what this raises is ignored (`Worker.warm`),
    and each fork then does that work itself, as before."""
    _hypothesis_home_outside_the_project()
    from hypothesis.internal.conjecture.providers import _get_local_constants
    from hypothesis.internal.entropy import deterministic_PRNG

    _get_local_constants()
    with deterministic_PRNG(0):
        pass


def _load_one(path: str, derivation_id: str, keep_modules: bool = True):
    _hypothesis_home_outside_the_project()
    found, failures = load_file(path, keep_modules=keep_modules)
    for d in found:
        if d.id == derivation_id:
            return d
    from .errors import DerivationError

    raise DerivationError(failures[0].message if failures else f"{path} no longer defines {derivation_id!r}")


#: a floor on the seconds the checks spend per entry of the variables and per example: each entry
#: is perturbed by finite differences (two to four calls) and evaluated by the spec at 50 digits.
#: Measured 7e-4 s per entry-example on ½‖x‖² at n = 100..400 (2 loaded cores); the floor is 7×
#: below it, so only sizes that cannot finish are refused
SECONDS_PER_ENTRY = 1e-4


def too_big(d, examples: int, timeout: float, flag: str = "--timeout") -> str:
    """Why the declared sizes of ``d`` cannot be checked within ``timeout`` ("" when they can): the
    entries of its real variables at the largest sizes ``dims`` allows, times the examples, times
    `SECONDS_PER_ENTRY`, said with the numbers, before any check starts."""
    from math import prod

    from .spec import Real, resolve_sizes

    largest = {n: r[1] for n, r in d.dims.items() if isinstance(r, tuple)}
    try:
        largest = resolve_sizes(d.dims, largest)
    except Exception:  # a dimension function that fails is said by the checks, with its own message
        return ""
    entries = sum(prod(largest.get(x, 1) for x in k.dims) for k in d.variables.values() if isinstance(k, Real))
    floor = entries * examples * SECONDS_PER_ENTRY
    if floor <= timeout:
        return ""
    sizes = ", ".join(f"{n}={v:,}" for n, v in largest.items())
    return (f"the declared sizes are too large to check in {describe_seconds(timeout)}: at the largest ({sizes}) the "
            f"variables hold {entries:,} entries, and every entry is checked at each of {examples} examples (at "
            f"least {floor:,.0f} s); declare smaller dims (small sizes find the same mistakes), or raise {flag}; "
            "for large sizes use gradverify.gradcheck")


def _check(path: str, derivation_id: str, options, reproduce: str, limits: Limits | None = None,
           flags: tuple[str, str] = ("--timeout", "--max-memory"), profile: bool = False):
    """In a worker: the claim rows and cost results of one derivation (``cli``'s old ``_check_one``),
    and with ``profile`` where its time went (`gradverify.profiling.Profile`), else None. ``limits``: the worker's, for
    refusing sizes that cannot be checked in time and for naming the memory limit a MemoryError hit."""
    if not profile:
        return (*_check_one(path, derivation_id, options, reproduce, limits, flags), None)
    import cProfile

    timings: dict[str, float] = {}
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    try:
        rows, costs = _check_one(path, derivation_id, options, reproduce, limits, flags, timings)
    finally:
        profiler.disable()
    from .profiling import Profile

    return rows, costs, Profile.of(profiler, time.perf_counter() - start, timings.get("import", 0.0))


def _check_one(path: str, derivation_id: str, options, reproduce: str, limits: Limits | None,
               flags: tuple[str, str], timings: dict | None = None):
    from .checks import check_derivation
    from .results import error_rows
    from .cost import check_cost
    from .errors import GradverifyError

    start = time.perf_counter()
    d = _load_one(path, derivation_id, keep_modules=limits is not None)
    if timings is not None:
        timings["import"] = time.perf_counter() - start
    big = too_big(d, options.examples, limits.timeout, flags[0]) if limits is not None else ""
    try:
        if big:
            rows = error_rows(d.id, d.title, big, d.claims, reproduce)
        else:
            rows = check_derivation(d, options, reproduce)
    except GradverifyError as exc:
        rows = error_rows(d.id, d.title, str(exc), d.claims, reproduce, describe(exc))
    except Exception as exc:  # a bug of ours must not stop the other derivations either: its whole traceback
        rows = error_rows(d.id, d.title, f"gradverify failed on this derivation: {type(exc).__name__}: {exc}",
                          d.claims, reproduce, "".join(traceback.format_exception(exc)).rstrip("\n"))
    if options.mathml:
        _attach_math(d, rows)
    memory = _memory_limit(limits, flags)
    for row in rows:
        row.message = _one_message(row.message)
        if memory and "MemoryError" in row.message:  # caught in the checks as the code's own error: say the limit
            row.message = f"{row.message} ({memory})"
    costs = []
    for claim in d.costs:
        result = check_cost(claim, options.seed)
        result.derivation = d.id
        costs.append(result)
    return rows, costs


def _attach_math(d, rows) -> None:
    """Each row's function, claim and as-written text as MathML, made here where the derivation is
    loaded (the report, in the parent process, never imports user code, sympy or the steps grammar)."""
    from .mathml import attach_math

    attach_math(rows, d)


def _memory_limit(limits: Limits | None, flags: tuple[str, str]) -> str:
    """How a MemoryError names the limit it hit (the worker's address space is capped there)."""
    if limits is None or limits.max_memory is None:
        return ""
    return (f"the memory limit, {describe_bytes(limits.max_memory)} per derivation, was hit: raise "
            f"{flags[1]} if it needs more")


def check_all(summaries: list[Summary], options, runner: Runner, reproduce: Callable[[str], str]):
    """Claim rows (in the order of ``summaries``) and cost results of every derivation."""
    from .results import error_rows

    tasks = [_Task(s.id, _check, (s.path, s.id, options, reproduce(s.id),
                                      None if runner.in_process else runner.limits, runner.flags, runner.profile),
                   s.weight)
             for s in summaries]
    rows, costs = [], []
    for s, outcome in zip(summaries, runner.map("checking", tasks)):
        if outcome.ok:
            rows += outcome.value[0]
            costs += outcome.value[1]
            if outcome.value[2] is not None:
                runner.profiles[s.id] = outcome.value[2]
        else:
            message = f"{why_it_ended(outcome, runner.limits, runner.flags)} while checking {s.id} ({Path(s.path).name})"
            failed = error_rows(s.id, s.title, message, s.claims, reproduce(s.id), _traceback_of(outcome))
            _attach_math(None, failed)  # their as-written text, as the checked rows have it
            rows += failed
    return rows, costs


# ---------------------------------------------------------------- mutation self-test
@dataclass(frozen=True)
class MutantRow:
    claim: str
    operator: str
    description: str
    status: str
    refuted_by: tuple[str, ...]
    expression: str
    detail: str = ""


def _mutants(path: str, derivation_id: str, options) -> list[MutantRow] | str:
    from .errors import GradverifyError
    from .mutation import run_mutants

    try:
        results = run_mutants(_load_one(path, derivation_id), options)
    except GradverifyError as exc:
        return str(exc)
    return [MutantRow(r.mutant.claim, r.mutant.operator, r.mutant.description, r.status, tuple(r.refuted_by),
                      str(r.expression), r.detail) for r in results]


def mutants_all(summaries: list[Summary], options, runner: Runner) -> list[tuple[Summary, list[MutantRow] | str]]:
    """For each derivation: its mutants' results, or why they could not be made (one line)."""
    tasks = [_Task(s.id, _mutants, (s.path, s.id, options), s.weight) for s in summaries]
    out = []
    for s, outcome in zip(summaries, runner.map("mutants", tasks)):
        if outcome.ok:
            out.append((s, outcome.value))
        else:
            out.append((s, f"{why_it_ended(outcome, runner.limits, runner.flags)} while making mutants of {s.id}"))
    return out
