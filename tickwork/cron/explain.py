"""Human-readable descriptions of cron expressions, through the cron-descriptor package."""

from __future__ import annotations

from functools import lru_cache

from cron_descriptor import ExpressionDescriptor, Options

from tickwork.cron.expression import CronExpr
from tickwork.cron.macros import MACROS


def describe(expr: CronExpr) -> str:
    """E.g. "At 02:30, Monday through Friday" for ``30 2 * * 1-5`` (cached: cron-descriptor
    takes a good half millisecond, and lists describe the same expressions again and again)."""
    try:
        if not _uses_hash(expr.text):  # the hash key changes nothing: share one description
            return _describe_text(expr.text)
        return _describe(expr)
    except Exception:
        return expr.text


@lru_cache(maxsize=4096)
def _describe_text(text: str) -> str:
    return _describe(CronExpr.parse(text))


@lru_cache(maxsize=1024)
def _describe(expr: CronExpr) -> str:
    """E.g. "At 02:30, Monday through Friday" for ``30 2 * * 1-5``.

    ``H`` means nothing to cron-descriptor, so fields that use it are described with
    their hashed values filled in.
    """
    parts = MACROS.get(expr.text.lower(), expr.text).split()
    if len(parts) == 5:
        parts = ["0", *parts]
    masks = [
        (expr.seconds, 0, 59),
        (expr.minutes, 0, 59),
        (expr.hours, 0, 23),
        (expr.day_of_month.mask, 1, 31),
        (expr.months, 1, 12),
        (expr.day_of_week.mask, 0, 6),
    ]
    if len(parts) == 7 and expr.years is not None:
        masks.append((expr.years, 1970, 2199))
    for index, (mask, lo, hi) in enumerate(masks):
        if _uses_hash(parts[index]):
            parts[index] = ",".join(str(v) for v in range(lo, hi + 1) if mask >> v & 1)
    options = Options()
    options.use_24hour_time_format = True
    options.verbose = False
    description: str = ExpressionDescriptor(" ".join(parts), options).get_description()
    return description


def _uses_hash(field: str) -> bool:
    return "H" in field.upper().replace("THU", "")
