"""The report's command-line options, for ``cli.py`` to wire in:

* `add_report_arguments(parser)`: ``--format`` (repeatable), ``--baseline PATH``, ``--update-baseline``;
* `prepare(args)`: before the work, refuse what would fail after it (an unwritable ``--out``,
  a missing baseline);
* `finish(report, args) -> int`: print and write the chosen formats, compare with the baseline,
  return the exit code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import InvalidArgument
from .escape import terminal_text
from .files import encodable_texts, folder_lock, write_atomically
from .formats import RENDERERS, check_writable, render, write

__all__ = ["FORMATS", "DEFAULT_FORMATS", "add_report_arguments", "prepare", "finish", "formats_of"]

FORMATS = tuple(RENDERERS)
#: without --format: the table printed, report.md and report.json written (as always)
DEFAULT_FORMATS = ("terminal", "md", "json")


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", action="append", choices=FORMATS, metavar="FORMAT",
                        help="terminal (print the table), md, json, junit (report.junit.xml), html (report.html); "
                             "repeatable; the default is terminal, md and json, and naming any format replaces it "
                             "(--format html writes report.html alone: add --format terminal --format md ... "
                             "to keep the others)")
    parser.add_argument("--baseline", type=Path, metavar="PATH",
                        help="a committed report.json: exit 1 naming every claim whose verdict, diagnosis or "
                             "check status changed (figures are not compared), 0 when none did")
    parser.add_argument("--update-baseline", action="store_true",
                        help="rewrite --baseline PATH with this run's report")


def formats_of(args) -> list[str]:
    return list(dict.fromkeys(getattr(args, "format", None) or DEFAULT_FORMATS))


def _files(args) -> list[str]:
    return [] if getattr(args, "no_write", False) else [f for f in formats_of(args) if f != "terminal"]


def prepare(args) -> None:
    """Raise `InvalidArgument` now for what would only fail once the work is done."""
    baseline = getattr(args, "baseline", None)
    if getattr(args, "update_baseline", False) and baseline is None:
        raise InvalidArgument("--baseline PATH with --update-baseline", "--update-baseline alone",
                              "Say which file to rewrite: --baseline reports/report.json --update-baseline.")
    if baseline is not None and not args.update_baseline:
        from ..baseline import load_baseline

        load_baseline(baseline)
    if baseline is not None and args.update_baseline:
        _check_baseline_folder(Path(baseline))
    if _files(args):
        check_writable(args.out, _files(args))


def _check_baseline_folder(path: Path) -> None:
    """--update-baseline PATH: its folder can be made and PATH is not a folder (said before the work)."""
    for parent in [path.parent, *path.parent.parents]:
        if parent.exists() and not parent.is_dir():
            raise InvalidArgument("a --baseline path whose folders are folders", f"--baseline {path} "
                                  f"({parent} is a file)", "Pass another --baseline path.")
        if parent.exists():
            break
    if path.is_dir():
        raise InvalidArgument("--baseline to be a file or absent", f"--baseline {path} (a folder)",
                              "Pass the path of the report.json to write, e.g. reports/report.json.")


def _update_baseline(report, path: Path, out) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(path.parent):
        write_atomically(encodable_texts({path: render(report, "json")}))
    print(f"baseline {path} updated", file=out)


def _shown(path: Path) -> str:
    """A written file as the user would name it: relative to the current folder when inside it."""
    try:
        return str(Path(path).relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def finish(report, args, out=None) -> int:
    """Print and write the formats ``args`` asks for; with ``--baseline``, the exit code is whether
    a verdict changed (1) or not (0); else the report's own (0, 1, or 2)."""
    out = out or sys.stdout
    if "terminal" in formats_of(args):
        print(render(report, "terminal"), file=out)
    if _files(args):
        written = write(report, args.out, _files(args))
        print("wrote " + ", ".join(_shown(p) for p in written), file=out)
    if "terminal" not in formats_of(args):  # the table is in the files; the counts and the command still are here
        print(report.summary_sentence(), file=out)
        print(f"Reproduce: {report.reproduce()}", file=out)
    baseline = getattr(args, "baseline", None)
    if baseline is None:
        return report.exit_code
    if args.update_baseline:
        _update_baseline(report, Path(baseline), out)
        return 2 if report.exit_code == 2 else 0
    from ..baseline import compare, load_baseline
    from .jsondoc import document

    comparison = compare(document(report), load_baseline(baseline), str(baseline))
    print(terminal_text(comparison.text()), file=out)
    return 1 if comparison.changed else 0
