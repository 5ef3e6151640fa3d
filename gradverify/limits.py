"""Reading the limits of each derivation's worker from text: ``--timeout``/``--max-memory`` on the
command line, ``--gradverify-timeout``/``--gradverify-max-memory`` and their ini keys in pytest.

A value out of range raises `argparse.ArgumentTypeError` whose text is the `InvalidArgument`
message ("Expected … but got --flag=value" and a hint), as argparse shows a bad flag.
"""

from __future__ import annotations

import argparse
import re

from .errors import InvalidArgument
from .isolation import DEFAULT_LIMITS, describe_bytes

__all__ = ["parse_seconds", "parse_memory", "wrong", "MAX_TIMEOUT"]

#: a week: a longer limit is a typo (seconds meant as milliseconds, say)
MAX_TIMEOUT = 7 * 24 * 3600.0
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def wrong(expected: str, flag: str, text: str, hint: str) -> argparse.ArgumentTypeError:
    """argparse's error for ``flag=text``, worded as `InvalidArgument`."""
    return argparse.ArgumentTypeError(str(InvalidArgument(expected, f"{flag}={text}", hint)))


def parse_seconds(text: str) -> float:
    """``--timeout``: a number of seconds in (0, `MAX_TIMEOUT`]."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value <= MAX_TIMEOUT:  # also refuses nan
        raise wrong(f"a number of seconds in (0, {MAX_TIMEOUT:g}]", "--timeout", text,
                    f"It bounds each derivation; the default is {DEFAULT_LIMITS.timeout:g}.")
    return value


def parse_memory(text: str) -> int | None:
    """``--max-memory``: a size such as 512M or 4G (at least 1M) in bytes, or None for 'none'."""
    if text.lower() == "none":
        return None
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    value = int(float(match.group(1)) * _UNITS[match.group(2)]) if match and match.group(2) else 0
    if value < 2**20:
        raise wrong("a size such as 512M or 4G (at least 1M), or 'none'", "--max-memory", text,
                    f"It bounds each derivation; the default is {describe_bytes(DEFAULT_LIMITS.max_memory)}.")
    return value
