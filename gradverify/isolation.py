"""Running user code in a worker process, under a wall-clock limit and a memory limit.

A derivation file is user code: it may loop, eat memory, call ``sys.exit`` or
``os._exit``, segfault, or raise ``KeyboardInterrupt``. `Worker` runs a
picklable callable in a separate process and turns every way that can end into
a typed `Outcome`, never a hang and never a traceback::

    from gradverify.isolation import Limits, Worker

    with Worker(Limits(timeout=30, max_memory=2 * 2**30)) as worker:
        outcome = worker.call(fn, *args, timeout=5)   # timeout: this call only
    if outcome.ok:
        value = outcome.value
    else:
        print(outcome.kind, outcome.message)          # Ending.TIMEOUT "did not return within 5 s"

* A call that passes its time limit is killed with its process; the next call
  starts a new process (so a proof attempt can be cut off at a deadline).
* ``Worker(limits, fork_each_call=True)`` (POSIX) is started once and reused:
  each call runs in a fresh fork of it, in a process group of its own, and ends
  with it; the worker itself never runs the calls, so nothing one call does
  reaches the next, and only the fork is killed at a time limit. ``warm``: a
  function the worker runs once before its first fork (what every call would
  otherwise do first).
* The memory limit is the address space the user code may add to a fresh
  worker's (``RLIMIT_AS``, POSIX). Where it cannot be set (Windows, some macOS
  versions) the worker still runs and `Worker.memory_enforced` is False:
  `Worker.notes` says why.
* Workers start with the "forkserver" method where the platform has it (a fresh
  worker is forked from a server that has already imported numpy, sympy and
  gradverify), and with "spawn" elsewhere; never by forking the caller, so a
  `Worker` may be used from any thread of a multi-threaded program.
* Each worker ignores SIGINT (the caller decides what Ctrl-C means and calls
  `Worker.kill`), and exits by itself when its caller's process dies.
* Each worker leads a process group of its own (POSIX): the processes user code
  starts (``subprocess.Popen(["sleep", "600"])``) are in it, and are killed with
  it when the worker is killed, replaced or closed; none outlives the run or
  holds its output open.

State lives on each `Worker`; the module has none.
"""

from __future__ import annotations

import enum
import multiprocessing
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import wait
from multiprocessing.reduction import ForkingPickler
from typing import Any, Callable

__all__ = ["Limits", "DEFAULT_LIMITS", "Ending", "Outcome", "Worker", "call_here", "describe_bytes", "describe_seconds", "PRELOAD",
           "MATHML_PRELOAD", "start_early"]

#: what a forkserver imports once, so that a fresh worker starts in milliseconds
PRELOAD = ("numpy", "sympy", "hypothesis", "gradverify.checks", "gradverify.cost", "gradverify.loading",
           # what `import gradverify` loaded before its exports were lazy: hypothesis draws constants
           # from the project's modules loaded, so the same ones keep a seed's examples the same
           "gradverify.testing", "gradverify.spec", "gradverify.results", "gradverify.tolerances",
           "gradverify.checking", "gradverify.checking.scalar",  # (which `gradverify.checking` imports on first use)
           # what the checks import on first use (libraries only: hypothesis draws constants from the
           # modules of the project it runs in, so no module of gradverify's is added here beyond
           # those the checks import before drawing)
           "numpy.random", "hypothesis.extra.numpy", "sympy.combinatorics", "sympy.tensor.tensor",
           "xml.dom.minidom")

#: what a forkserver imports as well when its tasks will write MathML (``report --format html``) or
#: check the steps of a derivation (``report --steps``, ``steps``): the steps' LaTeX grammar, whose
#: parser lark builds on import (0.2-0.4 s), built once there instead of in every task's fork, and
#: for nothing in a report that shows no formula. (Its constants cannot reach a seed's examples: a
#: derivation's points are drawn from integers `HypothesisSource.OFFSET` above any constant a module
#: can hold; the seed's report is the same to the byte with it and without it.)
MATHML_PRELOAD = ("gradverify.mathml", "gradverify.steps.mathml")


def describe_bytes(n: int) -> str:
    """``4 GB``, ``512 MB``, ``1.5 GB`` (powers of 1024)."""
    for unit, size in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def describe_seconds(s: float) -> str:
    return f"{s:g} s"


@dataclass(frozen=True)
class Limits:
    """``timeout``: seconds of wall-clock time per call; ``max_memory``: bytes the
    called code may allocate beyond a fresh worker's own (None: no limit)."""

    timeout: float = 300.0
    max_memory: int | None = 4 * 2**30


#: per derivation, for the report and the pytest plugin alike; the seed passes untouched with
#: --timeout 60 --max-memory 256M (measured on 2 loaded cores)
DEFAULT_LIMITS = Limits(timeout=300.0, max_memory=4 * 2**30)


class Ending(enum.Enum):
    RETURNED = "returned"
    RAISED = "raised"        # an exception (or BaseException) came out of the call
    EXITED = "exited"        # sys.exit, os._exit, or the process ended by itself
    CRASHED = "crashed"      # killed by a signal (SIGSEGV, SIGABRT, ...)
    TIMEOUT = "timeout"
    MEMORY = "memory"
    KILLED = "killed"        # Worker.kill() from another thread (e.g. Ctrl-C)


@dataclass(frozen=True)
class Outcome:
    """How one call ended. ``value``: the return value (RETURNED only).
    ``message``: one line for a person ("crashed with SIGSEGV", "did not return
    within 30 s", "exceeded 2 GB", "raised ValueError: ..."). ``error_type``:
    the exception's class name (RAISED, MEMORY, and EXITED by sys.exit). ``traceback``:
    its formatted traceback, for whoever wants more than the line."""

    kind: Ending
    value: Any = None
    message: str = ""
    error_type: str = ""
    traceback: str = ""

    @property
    def ok(self) -> bool:
        return self.kind is Ending.RETURNED


def _default_context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def start_early(preload=PRELOAD) -> bool:
    """Start the forkserver that workers are forked from now, so that it imports ``preload`` while
    this process goes on with its own imports (else a report's first worker waits for both, one
    after the other: on two cores that is a second of a five-second report). The same server a
    `Worker` starts on its first call (same start method; ``preload`` may add `MATHML_PRELOAD` to a
    Worker's `PRELOAD`), only sooner; it ends with this process. Nothing where workers are spawned (no forkserver). Returns whether it started."""
    context = _default_context()
    if context.get_start_method() != "forkserver":
        return False
    from multiprocessing import forkserver

    context.set_forkserver_preload(list(preload))
    forkserver.ensure_running()
    return True


def _exit_message(code: int | None) -> tuple[Ending, str]:
    if code is None or code >= 0:
        return Ending.EXITED, f"exited with status {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return Ending.CRASHED, f"crashed with {name}"


class Worker:
    """One worker process at a time, started on the first call and replaced
    after a call that killed it. Use it as a context manager, or call `close`.

    ``call(fn, *args, timeout=None, **kwargs) -> Outcome`` runs ``fn(*args,
    **kwargs)`` in the worker; ``fn`` and its arguments and result must be
    picklable (a module-level function). ``timeout`` overrides
    ``limits.timeout`` for this call. `kill` may be called from any thread: the
    call under way returns ``Ending.KILLED``.
    """

    def __init__(self, limits: Limits = Limits(), *, context=None, preload=PRELOAD, fork_each_call: bool = False,
                 warm: Callable[[], Any] | None = None):
        self.limits = limits
        #: with ``fork_each_call``: called once in the worker before its first fork (a module-level
        #: function), to do there what every call would do first; what it raises is ignored
        self.warm = warm
        #: each call in a fresh fork of the worker (POSIX): the worker is started once and reused, and
        #: nothing a call does can reach the next one (see `_serve_forking`)
        self.fork_each_call = fork_each_call and hasattr(os, "fork")
        self._child: int | None = None
        self._context = context or _default_context()
        if self._context.get_start_method() == "forkserver" and preload:
            self._context.set_forkserver_preload(list(preload))
        self._process = None
        self._conn = None
        self._lock = threading.Lock()
        self._killed = False
        #: whether the memory limit is enforced in the current worker (None before it starts)
        self.memory_enforced: bool | None = None
        #: what the worker could not enforce, one line each
        self.notes: list[str] = []

    # ------------------------------------------------------------ lifecycle
    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the worker process now (``call`` does it when needed)."""
        with self._lock:
            if self._process is not None:
                return
            parent, child = self._context.Pipe()
            target, extra = (_serve_forking, (self.warm,)) if self.fork_each_call else (_serve, ())
            process = self._context.Process(target=target, args=(child, self.limits.max_memory, os.getcwd(), *extra),
                                            daemon=True, name="gradverify-worker")
            process.start()
            child.close()
            self._process, self._conn = process, parent
        ready = self._receive(60.0)
        if ready is not None and ready[0] == "ready":
            self.memory_enforced = ready[1]
            if ready[2] and ready[2] not in self.notes:
                self.notes.append(ready[2])

    def kill(self) -> None:
        """Kill the worker process now (thread-safe); a call under way returns ``Ending.KILLED``."""
        with self._lock:
            process, self._killed = self._process, True
        if process is not None and process.is_alive():  # the worker first: it cannot report its fork's end
            _kill_group(process)
        _kill_pid_group(self._child)

    def close(self) -> None:
        """Stop the worker process and wait for it (a few seconds at most)."""
        with self._lock:
            process, conn = self._process, self._conn
            self._process = self._conn = None
        if conn is not None:
            try:
                conn.send(None)  # please exit
            except (OSError, ValueError):
                pass
        if process is not None:
            process.join(2)
            _kill_group(process)  # whatever the user's code started and left running
            process.join(5)
        if conn is not None:
            conn.close()

    # ------------------------------------------------------------ calls
    def call(self, fn: Callable, *args, timeout: float | None = None, **kwargs) -> Outcome:
        limit = self.limits.timeout if timeout is None else timeout
        self.start()
        if self._killed:  # killed while it was starting
            return self._ended()
        try:
            self._conn.send((fn, args, kwargs))
        except (OSError, ValueError, AttributeError):
            return self._ended()
        except Exception as exc:  # not picklable: a mistake of the caller, not of the worker
            return Outcome(Ending.RAISED, message=f"could not send the call: {type(exc).__name__}: {exc}",
                           error_type=type(exc).__name__)
        if self.fork_each_call:
            return self._forked_reply(limit)
        try:
            reply = self._receive(limit)
        except Exception as exc:  # it arrived but cannot be rebuilt here (an object that pickles but won't load)
            self._ended()
            return Outcome(Ending.RAISED, message=f"the result came back but could not be read: {type(exc).__name__}: "
                                                  f"{exc}", error_type=type(exc).__name__)
        if reply is None:
            return self._ended(limit)
        return _outcome(reply, self.limits)

    def _forked_reply(self, limit: float) -> Outcome:
        """The reply of a call run in a fork of the worker: ("started", pid), then the call's reply
        or ("died", status). A call past its limit is killed with its process group; the worker
        stays (it ran no user code) unless it does not answer."""
        deadline = time.monotonic() + limit
        try:
            started = self._receive(limit)
        except Exception:
            started = None
        if not (isinstance(started, tuple) and started and started[0] == "started"):
            return self._ended(limit)
        self._child = started[1]
        try:
            reply = self._receive(max(0.0, deadline - time.monotonic()))
        except Exception as exc:  # it arrived but cannot be rebuilt here (an object that pickles but won't load)
            self._child = None
            return Outcome(Ending.RAISED, message=f"the result came back but could not be read: {type(exc).__name__}: "
                                                  f"{exc}", error_type=type(exc).__name__)
        if reply is None:  # past the limit, or the worker itself is gone
            child, self._child = self._child, None
            if self._process is None or not self._process.is_alive() or self._killed:
                _kill_pid_group(child)
                return self._ended(limit)
            _kill_pid_group(child)
            try:
                died = self._receive(10.0)  # the worker says its fork died: then it is ready again
            except Exception:
                died = None
            if not (isinstance(died, tuple) and died and died[0] == "died"):
                self._ended()
            return Outcome(Ending.TIMEOUT, message=f"did not return within {describe_seconds(limit)}")
        self._child = None
        if isinstance(reply, tuple) and reply and reply[0] == "died":
            if self._killed:  # the fork was killed by `kill`, not by itself
                return self._ended()
            kind, message = _exit_message(reply[1])
            return Outcome(kind, message=message)
        return _outcome(reply, self.limits)

    def _receive(self, timeout: float):
        """The worker's next message, or None when it died, was killed or took longer than ``timeout``."""
        conn, process = self._conn, self._process
        if conn is None or process is None:
            return None
        try:
            ready = wait([conn, process.sentinel], timeout)
            data = conn.recv_bytes() if conn in ready else None
        except (EOFError, OSError, ValueError):  # the connection closed under us
            ready, data = [process.sentinel], None
        if data is not None:  # rebuilt outside the try: an object that will not load is the caller's to see
            return ForkingPickler.loads(data)
        if ready:  # it ended: let its exit status arrive before anyone asks for it
            process.join(5)
        return None

    def _ended(self, limit: float | None = None) -> Outcome:
        """The worker did not answer: say why, and drop it (the next call starts a new one)."""
        with self._lock:
            process, conn, killed = self._process, self._conn, self._killed
            self._process = self._conn = None
            self._killed = False  # said once, in this outcome; the next call starts a new worker
        child, self._child = self._child, None
        _kill_pid_group(child)
        alive = process is not None and process.is_alive()
        timed_out = alive and limit is not None
        if process is not None:
            _kill_group(process)
            process.join(5)
        if conn is not None:
            conn.close()
        if killed:
            return Outcome(Ending.KILLED, message="stopped (interrupted)")
        if timed_out:
            return Outcome(Ending.TIMEOUT, message=f"did not return within {describe_seconds(limit)}")
        kind, message = _exit_message(process.exitcode if process is not None else None)
        return Outcome(kind, message=message)

def _kill_pid_group(pid: int | None) -> None:
    """Kill the process group ``pid`` leads (a fork that ran a call), if it is still there."""
    if pid is not None and hasattr(os, "killpg"):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _kill_group(process) -> None:
    """Kill ``process`` and every process in its group (the worker leads one: see `_serve`)."""
    pid = process.pid
    if pid is not None and hasattr(os, "killpg"):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if process.is_alive():
        process.kill()


def _outcome(reply, limits: Limits) -> Outcome:
    tag = reply[0]
    if tag == "ok":
        return Outcome(Ending.RETURNED, value=reply[1])
    if tag == "exit":
        return Outcome(Ending.EXITED, message=f"exited with status {reply[1]} (sys.exit)", error_type="SystemExit",
                       traceback=reply[2])
    _, type_name, text, tb = reply
    if tag == "memory":
        limit = describe_bytes(limits.max_memory) if limits.max_memory else "the memory available"
        return Outcome(Ending.MEMORY, message=f"exceeded {limit} (MemoryError)", error_type=type_name,
                       traceback=tb)
    return Outcome(Ending.RAISED, message=f"raised {type_name}: {text}".rstrip(": "), error_type=type_name,
                   traceback=tb)


def call_here(fn: Callable, *args, **kwargs) -> Outcome:
    """``fn`` in this process, its ending typed as `Worker.call` types it, with no limits and no
    isolation (for a debugger). A KeyboardInterrupt goes on: here it may be the user's Ctrl-C."""
    try:
        return Outcome(Ending.RETURNED, value=fn(*args, **kwargs))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        return _outcome(_reply(exc), Limits(max_memory=None))


# ---------------------------------------------------------------- in the worker process
def _limit_memory(max_memory: int | None) -> tuple[bool, str]:
    if max_memory is None:
        return True, ""
    try:
        import resource
    except ImportError:
        return False, f"the memory limit ({describe_bytes(max_memory)}) is not enforced on {sys.platform}"
    try:
        with open("/proc/self/statm") as f:
            base = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        base = 0
    try:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = base + max_memory
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ValueError, OSError) as exc:
        return False, f"the memory limit ({describe_bytes(max_memory)}) is not enforced here: {exc}"
    return True, ""


def _jobs(conn):
    """The jobs the parent sends a worker, until it sends None or its end of the pipe closes."""
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        yield job


def _watch_parent(before_exit: Callable[[], Any] | None = None) -> None:
    """Exit when the process that started this worker is gone (no orphan keeps looping)."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def watch():
        parent.join()
        if before_exit is not None:
            before_exit()
        os._exit(70)

    threading.Thread(target=watch, daemon=True, name="gradverify-parent-watch").start()


def _settle_worker(cwd: str) -> None:
    """What every worker does first: ignore Ctrl-C (the parent decides), lead a process group (and
    session) of its own, so that what user code starts is killed with it, and work in the caller's folder."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(os, "setsid"):
        try:
            os.setsid()
        except OSError:
            pass
    try:
        os.chdir(cwd)
    except OSError:
        pass


def _serve(conn, max_memory: int | None, cwd: str) -> None:
    _settle_worker(cwd)
    _watch_parent()
    enforced, note = _limit_memory(max_memory)
    conn.send(("ready", enforced, note))
    for job in _jobs(conn):
        reply = _run(*job)
        try:
            conn.send(reply)
        except Exception as exc:  # the result cannot be pickled: say so instead of dying
            conn.send(("raised", type(exc).__name__, f"the result cannot be sent back: {_one_line(exc)}", ""))


def _run(fn, args, kwargs):
    try:
        return ("ok", fn(*args, **kwargs))
    except BaseException as exc:  # KeyboardInterrupt, GeneratorExit, ... from user code: a result, not our end
        return _reply(exc)


def _reply(exc: BaseException):
    tb = "".join(traceback.format_exception(exc))
    if isinstance(exc, SystemExit):
        code = exc.code if isinstance(exc.code, int) or exc.code is None else 1
        return ("exit", 0 if code is None else code, tb)
    return ("memory" if isinstance(exc, MemoryError) else "raised", type(exc).__name__, _one_line(exc), tb)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else ""


def _exit_with_the_worker(fd: int) -> None:
    """In a fork: end when the worker that forked it is gone (the pipe ``fd`` reads from closes)."""

    def watch():
        try:
            os.read(fd, 1)
        except OSError:
            pass
        os._exit(70)

    threading.Thread(target=watch, daemon=True, name="gradverify-worker-watch").start()


#: the fork running a call in a forking worker (in that worker's process only)
_current_child: list[int] = []


def _serve_forking(conn, max_memory: int | None, cwd: str, warm: Callable[[], Any] | None = None) -> None:
    """A worker started once and reused: each call runs in a fork of it (its own process group),
    which ends with the call. The worker itself runs no user code, so nothing a call does (modules
    it imports, state it changes, processes it starts, the way it ends) reaches the next call;
    each call starts from the same state, with numpy, sympy and hypothesis already imported."""
    _settle_worker(cwd)
    _watch_parent(lambda: [_kill_pid_group(pid) for pid in _current_child])
    if warm is not None:
        try:
            warm()
        except Exception:  # a warm-up only saves time: without it each fork does the same work itself
            pass
    enforced, note = _limit_memory(max_memory)  # inherited by every fork: each may add max_memory to this
    conn.send(("ready", enforced, note))
    for job in _jobs(conn):
        reader, writer = multiprocessing.Pipe(duplex=False)
        go_read, go_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the fork: run the call, send its reply to the worker, end
            code = 0
            try:
                conn.close()
                reader.close()
                os.close(go_write)
                os.setsid()
                if os.read(go_read, 1) != b"g":  # the worker said "started" to the caller, or died
                    os._exit(70)
                _exit_with_the_worker(go_read)
                reply = _run(*job)
                try:
                    writer.send(reply)
                except Exception as exc:  # the result cannot be pickled: say so instead of dying
                    writer.send(("raised", type(exc).__name__, f"the result cannot be sent back: {_one_line(exc)}",
                                 ""))
                for stream in (sys.stdout, sys.stderr):
                    try:
                        stream.flush()
                    except Exception:
                        pass
            except BaseException:
                code = 70
            finally:
                os._exit(code)
        _current_child[:] = [pid]
        writer.close()
        os.close(go_read)
        conn.send(("started", pid))
        os.write(go_write, b"g")  # kept open while the fork runs: it ends itself if this worker dies
        try:
            data = reader.recv_bytes()
        except (EOFError, OSError):
            data = None
        reader.close()
        _, status = os.waitpid(pid, 0)
        os.close(go_write)
        _kill_pid_group(pid)  # what the call started and left running
        _current_child[:] = []
        if data is not None:
            conn.send_bytes(data)
        else:
            conn.send(("died", -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)))
