"""The report's formats: a registry of renderer functions (format name → ``render(report) -> str``)
over the data-only model (`model.Report`), each file format's file name, and writing a run's
files together (through `files`, which knows nothing of formats).

A new format is one renderer module here in ``report/`` with a ``render(report) -> str``, one entry
in `RENDERERS` and, if it is written to a file, one in `FILENAMES`.
"""

from __future__ import annotations

from pathlib import Path

from . import htmlpage, jsondoc, junit, markdown, terminal
from .files import check_folder, refuse_folders, write_files

__all__ = ["RENDERERS", "FILENAMES", "render", "write", "check_writable"]

#: format name → its renderer (``terminal`` takes ``columns=`` too)
RENDERERS = {"terminal": terminal.render, "md": markdown.render, "json": jsondoc.render, "junit": junit.render,
             "html": htmlpage.render}
#: the file each file format is written to
FILENAMES = {"md": "report.md", "json": "report.json", "junit": "report.junit.xml", "html": "report.html"}


def render(report, fmt: str, **options) -> str:
    """``report`` in format ``fmt`` (a name of `RENDERERS`); ``options`` go to its renderer."""
    return RENDERERS[fmt](report, **options)


def _names(formats) -> list[str]:
    return [FILENAMES[f] for f in formats if f in FILENAMES]


def check_writable(folder: Path, formats=("md", "json")) -> None:
    """Raise `InvalidArgument` unless the files of ``formats`` can be written into ``folder``:
    before the work, not after it."""
    check_folder(Path(folder), _names(formats))


def write(report, folder: Path, formats=("md", "json"), notes=None) -> list[Path]:
    """Write ``formats`` into ``folder`` all at once: each rendered first, then to a temporary file
    beside its target, then renamed, under a lock on the folder (see `files`)."""
    folder = Path(folder)
    refuse_folders(folder, [FILENAMES[f] for f in formats])
    texts = {folder / FILENAMES[f]: render(report, f) for f in formats}  # render before touching files
    return write_files(folder, texts, notes)
