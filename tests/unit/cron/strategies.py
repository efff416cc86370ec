"""Random valid cron expressions, shared by the property and the differential tests.

One generator, two sources of randomness: :func:`cron_expressions` draws through
hypothesis (so failures shrink), :func:`random_expression` through a seeded
``random.Random`` (so the differential suite is deterministic and cheap). The
:class:`Dialect` says which syntax may appear, so the differential tests can ask for
the subset every peer understands and the property tests for everything the oracle
implements.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from hypothesis import strategies as st

T = TypeVar("T")

MONTH_NAMES = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
DAY_NAMES = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")


@dataclass(frozen=True)
class Dialect:
    """Which syntax a generated expression may use."""

    seconds: bool = False  # 6 fields, seconds first (exclusive with ``years``' 5-field form)
    years: bool = False  # 7 fields (implies seconds)
    names: bool = True  # JAN-DEC, SUN-SAT (any case)
    question: bool = True  # '?' in the day fields
    wrapping: bool = True  # ranges such as 22-2 or FRI-MON
    quartz: bool = True  # L, L-n, LW, nW, 5L, 5#3
    dense: bool = False  # favour expressions that fire within hours (property windows)
    years_around: int = 2026  # years the year field picks from (+-2)


class Pick(Protocol):
    """The few random choices the generator needs."""

    def integer(self, lo: int, hi: int) -> int: ...

    def chance(self, p: float) -> bool: ...


def choose(pick: Pick, items: Sequence[T]) -> T:
    return items[pick.integer(0, len(items) - 1)]


class RandomPick:
    """:class:`Pick` over a seeded ``random.Random``."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def integer(self, lo: int, hi: int) -> int:
        return self.rng.randint(lo, hi)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p


class DrawPick:
    """:class:`Pick` over hypothesis' ``draw`` (shrinks towards small numbers, False)."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        return self.draw(st.integers(lo, hi))

    def chance(self, p: float) -> bool:
        return self.integer(0, 999) < int(p * 1000)


@dataclass(frozen=True)
class _Field:
    lo: int
    hi: int
    names: tuple[str, ...] = ()
    name_base: int = 0  # the number of names[0]
    cycle_hi: int | None = None  # top of a wrapping range (6 for day-of-week)


SECOND = _Field(0, 59)
MINUTE = _Field(0, 59)
HOUR = _Field(0, 23)
DAY_OF_MONTH = _Field(1, 31)
MONTH = _Field(1, 12, MONTH_NAMES, 1)
DAY_OF_WEEK = _Field(0, 7, DAY_NAMES, 0, cycle_hi=6)


def _value(pick: Pick, field: _Field, dialect: Dialect, value: int) -> str:
    index = value - field.name_base
    if dialect.names and field.names and 0 <= index < len(field.names) and pick.chance(0.3):
        name = field.names[index]
        return name.lower() if pick.chance(0.2) else name
    return str(value)


def _step(pick: Pick, field: _Field, span: int) -> int:
    if pick.chance(0.7):
        return pick.integer(1, max(1, min(span, 15)))
    return pick.integer(1, field.hi - field.lo + 1)


def _item(pick: Pick, field: _Field, dialect: Dialect) -> str:
    """One list item that is not '*': a value, a range or a stepped form."""
    kind = pick.integer(0, 4)
    top = field.cycle_hi if field.cycle_hi is not None else field.hi
    if kind == 0:
        return _value(pick, field, dialect, pick.integer(field.lo, field.hi))
    if kind == 3:  # v/step: v, v+step, ... to the end of the field
        start = pick.integer(field.lo, field.hi)
        return f"{start}/{_step(pick, field, field.hi - start + 1)}"
    start = pick.integer(field.lo, top)
    if dialect.wrapping and pick.chance(0.25):
        end = pick.integer(field.lo, top)
    else:
        end = pick.integer(start, field.hi)
    text = f"{_value(pick, field, dialect, start)}-{_value(pick, field, dialect, end)}"
    if kind == 2:
        span = end - start + 1 if end >= start else (top - start + 1) + (end - field.lo + 1)
        text += f"/{_step(pick, field, span)}"
    return text


def _plain_field(pick: Pick, field: _Field, dialect: Dialect, star: float) -> str:
    roll = pick.integer(0, 999) / 1000
    if roll < star:
        return "*"
    if roll < star + (1 - star) * 0.3:
        return f"*/{_step(pick, field, field.hi - field.lo + 1)}"
    count = 1 if pick.chance(0.6) else pick.integer(2, 3)
    return ",".join(_item(pick, field, dialect) for _ in range(count))


def _day_of_month(pick: Pick, dialect: Dialect) -> str:
    if dialect.quartz and pick.chance(0.12):
        rules = ["L", "LW", f"L-{pick.integer(0, 30)}", f"{pick.integer(1, 31)}W"]
        text = choose(pick, rules)
        if pick.chance(0.3):
            text += "," + _item(pick, DAY_OF_MONTH, dialect)
        return text
    star = 0.75 if dialect.dense else 0.5
    if dialect.question and pick.chance(0.1):
        return "?"
    return _plain_field(pick, DAY_OF_MONTH, dialect, star)


def _day_of_week(pick: Pick, dialect: Dialect) -> str:
    if dialect.quartz and pick.chance(0.12):
        day = _value(pick, DAY_OF_WEEK, dialect, pick.integer(0, 7))
        text = f"{day}L" if pick.chance(0.5) else f"{day}#{pick.integer(1, 5)}"
        if pick.chance(0.3):
            text += "," + _item(pick, DAY_OF_WEEK, dialect)
        return text
    if dialect.question and pick.chance(0.1):
        return "?"
    return _plain_field(pick, DAY_OF_WEEK, dialect, 0.6)


def _year(pick: Pick, dialect: Dialect) -> str:
    if pick.chance(0.5):
        return "*"
    base = dialect.years_around
    lo = pick.integer(base - 2, base + 2)
    if pick.chance(0.5):
        return str(lo)
    return f"{lo}-{pick.integer(lo, base + 3)}"


def generate(pick: Pick, dialect: Dialect) -> str:
    """A valid expression in ``dialect`` (it may still never fire, e.g. ``0 0 31 4 *``
    combined with a day-of-week; the engine only rejects dates no calendar has)."""
    dense = dialect.dense
    fields = []
    if dialect.seconds or dialect.years:
        fields.append(_plain_field(pick, SECOND, dialect, 0.3 if dense else 0.2))
    fields.append(_plain_field(pick, MINUTE, dialect, 0.3 if dense else 0.2))
    fields.append(_plain_field(pick, HOUR, dialect, 0.4 if dense else 0.25))
    day_of_month = _day_of_month(pick, dialect)
    month = "*" if dense and pick.chance(0.8) else _plain_field(pick, MONTH, dialect, 0.5)
    fields += [day_of_month, month, _day_of_week(pick, dialect)]
    if dialect.years:
        fields.append(_year(pick, dialect))
    return " ".join(fields)


def random_expression(rng: random.Random, dialect: Dialect) -> str:
    return generate(RandomPick(rng), dialect)


@st.composite
def cron_expressions(draw: st.DrawFn, dialect: Dialect) -> str:
    """Hypothesis strategy: valid expressions of ``dialect`` (see :func:`generate`)."""
    return generate(DrawPick(draw), dialect)
