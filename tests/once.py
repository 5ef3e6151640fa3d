"""One expensive run shared by the tests of a whole test run, on every pytest-xdist worker.

pytest-xdist gives each worker its own process, so a module's cache or a session fixture runs
once per worker that needs it (and --dist loadgroup's xdist_group does not group with pytest 9,
whose nodes no longer take the suffix it writes). `once` runs ``make`` in the first worker to ask,
under a lock in the folder all workers of the run share, and hands every later caller (any worker)
what it returned, as JSON."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path
from typing import Any, Callable


def shared_folder(tmp_path_factory) -> Path:
    """A folder every pytest-xdist worker of this run sees (the run's own base folder without xdist)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def once(tmp_path_factory, name: str, make: Callable[[], Any]) -> Any:
    """``make()`` (its value JSON) run once in this test run, by whichever worker asks first; a worker
    asking meanwhile waits for it."""
    shared = shared_folder(tmp_path_factory)
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        saved = shared / f"{name}.json"
        if saved.exists():
            return json.loads(saved.read_text(encoding="utf-8"))
        value = make()
        saved.write_text(json.dumps(value), encoding="utf-8")
        return value
