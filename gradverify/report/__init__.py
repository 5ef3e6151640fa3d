"""The report: one row model (`rows`), read by one renderer per format
(`terminal`, `markdown`, `jsondoc`, `junit`, `htmlpage`); files written atomically (`files`);
the command line's report options (`options`); how figures stay reproducible (`figures`)."""

from .files import check_writable
from .jsondoc import SCHEMA_VERSION
from .model import Report, environment, exit_code
from .rows import Outcome, failure_text

__all__ = ["Report", "exit_code", "environment", "SCHEMA_VERSION", "check_writable", "Outcome", "failure_text"]
