"""``--write PATH``: a benchmark script's output written into a marked region of a Markdown page.

Each script owns one region of the page, between ``<!-- BEGIN <script> -->`` and
``<!-- END <script> -->``, and rewrites only that: the command that made it, when and where, and
what the script printed. The figures in docs/benchmarks.md are never edited by hand; a page or a
region that does not exist yet is made.
"""

from __future__ import annotations

import contextlib
import io
import os
import platform
import re
import shlex
import sys
import time
from pathlib import Path

__all__ = ["add_write_option", "recorded", "write_region"]

HEADER = "# Benchmarks\n\nEvery figure on this page is written by the benchmark script named in its section " \
         "(`--write docs/benchmarks.md`); none is edited by hand.\n"


def add_write_option(parser) -> None:
    parser.add_argument("--write", metavar="PATH", type=Path, default=None,
                        help="also write the output into this Markdown page (its region for this script)")


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"


def write_region(path: Path, name: str, body: str) -> None:
    """Replace the region ``name`` of the page at ``path`` with ``body`` (made, if missing)."""
    begin, end = _markers(name)
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    block = f"{begin}\n{body.rstrip()}\n{end}"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip("\n") + f"\n\n## `{name}`\n\n{block}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class _Tee(io.TextIOBase):
    def __init__(self, stream):
        self.stream, self.kept = stream, io.StringIO()

    def write(self, s):
        self.kept.write(s)
        return self.stream.write(s)

    def flush(self):
        self.stream.flush()


def _pop_write(argv: list[str]) -> Path | None:
    """``--write PATH`` (or ``--write=PATH``) taken out of ``argv``: the script's own parser
    lists the option for ``--help`` but never sees it."""
    for i, arg in enumerate(argv):
        if arg == "--write" and i + 1 < len(argv):
            path = argv[i + 1]
            del argv[i:i + 2]
            return Path(path)
        if arg.startswith("--write="):
            del argv[i]
            return Path(arg.split("=", 1)[1])
    return None


@contextlib.contextmanager
def recorded(script_file: str):
    """Run the script's main inside: with ``--write PATH`` on the command line, everything it
    prints to stdout is also written into ``PATH``'s region for this script once it ends
    (whatever its exit code; not when it is interrupted)."""
    path = _pop_write(sys.argv)
    if path is None:
        yield
        return
    script = Path(script_file).stem
    command = shlex.join(["python", f"benchmarks/{script}.py", *sys.argv[1:]])
    tee = _Tee(sys.stdout)
    t0, load = time.perf_counter(), os.getloadavg()[0]
    try:
        with contextlib.redirect_stdout(tee):
            yield
    except SystemExit as done:
        if done.code not in (None, 0, 1):
            raise
        _write(path, script, command, tee.kept.getvalue(), time.perf_counter() - t0, load)
        raise
    _write(path, script, command, tee.kept.getvalue(), time.perf_counter() - t0, load)


def _write(path: Path, script: str, command: str, printed: str, seconds: float, load: float) -> None:
    # the load average: times measured on a busy machine are longer, and the page says so
    body = (f"`{command}`, run {time.strftime('%Y-%m-%d %H:%M %Z')} on {platform.machine()}, "
            f"{os.cpu_count()} cores, Python {platform.python_version()}, {seconds:.0f} s, load average "
            f"{load:.1f} at the start and {os.getloadavg()[0]:.1f} at the end:\n\n"
            f"```text\n{printed.rstrip()}\n```")
    write_region(path, script, body)
    print(f"wrote {path} (region {script})", file=sys.stderr)
