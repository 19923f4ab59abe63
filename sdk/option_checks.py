"""The number, choice and path checks every command's options dataclass shares.

Each check takes the option's user-facing name and the value seen and either returns the value normalised
(a fraction given as '99%' becomes 0.99) or raises InvalidArgumentError with one line: the name, the value
seen, what is allowed, and an example. They run once, in the options' constructor, so the CLI, the recipes
and the Python API refuse the same values with the same words.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable

from .errors import InvalidArgumentError


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def whole(name: str, value, least: int, example: str | None = None) -> int:
    """A whole number >= least (bool is not a number here: `runs=True` is a mistake, not 1)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise InvalidArgumentError(f"{name} must be a whole number >= {least}, got {value!r}",
                                   hint=f"e.g. {example or name.lstrip('-') + ' ' + str(max(least, 1))}")
    return int(value)


def optional_whole(name: str, value, least: int, example: str | None = None) -> int | None:
    return None if value is None else whole(name, value, least, example)


def finite(name: str, value, least: float, *, inclusive: bool = True, example: str | None = None) -> float:
    """A finite number >= least (> least when not inclusive): NaN and ±inf never pass a threshold."""
    ok = _is_number(value) and math.isfinite(value) and (value >= least if inclusive else value > least)
    if not ok:
        bound = f"{'>=' if inclusive else '>'} {least:g}"
        raise InvalidArgumentError(f"{name} must be a finite number {bound}, got {value!r}",
                                   hint=f"e.g. {example or '1'}")
    return float(value)


def optional_finite(name: str, value, least: float, *, inclusive: bool = True,
                    example: str | None = None) -> float | None:
    return None if value is None else finite(name, value, least, inclusive=inclusive, example=example)


def fraction(name: str, value) -> float | None:
    """None, a number in [0, 1], or a percentage string ('99%'); NaN and inf are refused."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}", hint="e.g. 0.99 or 99%")
    text = str(value).strip()
    try:
        v = float(text.rstrip("%")) / (100.0 if text.endswith("%") else 1.0)
    except ValueError:
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}", hint="e.g. 0.99 or 99%") from None
    if not (math.isfinite(v) and 0.0 <= v <= 1.0):
        raise InvalidArgumentError(f"{name} must lie in [0, 1] (or 0%..100%), got {value!r}", hint="e.g. 0.99")
    return v


def flag(name: str, value) -> bool:
    """A real bool: the string 'false' is truthy in Python, so it is refused rather than read as true."""
    if not isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be true or false, got {value!r}", hint=f"e.g. {name}=True")
    return value


def choice(name: str, value, allowed: Iterable[str | None]) -> str | None:
    allowed = list(allowed)
    if value not in allowed:
        shown = ", ".join("none" if a is None else repr(a) for a in allowed)
        raise InvalidArgumentError(f"{name} {value!r} is not one of {shown}", hint=f"e.g. {name} {allowed[-1]}")
    return value


def output_path(name: str, value) -> str | None:
    """None or a path that can be written now (its folder exists and is writable, it is not a folder)."""
    if value is None:
        return None
    if not isinstance(value, (str, os.PathLike)) or not str(value):
        raise InvalidArgumentError(f"{name} must be a file path, got {value!r}", hint=f"e.g. {name} report.html")
    from .atomic import check_writable

    check_writable(value)
    return os.fspath(value)
