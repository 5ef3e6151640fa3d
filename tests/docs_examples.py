"""The code examples of README.md and docs/**/*.md, found, run, and their shown outputs compared.

Conventions in the Markdown (HTML comments, invisible on GitHub and in the built site):

* A ```python block whose first line is a file name comment (``# my_losses/least_squares.py``) is a
  file: it is written at that path in the page's scratch folder (later blocks of the page can import
  it or name it on a command line), and run once to show that it loads.
* Any other ```python block is a script: run alone, in that folder, with the package importable.
  The folder also holds ``derivations/`` (the seed's), where the report looks by default.
* ``<!-- skip: reason -->`` just before a block: illustrative only, not run (the test shows the reason).
* ``<!-- output -->`` just before a ```text block: that block is what the runnable block before it
  printed (a ```python script, or a ```sh block of ``python -m gradverify ...`` commands).
  ``<!-- output start="derivation " stop="Estimators" -->`` shows the lines from the first one
  starting with "derivation " to the one before the next starting with "Estimators"; several output
  blocks in a row are excerpts of the same output. Numbers are compared to 3 significant digits (the last digits of a float sum may
  depend on the CPU); everything else must match.

Regenerate every shown output from the code: ``python tests/docs_examples.py --write``.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: the terminal width the shown outputs were made at (the report wraps its table to $COLUMNS)
COLUMNS = "100"
#: seconds one example may take; the slowest shown (a report on a small derivation) takes about 5
TIMEOUT = 300

_FENCE = re.compile(r"^```([A-Za-z]*)\n(.*?)^```\n", re.M | re.S)
_MARKER = re.compile(r"<!--\s*(skip|output)\b([^<>]*)-->\s*\Z")
_FILE_HEADER = re.compile(r"#\s*([\w./-]+\.py)\s*\n")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[+-]?\d+)?")


@dataclasses.dataclass
class Block:
    page: Path
    line: int
    lang: str
    code: str
    start: int  # character offsets of the code inside the page (for --write)
    end: int
    marker: str = ""  # "skip" or "output" or ""
    marker_arg: str = ""

    @property
    def file_name(self) -> str | None:
        m = _FILE_HEADER.match(self.code) if self.lang == "python" else None
        return m.group(1) if m else None

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def pages() -> list[Path]:
    return [ROOT / "README.md"] + sorted((ROOT / "docs").rglob("*.md"))


def blocks(page: Path) -> list[Block]:
    text = page.read_text(encoding="utf-8")
    found = []
    for m in _FENCE.finditer(text):
        before = text[:m.start()].rstrip()
        marker = _MARKER.search(before[-400:])
        b = Block(page, text.count("\n", 0, m.start()) + 1, m.group(1), m.group(2), m.start(2), m.end(2))
        if marker:
            b.marker, b.marker_arg = marker.group(1), marker.group(2).strip()
        found.append(b)
    return found


def runnable(page: Path) -> list[Block]:
    """The blocks a test runs: python blocks, and sh blocks whose output is shown."""
    bs = blocks(page)
    out = []
    for i, b in enumerate(bs):
        shown = i + 1 < len(bs) and bs[i + 1].marker == "output"
        if b.lang == "python" or (b.lang == "sh" and shown):
            out.append(b)
    return out


def shown_outputs(b: Block) -> list[Block]:
    """The output blocks right after ``b`` (several: excerpts of the same output)."""
    bs = blocks(b.page)
    i = next(i for i, x in enumerate(bs) if x.start == b.start) + 1
    shown = []
    while i < len(bs) and bs[i].marker == "output":
        shown.append(bs[i])
        i += 1
    return shown


def _env(folder: Path) -> dict:
    env = dict(os.environ, COLUMNS=COLUMNS, PYTHONPATH=os.pathsep.join([str(ROOT), str(folder)]))
    env.pop("PYTEST_XDIST_WORKER", None)
    return env


def run(b: Block, folder: Path) -> str:
    """Run block ``b`` in ``folder`` (the page's files before it written there); its stdout.

    Raises AssertionError with the output when a python block fails."""
    if not (folder / "derivations").exists():  # the seed's derivations, where the report looks by default
        (folder / "derivations").symlink_to(ROOT / "derivations", target_is_directory=True)
    for earlier in blocks(b.page):
        if earlier.start >= b.start:
            break
        if earlier.file_name:
            path = folder / earlier.file_name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(earlier.code, encoding="utf-8")
    if b.lang == "python":
        target = folder / (b.file_name or "_example.py")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(b.code, encoding="utf-8")
        p = subprocess.run([sys.executable, str(target)], cwd=target.parent, env=_env(folder), capture_output=True,
                           text=True, timeout=TIMEOUT)
        assert p.returncode == 0, f"{b.id} exited {p.returncode}:\n{p.stdout}\n{p.stderr}"
        return p.stdout
    out = []
    for line in b.code.strip().splitlines():
        argv = shlex.split(line)
        assert argv[:3] == ["python", "-m", "gradverify"], f"{b.id}: only gradverify commands are run, not {line!r}"
        p = subprocess.run([sys.executable] + argv[1:], cwd=folder, env=_env(folder), capture_output=True, text=True,
                           timeout=TIMEOUT)
        out.append(p.stdout)
    return "".join(out)


def excerpt(output: str, marker_arg: str) -> str:
    """The lines of ``output`` that ``<!-- output start="A" stop="B" -->`` shows: from the first line
    starting with A (default: the first) to the line before the next one starting with B (default:
    the end), trailing blank lines left out."""
    lines = [line.rstrip() for line in output.rstrip().splitlines()]
    start = re.search(r'start="([^"]*)"', marker_arg)
    stop = re.search(r'stop="([^"]*)"', marker_arg)
    if start:
        first = next((i for i, line in enumerate(lines) if line.startswith(start.group(1))), None)
        assert first is not None, f"no line of the output starts with {start.group(1)!r}:\n{output}"
        lines = lines[first:]
    if stop:
        end = next((i for i, line in enumerate(lines) if i and line.startswith(stop.group(1))), len(lines))
        lines = lines[:end]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(lines) + "\n"


def _normal(text: str) -> str:
    return _NUMBER.sub(lambda m: f"{float(m.group()):.3g}", "\n".join(l.rstrip() for l in text.strip().splitlines()))


def same(shown: str, actual: str) -> bool:
    return _normal(shown) == _normal(actual)


def write_outputs() -> int:
    """Rewrite every shown output from what the code prints; the number of blocks changed."""
    changed = 0
    for page in pages():
        for i in range(len(runnable(page))):
            b = runnable(page)[i]  # read again: a rewrite above moves the offsets
            starts = [shown.start for shown in shown_outputs(b)]
            if not starts:
                continue
            with tempfile.TemporaryDirectory() as tmp:
                output = run(b, Path(tmp))
            order = [j for j, x in enumerate(blocks(page)) if x.start in starts]
            for j in order:
                shown = blocks(page)[j]  # by position: a rewrite above moves the offsets
                actual = excerpt(output, shown.marker_arg)
                if same(shown.code, actual):
                    continue
                text = page.read_text(encoding="utf-8")
                page.write_text(text[:shown.start] + actual + text[shown.end:], encoding="utf-8")
                print(f"rewrote the output at {shown.id}")
                changed += 1
    return changed


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/docs_examples.py --write   (rewrites the outputs the docs show)")
    print(f"{write_outputs()} outputs rewritten")
