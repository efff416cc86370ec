"""Differential tests: Tickwork's cron engine against cronsim and croniter.

Thousands of random valid expressions (a seeded generator, so every run compares the
same ones) in the syntax all three understand; the next fires from several start
instants must be identical. Where a peer differs on purpose or by a known bug of its
own, the comparison leaves out precisely that class, with a named predicate saying
why; each class is listed in docs/reference/cron-differences.md. Any other difference
fails the test. The number of expressions really compared is asserted to stay above a
floor, so the exclusions cannot quietly swallow the suite.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import croniter
import cronsim
import pytest

from tests.unit.cron.strategies import DAY_NAMES, MONTH_NAMES, Dialect, random_expression
from tickwork.cron import CronExpr, CronSyntaxError

FIRES = 20
# The syntax all three engines accept: no '?', no wrapping ranges (22-2), no Quartz
# L/W/#, no H, steps no larger than the field's range.
COMMON = Dialect(question=False, wrapping=False, quartz=False)
COMMON_SECONDS = Dialect(seconds=True, question=False, wrapping=False, quartz=False)

Fires = list[datetime]


@dataclass(frozen=True)
class Suite:
    zone: str
    count: int  # expressions generated
    seed: int
    starts: tuple[datetime, ...]


def _utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


SUITES = (
    Suite(
        "UTC",
        3000,
        20260101,
        (_utc(2026, 1, 1), _utc(2024, 2, 27, 13, 17, 42), _utc(2027, 12, 31, 23, 59, 59)),
    ),
    Suite(
        "America/New_York",
        1500,
        20260308,
        # The day before each change of 2026, an hour before each, and a quiet instant.
        (
            _utc(2026, 3, 7, 12, 0, 7),
            _utc(2026, 3, 8, 6, 0, 0),
            _utc(2026, 10, 31, 12),
            _utc(2026, 11, 1, 5, 10),
            _utc(2026, 11, 1, 6, 10),
            _utc(2026, 6, 15, 3, 30),
        ),
    ),
    Suite(
        "Europe/Berlin",
        1500,
        20260329,
        (
            _utc(2026, 3, 28, 12),
            _utc(2026, 3, 29, 0, 30),
            _utc(2026, 10, 24, 12, 0, 30),
            _utc(2026, 10, 25, 0, 15),
            _utc(2026, 10, 25, 1, 15),
            _utc(2026, 1, 20, 9, 45),
        ),
    ),
)


# --------------------------------------------------------------------------------------
# The three engines, each answering "the next FIRES fire instants, in UTC"


def ours(text: str, start: datetime, zone: str) -> Fires:
    expr = CronExpr.parse(text)
    return [value.astimezone(UTC) for value in islice(expr.iter_after(start, zone), FIRES)]


def by_cronsim(text: str, start: datetime, zone: str) -> Fires:
    it = cronsim.CronSim(text, start.astimezone(ZoneInfo(zone)))
    found: Fires = []
    for value in islice(it, FIRES):
        found.append(value.astimezone(UTC))
    return found


def by_croniter(text: str, start: datetime, zone: str) -> Fires:
    # implement_cron_bug=True gives Vixie's day-of-month/day-of-week rule (AND when
    # either field starts with '*'), which is ours; croniter's default ORs them.
    it = croniter.croniter(
        text,
        start.astimezone(ZoneInfo(zone)),
        second_at_beginning=len(text.split()) == 6,
        implement_cron_bug=True,
    )
    found: Fires = []
    for _ in range(FIRES):
        try:
            found.append(it.get_next(datetime).astimezone(UTC))
        except croniter.CroniterBadDateError:
            break
    return found


# --------------------------------------------------------------------------------------
# Named classes of intentional (or peer-bug) differences


_RANGE = re.compile(r"^([0-9A-Za-z]+)-([0-9A-Za-z]+)(/\d+)?$")


def _field_values(field: int, token: str) -> int:
    """The number of a value token in field ``field`` (0 second .. 5 day-of-week)."""
    upper = token.upper()
    if field == 4 and upper in MONTH_NAMES:
        return MONTH_NAMES.index(upper) + 1
    if field == 5 and upper in DAY_NAMES:
        return DAY_NAMES.index(upper)
    return int(token)


def _six(text: str) -> list[str]:
    fields = text.split()
    return ["0", *fields] if len(fields) == 5 else fields


def _items(text: str) -> Iterator[tuple[int, str]]:
    for index, field in enumerate(_six(text)):
        for item in field.split(","):
            yield index, item


def single_value_range(text: str, *, stepped_only: bool) -> bool:
    """An item ``a-a`` or ``a-a/s`` (names count: ``6-SAT/8`` is 6-6/8).

    Peer bugs: cronsim reads ``a-a/s`` as ``a/s`` (a to the end of the field, so
    ``2-2/1`` in minutes is 2-59); croniter 7 collapses ``a-a`` to ``*`` (``0 16-16 * * *``
    fires every hour) and mangles ``a-a/s``. Tickwork: the one value ``a``.
    """
    for index, item in _items(text):
        match = _RANGE.match(item)
        if match is None or (stepped_only and match.group(3) is None):
            continue
        if _field_values(index, match.group(1)) == _field_values(index, match.group(2)):
            return True
    return False


def dow_start_step_reaches_seven(text: str) -> bool:
    """A day-of-week ``v/s`` whose run reaches 7 (``3/4`` is Wednesday and 7 = Sunday).

    croniter stops such a run at 6 (``3/4`` is only Wednesday); Tickwork and cronsim take
    the field's range, 0-7, where 7 is Sunday.
    """
    for index, item in _items(text):
        base, _, step = item.partition("/")
        if index == 5 and step and "-" not in base and base != "*":
            start = _field_values(5, base)
            if start != 0 and (7 - start) % int(step) == 0:
                return True
    return False


def fixed_time(text: str) -> bool:
    fields = _six(text)
    return not fields[1].startswith("*") and not fields[2].startswith("*")


def first_offset_change(start: datetime, zone: str, days: int = 800) -> datetime | None:
    """The first instant after ``start`` at which the zone's UTC offset changes."""
    tz = ZoneInfo(zone)
    offset = start.astimezone(tz).utcoffset()
    probe = start
    for _ in range(days * 4):
        later = probe + timedelta(hours=6)
        if later.astimezone(tz).utcoffset() != offset:
            lo, hi = probe, later
            while hi - lo > timedelta(seconds=1):
                mid = (lo + (hi - lo) / 2).replace(microsecond=0)
                if mid.astimezone(tz).utcoffset() == offset:
                    lo = mid
                else:
                    hi = mid
            return hi
        probe = later
    return None


def starts_on_second_pass(start: datetime, zone: str) -> bool:
    """The start lies in the second pass of a repeated hour (01:10 EST on 2026-11-01).

    cronsim bug: for a 5-field fixed-time job it drops the zone and searches naive wall
    time, then puts the first-pass offset back, so from 01:10 EST it returns 01:30 EDT,
    an instant *before* the start. Tickwork returns the next day's 01:30.
    """
    return start.astimezone(ZoneInfo(zone)).fold == 1


def before(fires: Fires, limit: datetime | None) -> Fires:
    return fires if limit is None else [value for value in fires if value < limit]


# --------------------------------------------------------------------------------------
# The comparison


@dataclass
class Tally:
    compared: int = 0  # (expression, start) pairs compared in full or up to a change
    expressions: int = 0
    excluded: int = 0


Peer = Callable[[str, datetime, str], Fires]


def _compare(
    suite: Suite,
    peer: Peer,
    dialect: Dialect,
    excluded: Callable[[str], bool],
    dst_limited: Callable[[str], bool],
) -> tuple[Tally, list[str]]:
    """Compare ``suite.count`` expressions; return the tally and every mismatch."""
    rng = random.Random(suite.seed)
    tally = Tally()
    mismatches: list[str] = []
    changes = {start: first_offset_change(start, suite.zone) for start in suite.starts}
    for _ in range(suite.count):
        text = random_expression(rng, dialect)
        if excluded(text) or _impossible(text):
            tally.excluded += 1
            continue
        tally.expressions += 1
        for start in suite.starts:
            # From the second pass of a repeated hour: cronsim's fixed-time bug, and no
            # "before the next change" prefix for the DST-limited peers.
            if (dst_limited(text) or fixed_time(text)) and starts_on_second_pass(start, suite.zone):
                continue
            expected = ours(text, start, suite.zone)
            try:
                found = peer(text, start, suite.zone)
            except (cronsim.CronSimError, croniter.CroniterError) as exc:
                mismatches.append(f"{text!r}: the peer refused it: {exc}")
                break
            if dst_limited(text):
                # Compare only the fires before the zone's next offset change.
                limit = changes[start]
                expected, found = before(expected, limit), before(found, limit)
                if len(found) < len(expected):  # the peer stopped early; compare less
                    expected = expected[: len(found)]
            if found != expected:
                mismatches.append(f"{text!r} from {start} in {suite.zone}: {found} != {expected}")
            tally.compared += 1
    return tally, mismatches


def _impossible(text: str) -> bool:
    """Tickwork refuses at parse time a date no calendar has (``0 0 31 4 *``); cronsim does
    too, croniter searches for 50 years and then gives up. Not compared: see
    test_impossible_dates_are_rejected_at_parse_time for our side."""
    try:
        CronExpr.parse(text)
    except CronSyntaxError:
        return True
    return False


def _cronsim_excluded(text: str) -> bool:
    return single_value_range(text, stepped_only=True)


def _croniter_excluded(text: str) -> bool:
    return single_value_range(text, stepped_only=False) or dow_start_step_reaches_seven(text)


def _cronsim_dst_limited(text: str) -> bool:
    # cronsim applies Debian's DST fix-up (gap fires at the jump, first pass only) to
    # 5-field fixed-time expressions; 6-field ones follow the wall clock there.
    return len(text.split()) == 6 and fixed_time(text)


def _croniter_dst_limited(text: str) -> bool:
    # croniter has no fixed-time/wall-clock distinction across DST changes.
    return True


def _suite_id(suite: Suite) -> str:
    return suite.zone.replace("/", "-")


def _floor(suite: Suite) -> int:
    # The named exclusions may take out at most half of a suite's expressions (croniter's
    # single-value-range bug takes the most: about 30% of 5-field, 35% of 6-field ones).
    return suite.count // 2


@pytest.mark.parametrize("suite", SUITES, ids=_suite_id)
def test_against_cronsim(suite: Suite) -> None:
    tally, mismatches = _compare(suite, by_cronsim, COMMON, _cronsim_excluded, lambda _text: False)
    seconds = Suite(suite.zone, suite.count // 5, suite.seed + 1, suite.starts)
    tally6, mismatches6 = _compare(
        seconds, by_cronsim, COMMON_SECONDS, _cronsim_excluded, _cronsim_dst_limited
    )
    assert mismatches + mismatches6 == []
    assert tally.expressions >= _floor(suite), tally
    assert tally6.expressions >= _floor(seconds), tally6


@pytest.mark.parametrize("suite", SUITES, ids=_suite_id)
def test_against_croniter(suite: Suite) -> None:
    limited = (lambda _text: False) if suite.zone == "UTC" else _croniter_dst_limited
    tally, mismatches = _compare(suite, by_croniter, COMMON, _croniter_excluded, limited)
    seconds = Suite(suite.zone, suite.count // 5, suite.seed + 1, suite.starts)
    tally6, mismatches6 = _compare(
        seconds, by_croniter, COMMON_SECONDS, _croniter_excluded, limited
    )
    assert mismatches + mismatches6 == []
    assert tally.expressions >= _floor(suite), tally
    assert tally6.expressions >= _floor(seconds), tally6


@pytest.mark.parametrize(
    "text",
    [
        "0 0 30 2 *",
        "0 0 31 4,6,9,11 ?",
        "0 0 31 2,4 */6",  # day-of-week starts with '*': AND, so still impossible
        "0 0 30,31 FEB */2",
    ],
)
def test_impossible_dates_are_rejected_at_parse_time(text: str) -> None:
    # cronsim refuses all of these too ("Bad day-of-month").
    with pytest.raises(cronsim.CronSimError):
        cronsim.CronSim(text, _utc(2026, 1, 1))
    with pytest.raises(CronSyntaxError, match="never occurs"):
        CronExpr.parse(text)
