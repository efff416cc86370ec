"""Property tests: the engine against a brute-force oracle written from the documented rules.

The oracle walks every minute (every second for 6- and 7-field expressions) of a small
window of UTC instants, converts each to the zone's wall time and decides on its own
whether it fires: a small independent field matcher (sets of ints per field, the
Vixie day-of-month/day-of-week rule, simple Quartz day rules) plus the DST rules of
``tickwork.cron``:

* an instant whose wall time the zone shows twice fires on its second pass (fold=1)
  only for a wall-clock job (minute or hour field starting with ``*``);
* the first instant after a spring-forward gap fires for a fixed-time job when its own
  wall time matches or any skipped wall time matches (once, however many do); for a
  wall-clock job only when its own wall time matches.

Instants are always compared in UTC: Python ignores ``fold`` between datetimes of one
zone. Start instants are drawn near the real offset changes of the zones as well as
at random.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tests.unit.cron.strategies import DAY_NAMES, MONTH_NAMES, Dialect, cron_expressions
from tickwork.cron import CronExpr, CronSyntaxError

ZONES = (
    "UTC",
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Pacific/Apia",
    "Asia/Kolkata",
)
_SECOND = timedelta(seconds=1)
_MICROSECOND = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# --------------------------------------------------------------------------------------
# The oracle's field matcher


@dataclass(frozen=True)
class _Kind:
    lo: int
    hi: int
    names: tuple[str, ...] = ()
    name_base: int = 0
    cycle_hi: int | None = None  # the top of a wrapping range; day-of-week wraps at 6


_KINDS = {
    "second": _Kind(0, 59),
    "minute": _Kind(0, 59),
    "hour": _Kind(0, 23),
    "dom": _Kind(1, 31),
    "month": _Kind(1, 12, MONTH_NAMES, 1),
    "dow": _Kind(0, 7, DAY_NAMES, 0, cycle_hi=6),
    "year": _Kind(1970, 2199),
}


def _number(kind: _Kind, text: str) -> int:
    upper = text.upper()
    if upper in kind.names:
        return kind.names.index(upper) + kind.name_base
    value = int(text)
    assert kind.lo <= value <= kind.hi, text
    return value


def _item_values(kind: _Kind, item: str) -> list[int]:
    """The values of one list item, in order, before any step."""
    base, _, step_text = item.partition("/")
    step = int(step_text) if step_text else 1
    if base in ("*", "?"):
        values = list(range(kind.lo, kind.hi + 1))
    elif "-" in base:
        start_text, end_text = base.split("-")
        start, end = _number(kind, start_text), _number(kind, end_text)
        if start <= end:
            values = list(range(start, end + 1))
        else:  # wrapping: start .. top of the cycle, then bottom .. end
            top = kind.cycle_hi if kind.cycle_hi is not None else kind.hi
            values = list(range(start, top + 1)) + list(range(kind.lo, end + 1))
    elif step_text:  # "7/10": from 7 to the end of the field
        values = list(range(_number(kind, base), kind.hi + 1))
    else:
        values = [_number(kind, base)]
    return values[::step]


@dataclass(frozen=True)
class _DayRules:
    values: frozenset[int]
    last_offsets: frozenset[int] = frozenset()  # L (0) and L-n
    last_weekday: bool = False  # LW
    nearest: frozenset[int] = frozenset()  # nW
    last_of: frozenset[int] = frozenset()  # 5L (weekdays, 0 = Sunday)
    nth: frozenset[tuple[int, int]] = frozenset()  # 5#3


def _day_rules(kind: _Kind, text: str, *, dom: bool) -> _DayRules:
    values: set[int] = set()
    last_offsets: set[int] = set()
    last_weekday = False
    nearest: set[int] = set()
    last_of: set[int] = set()
    nth: set[tuple[int, int]] = set()
    for item in text.split(","):
        upper = item.upper()
        if dom and upper == "L":
            last_offsets.add(0)
        elif dom and upper.startswith("L-"):
            last_offsets.add(int(upper[2:]))
        elif dom and upper == "LW":
            last_weekday = True
        elif dom and upper.endswith("W"):
            nearest.add(int(upper[:-1]))
        elif not dom and "#" in upper:
            day, _, count = upper.partition("#")
            nth.add((_number(kind, day) % 7, int(count)))
        elif not dom and upper.endswith("L"):
            last_of.add(_number(kind, upper[:-1]) % 7)
        else:
            values.update(_item_values(kind, item))
    if not dom:
        values = {v % 7 for v in values}
    return _DayRules(
        frozenset(values),
        frozenset(last_offsets),
        last_weekday,
        frozenset(nearest),
        frozenset(last_of),
        frozenset(nth),
    )


def _cron_weekday(year: int, month: int, day: int) -> int:
    return (calendar.weekday(year, month, day) + 1) % 7  # 0 = Sunday


def _dom_matches(rules: _DayRules, year: int, month: int, day: int) -> bool:
    last = calendar.monthrange(year, month)[1]
    if day in rules.values or (last - day) in rules.last_offsets:
        return True
    if rules.last_weekday:
        last_weekday = last
        while _cron_weekday(year, month, last_weekday) in (0, 6):
            last_weekday -= 1
        if day == last_weekday:
            return True
    for target in rules.nearest:
        if target > last:
            continue
        weekday = _cron_weekday(year, month, target)
        if weekday == 6:  # Saturday: the Friday before, or Monday the 3rd for the 1st
            hit = target - 1 if target > 1 else target + 2
        elif weekday == 0:  # Sunday: the Monday after, or the Friday before at month end
            hit = target + 1 if target < last else target - 2
        else:
            hit = target
        if hit == day:
            return True
    return False


def _dow_matches(rules: _DayRules, year: int, month: int, day: int) -> bool:
    weekday = _cron_weekday(year, month, day)
    last = calendar.monthrange(year, month)[1]
    if weekday in rules.values:
        return True
    if weekday in rules.last_of and day + 7 > last:
        return True
    return (weekday, (day - 1) // 7 + 1) in rules.nth


class Oracle:
    """Decides, one instant at a time, whether an expression fires."""

    def __init__(self, text: str) -> None:
        fields = text.split()
        if len(fields) == 5:
            fields.insert(0, "0")
        self.granularity = 60 if fields[0] == "0" else 1
        year_text = fields[6] if len(fields) == 7 else "*"

        def ints(name: str, field: str) -> frozenset[int]:
            kind = _KINDS[name]
            return frozenset(v for item in field.split(",") for v in _item_values(kind, item))

        self.seconds = ints("second", fields[0])
        self.minutes = ints("minute", fields[1])
        self.hours = ints("hour", fields[2])
        self.dom = _day_rules(_KINDS["dom"], fields[3], dom=True)
        self.months = ints("month", fields[4])
        self.dow = _day_rules(_KINDS["dow"], fields[5], dom=False)
        self.years = ints("year", year_text)
        self.day_and = fields[3][0] in "*?" or fields[5][0] in "*?"
        self.fixed_time = fields[1][0] != "*" and fields[2][0] != "*"
        self.day_cache: dict[tuple[int, int, int], bool] = {}

    def day_matches(self, year: int, month: int, day: int) -> bool:
        key = (year, month, day)
        found = self.day_cache.get(key)
        if found is None:
            dom = _dom_matches(self.dom, year, month, day)
            dow = _dow_matches(self.dow, year, month, day)
            found = (dom and dow) if self.day_and else (dom or dow)
            found = found and month in self.months and year in self.years
            self.day_cache[key] = found
        return found

    def wall_matches(self, wall: datetime) -> bool:
        return (
            wall.second in self.seconds
            and wall.minute in self.minutes
            and wall.hour in self.hours
            and self.day_matches(wall.year, wall.month, wall.day)
        )

    def fires(self, instant: datetime, zone: ZoneInfo) -> bool:
        """Whether the expression fires at ``instant`` (UTC, on the granularity grid)."""
        local = instant.astimezone(zone)
        if local.fold == 1 and self.fixed_time:
            return False  # the second pass of a repeated wall time
        if self.wall_matches(local):
            return True
        if not self.fixed_time:
            return False
        before = (instant - _SECOND).astimezone(zone)
        jump = local.utcoffset() - before.utcoffset()  # type: ignore[operator]
        if jump <= timedelta(0):
            return False
        # The first instant after a gap: did any skipped wall time match?
        wall = local.replace(tzinfo=None) - jump
        end = local.replace(tzinfo=None)
        step = timedelta(seconds=self.granularity)
        while wall < end:
            if self.wall_matches(wall):
                return True
            wall += step
        return False

    def fires_in(self, start: datetime, end: datetime, zone: ZoneInfo) -> list[datetime]:
        """Every fire instant in (start, end], in UTC."""
        grid = self.granularity
        seconds = int((start - _EPOCH).total_seconds() // grid) * grid + grid
        last = (end - _EPOCH).total_seconds()
        found = []
        while seconds <= last:
            instant = _EPOCH + timedelta(seconds=seconds)
            if self.fires(instant, zone):
                found.append(instant)
            seconds += grid
        return found


def impossible_days(text: str) -> bool:
    """What the engine may reject at parse time: an expression no day ever matches, by the
    oracle, day by day over every year it allows (its year field, else the field's whole
    range), which holds every calendar the rules can meet."""
    oracle = Oracle(text)
    return not any(
        oracle.day_matches(year, month, day)
        for year in sorted(oracle.years)
        for month in sorted(oracle.months)
        for day in range(1, calendar.monthrange(year, month)[1] + 1)
    )


# --------------------------------------------------------------------------------------
# Start instants: near the zones' real offset changes, and at random


@cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """The instants (UTC) where the zone's offset changes, 2005-2032."""
    zone = ZoneInfo(zone_name)
    found = []
    day = datetime(2005, 1, 1, tzinfo=UTC)
    offset = day.astimezone(zone).utcoffset()
    while day.year < 2032:
        later = day + timedelta(hours=6)
        new = later.astimezone(zone).utcoffset()
        if new != offset:
            lo, hi = day, later
            while hi - lo > _SECOND:
                mid = lo + (hi - lo) / 2
                mid = mid.replace(microsecond=0)
                if mid.astimezone(zone).utcoffset() == new:
                    hi = mid
                else:
                    lo = mid
            found.append(hi)
            offset = new
        day = later
    return tuple(found)


@st.composite
def start_instants(draw: st.DrawFn, zone_name: str, window: timedelta) -> datetime:
    changes = transitions(zone_name)
    if changes and draw(st.integers(0, 3)) > 0:
        change = draw(st.sampled_from(changes))
        span = int(window.total_seconds())
        start = change + timedelta(seconds=draw(st.integers(-span, span // 4)))
    else:
        start = _EPOCH + timedelta(seconds=draw(st.integers(5 * 365 * 86400, 62 * 365 * 86400)))
    if draw(st.booleans()):  # off the minute grid, sometimes off the second grid
        start += timedelta(seconds=draw(st.integers(0, 59)))
        start += timedelta(microseconds=draw(st.sampled_from([0, 0, 1, 500_000, 999_999])))
    return start


@dataclass(frozen=True)
class Case:
    text: str
    zone: str
    start: datetime  # UTC
    window: timedelta

    @property
    def end(self) -> datetime:
        return self.start + self.window


def _as_given(case: Case, local: bool) -> datetime:
    """The start as the caller hands it: in UTC or in the zone (with its fold)."""
    return case.start.astimezone(ZoneInfo(case.zone)) if local else case.start


@st.composite
def cases(draw: st.DrawFn, *, seconds: bool) -> Case:
    zone = draw(st.sampled_from(ZONES))
    if seconds:
        dialect = Dialect(seconds=True, dense=True, years=draw(st.integers(0, 4)) == 0)
        window = timedelta(minutes=draw(st.integers(5, 150)))
    else:
        dialect = Dialect(dense=True)
        window = timedelta(hours=draw(st.integers(3, 48)))
    start = draw(start_instants(zone, window))
    if dialect.years:
        dialect = Dialect(seconds=True, dense=True, years=True, years_around=start.year)
    text = draw(cron_expressions(dialect))
    return Case(text, zone, start, window)


def _parse(text: str) -> CronExpr:
    try:
        return CronExpr.parse(text)
    except CronSyntaxError:
        # The only valid syntax the engine may refuse is a date no calendar has.
        assert impossible_days(text), text
        assume(False)
        raise


# --------------------------------------------------------------------------------------
# The properties

_SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Cases from the module docstring of tickwork.cron, pinned so they run on every change.
_NEW_YORK_SPRING = datetime(2026, 3, 8, 5, 0, tzinfo=UTC)  # 00:00 EST on the change day
_NEW_YORK_FALL = datetime(2026, 11, 1, 4, 0, tzinfo=UTC)  # 00:00 EDT on the change day
_APIA_LOST_DAY = datetime(2011, 12, 29, 9, 0, tzinfo=UTC)
_DAY = timedelta(hours=30)


def _check_forward(case: Case, local_start: bool) -> None:
    expr = _parse(case.text)
    zone = ZoneInfo(case.zone)
    expected = Oracle(case.text).fires_in(case.start, case.end, zone)
    after = _as_given(case, local_start)

    # next_after: strictly after the start, a fire per matches(), nothing skipped.
    found = expr.next_after(after, case.zone)
    if found is None:
        assert expected == [], case
    else:
        assert found.utcoffset() == found.astimezone(zone).utcoffset()
        found_utc = found.astimezone(UTC)
        assert found_utc > case.start
        assert expr.matches(found, case.zone)
        assert expr.matches(found_utc, case.zone)
        if expected:
            assert found_utc == expected[0], (case, expected[:3])
        else:
            assert found_utc > case.end, (case, found)

    # iter_after over the window: exactly the oracle's list.
    fires: list[datetime] = []
    for value in expr.iter_after(after, case.zone):
        value_utc = value.astimezone(UTC)
        if value_utc > case.end:
            break
        fires.append(value_utc)
    assert fires == expected, case

    # matches(): true on every fire, false on the grid instants next to it that are not.
    grid = timedelta(seconds=Oracle(case.text).granularity)
    for fire in expected[:5]:
        assert expr.matches(fire, case.zone)
        for neighbour in (fire - grid, fire + grid):
            if case.start < neighbour <= case.end:
                assert expr.matches(neighbour, case.zone) == (neighbour in expected), neighbour


def _check_backward(case: Case, local_end: bool) -> None:
    expr = _parse(case.text)
    zone = ZoneInfo(case.zone)
    # Fires in [start, end): the mirror image of (start, end].
    oracle = Oracle(case.text)
    expected = oracle.fires_in(case.start - _MICROSECOND, case.end - _MICROSECOND, zone)
    before = case.end.astimezone(zone) if local_end else case.end

    found = expr.prev_before(before, case.zone)
    if found is None:
        assert expected == [], case
    else:
        found_utc = found.astimezone(UTC)
        assert found_utc < case.end
        assert expr.matches(found_utc, case.zone)
        if expected:
            assert found_utc == expected[-1], (case, expected[-3:])
        else:
            assert found_utc < case.start, (case, found)

    fires: list[datetime] = []
    for value in expr.iter_before(before, case.zone):
        value_utc = value.astimezone(UTC)
        if value_utc < case.start:
            break
        fires.append(value_utc)
    fires.reverse()
    assert fires == expected, case


@_SETTINGS
@given(case=cases(seconds=False), local_start=st.booleans())
@example(case=Case("30 2 * * *", "America/New_York", _NEW_YORK_SPRING, _DAY), local_start=False)
@example(case=Case("0,30 2 * * *", "America/New_York", _NEW_YORK_SPRING, _DAY), local_start=True)
@example(case=Case("*/30 * * * *", "America/New_York", _NEW_YORK_SPRING, _DAY), local_start=False)
@example(case=Case("30 1 * * *", "America/New_York", _NEW_YORK_FALL, _DAY), local_start=False)
@example(case=Case("0 * * * *", "America/New_York", _NEW_YORK_FALL, _DAY), local_start=True)
@example(case=Case("0 12 * * *", "Pacific/Apia", _APIA_LOST_DAY, 2 * _DAY), local_start=False)
@example(
    case=Case("15 2 * * *", "Australia/Lord_Howe", datetime(2026, 10, 3, 13, tzinfo=UTC), _DAY),
    local_start=False,
)
def test_forward_matches_the_oracle(case: Case, local_start: bool) -> None:
    _check_forward(case, local_start)


@_SETTINGS
@given(case=cases(seconds=True), local_start=st.booleans())
@example(
    case=Case(
        "*/20 30 2 * * *",
        "America/New_York",
        _NEW_YORK_SPRING + timedelta(hours=6, minutes=30),
        timedelta(hours=2),
    ),
    local_start=False,
)
@example(
    case=Case(
        "0 0/20 1 * * *",
        "America/New_York",
        _NEW_YORK_FALL + timedelta(hours=4, minutes=30),
        timedelta(hours=2),
    ),
    local_start=True,
)
def test_forward_with_seconds_matches_the_oracle(case: Case, local_start: bool) -> None:
    _check_forward(case, local_start)


@_SETTINGS
@given(case=cases(seconds=False), local_end=st.booleans())
@example(case=Case("0,30 2 * * *", "America/New_York", _NEW_YORK_SPRING, _DAY), local_end=False)
@example(case=Case("0 * * * *", "America/New_York", _NEW_YORK_FALL, _DAY), local_end=True)
@example(case=Case("30 1 * * *", "America/New_York", _NEW_YORK_FALL, _DAY), local_end=True)
@example(case=Case("0 12 * * *", "Pacific/Apia", _APIA_LOST_DAY, 2 * _DAY), local_end=False)
def test_backward_mirrors_the_oracle(case: Case, local_end: bool) -> None:
    _check_backward(case, local_end)


@_SETTINGS
@given(case=cases(seconds=True), local_end=st.booleans())
def test_backward_with_seconds_mirrors_the_oracle(case: Case, local_end: bool) -> None:
    _check_backward(case, local_end)


@_SETTINGS
@given(case=cases(seconds=False))
def test_iter_before_reversed_equals_iter_after(case: Case) -> None:
    expr = _parse(case.text)
    forward: list[datetime] = []
    for value in expr.iter_after(case.start, case.zone):
        if value.astimezone(UTC) >= case.end:
            break
        forward.append(value.astimezone(UTC))
    backward: list[datetime] = []
    for value in expr.iter_before(case.end, case.zone):
        if value.astimezone(UTC) <= case.start:
            break
        backward.append(value.astimezone(UTC))
    backward.reverse()
    assert backward == forward, case


@pytest.mark.parametrize(
    ("text", "never"),
    [
        ("0 0 30 2 *", True),
        ("* * LW * */6", True),  # a weekday AND a Saturday or Sunday ('*/6' is unrestricted)
        ("0 0 LW * 6", False),  # both restricted: a weekday OR a Saturday
        ("0 0 29 2 *", False),
    ],
)
def test_the_engine_refuses_exactly_the_expressions_that_never_fire(text: str, never: bool) -> None:
    assert impossible_days(text) is never
    if never:
        with pytest.raises(CronSyntaxError, match="never"):
            CronExpr.parse(text)
    else:
        CronExpr.parse(text)
