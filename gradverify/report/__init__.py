"""The report: a data-only model (`model.Report`, its rows `rows` and `steprows`), read by one
renderer function per format (`terminal`, `markdown`, `jsondoc`, `junit`, `htmlpage`) named in a
registry (`formats`: `render`, `write`); files written atomically by `files`, which knows no format;
the command line's report options (`options`); how figures stay reproducible (`figures`).
It imports nothing of sympy or of the checks: what it shows (MathML included) comes as text."""

from .formats import check_writable, render, write
from .jsondoc import SCHEMA_VERSION
from .model import Report, environment, exit_code
from .rows import Outcome, failure_text

__all__ = ["Report", "exit_code", "environment", "SCHEMA_VERSION", "check_writable", "render", "write", "Outcome",
           "failure_text"]
