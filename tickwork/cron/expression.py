"""CronExpr: a parsed expression and its fire instants in any time zone.

The search runs on wall-clock fields as plain integers (year, month, day, hour, minute,
second), jumping field by field with bit masks; only the candidate it lands on becomes a
``datetime``, and only then is the zone consulted. :mod:`tickwork.cron.dst` decides what a
candidate means when the zone skips or repeats it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, tzinfo

from tickwork.cron import dst
from tickwork.cron.days import day_mask
from tickwork.cron.fields import (
    DAY_OF_MONTH,
    DAY_OF_WEEK,
    HOUR,
    MINUTE,
    MONTH,
    SECOND,
    YEAR,
    CronSyntaxError,
    FieldSpec,
    parse_field,
)
from tickwork.cron.macros import split_fields
from tickwork.cron.zones import TimeZoneLike, is_fixed_offset, resolve_zone

Wall = tuple[int, int, int, int, int, int]

# Without a year field the calendar repeats every 400 years: a search that finds
# nothing in that span never will (e.g. February 30th).
_CALENDAR_CYCLE_YEARS = 400
_MAX_YEAR = 9999
_MICROSECOND = timedelta(microseconds=1)


class CronExpr:
    """A parsed cron expression. Immutable; safe to share between threads and schedules."""

    __slots__ = (
        "_day_masks",
        "day_of_month",
        "day_of_week",
        "has_seconds",
        "hash_key",
        "hours",
        "minutes",
        "months",
        "seconds",
        "text",
        "wall_clock",
        "years",
    )

    text: str
    hash_key: str | None
    seconds: int
    minutes: int
    hours: int
    months: int
    years: int | None
    day_of_month: FieldSpec
    day_of_week: FieldSpec
    has_seconds: bool
    wall_clock: bool
    _day_masks: dict[int, int]

    @classmethod
    def parse(cls, text: str, *, hash_key: str | None = None) -> CronExpr:
        """Parse ``text``; raise :class:`CronSyntaxError` naming the field, token and reason."""
        if not isinstance(text, str) or not text.strip():
            raise CronSyntaxError("expression", "", "is empty; expected a cron expression")
        second, minute, hour, dom, month, dow, year = split_fields(text)
        self = object.__new__(cls)
        self.text = text.strip()
        self.hash_key = hash_key
        self.seconds = parse_field(SECOND, second, hash_key).mask
        minutes = parse_field(MINUTE, minute, hash_key)
        hours = parse_field(HOUR, hour, hash_key)
        self.minutes = minutes.mask
        self.hours = hours.mask
        self.day_of_month = parse_field(DAY_OF_MONTH, dom, hash_key)
        self.months = parse_field(MONTH, month, hash_key).mask
        self.day_of_week = parse_field(DAY_OF_WEEK, dow, hash_key)
        years = None if year is None else parse_field(YEAR, year, hash_key)
        self.years = None if years is None or years.star else years.mask
        self.has_seconds = second != "0"
        # Vixie's rule: '*' leading the minute or hour field makes a job follow the wall
        # clock across DST changes; any other job is a fixed-time job.
        self.wall_clock = minutes.star or hours.star
        self._day_masks = {}
        self._reject_impossible_days()
        return self

    def __repr__(self) -> str:
        return f"CronExpr({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, CronExpr)
            and other.text == self.text
            and other.hash_key == self.hash_key
        )

    def __hash__(self) -> int:
        return hash((self.text, self.hash_key))

    # -- public API ------------------------------------------------------------------

    def next_after(self, after: datetime, tz: TimeZoneLike = "UTC") -> datetime | None:
        """The first fire instant strictly after ``after``, aware in ``tz``; None if none."""
        zone = resolve_zone(tz)
        local = _aware(after, "after").astimezone(zone)
        start = (local.year, local.month, local.day, local.hour, local.minute, local.second + 1)
        if is_fixed_offset(zone):
            wall = self._next_wall(start)
            return None if wall is None else datetime(*wall, tzinfo=zone)
        if not _is_repeated(local, zone):
            found = self._scan_forward_from_unique(start, zone)
            return None if found is None else found[0]
        return self._next_after_repeated(start, local, zone)

    def prev_before(self, before: datetime, tz: TimeZoneLike = "UTC") -> datetime | None:
        """The last fire instant strictly before ``before``, aware in ``tz``; None if none."""
        zone = resolve_zone(tz)
        local = _aware(before, "before").astimezone(zone)
        second = local.second if local.microsecond else local.second - 1
        start = (local.year, local.month, local.day, local.hour, local.minute, second)
        if is_fixed_offset(zone):
            wall = self._prev_wall(start)
            return None if wall is None else datetime(*wall, tzinfo=zone)
        before_utc = before.astimezone(UTC)
        found = self._scan_backward(start, zone, before_utc)
        if local.fold == 1 and _is_repeated(local, zone):
            # `before` is on the second pass: every first-pass fire precedes it.
            first_pass = self._last_on_first_pass(local, zone)
            if first_pass is not None and (found is None or first_pass > _utc(found)):
                return first_pass.astimezone(zone)
        return found

    def iter_after(self, after: datetime, tz: TimeZoneLike = "UTC") -> Iterator[datetime]:
        """The fire instants after ``after``, in order, for as long as there are any."""
        zone = resolve_zone(tz)
        current = self.next_after(after, zone)
        fixed_offset = is_fixed_offset(zone)
        while current is not None:
            yield current
            if fixed_offset or _is_repeated(current, zone):
                current = self.next_after(current, zone)
                continue
            # From a wall time the zone shows once, later wall times are later instants:
            # keep scanning walls without converting back and forth.
            y, mo, d, h, mi, s = (
                current.year,
                current.month,
                current.day,
                current.hour,
                current.minute,
                current.second,
            )
            while True:
                found = self._scan_forward_from_unique((y, mo, d, h, mi, s + 1), zone)
                if found is None:
                    return
                current, (y, mo, d, h, mi, s), unique = found
                if not unique:
                    break
                yield current

    def iter_before(self, before: datetime, tz: TimeZoneLike = "UTC") -> Iterator[datetime]:
        """The fire instants before ``before``, latest first."""
        zone = resolve_zone(tz)
        current = self.prev_before(before, zone)
        while current is not None:
            yield current
            current = self.prev_before(current, zone)

    def matches(self, instant: datetime, tz: TimeZoneLike = "UTC") -> bool:
        """True when ``instant`` is one of the expression's fire instants in ``tz``.

        For a wall time the zone shows once, that is the plain field match. Around DST
        changes it follows the same rules as :meth:`next_after`: the first instant after a
        spring-forward gap matches a fixed-time job whose time fell in the gap, and the
        second pass of a repeated hour does not match a fixed-time job.
        """
        instant_utc = _aware(instant, "instant").astimezone(UTC)
        if instant_utc.microsecond:
            return False
        found = self.next_after(instant_utc - _MICROSECOND, tz)
        return found is not None and found.astimezone(UTC) == instant_utc

    def matches_wall(self, wall: datetime) -> bool:
        """Whether the fields match this wall-clock time, whatever the zone does to it."""
        fields = (wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second)
        return not wall.microsecond and self._next_wall(fields) == fields

    # -- the search, on wall-clock fields ---------------------------------------------

    def _scan_forward_from_unique(
        self, start: Wall, zone: tzinfo
    ) -> tuple[datetime, Wall, bool] | None:
        """The first fire at or after wall ``start``, given that the wall just before
        ``start`` is shown once by the zone (so no instant comparisons are needed).

        Returns the instant, its wall time and whether the zone shows that wall once.
        """
        fixed_time = not self.wall_clock
        wall = self._next_wall(start)
        while wall is not None:
            local = datetime(*wall, tzinfo=zone)
            first = local.utcoffset()
            later = datetime(*wall, tzinfo=zone, fold=1).utcoffset()
            if first == later:
                return local, wall, True
            if first > later:  # type: ignore[operator]
                return local, wall, False
            change = dst.transition_around(local.replace(tzinfo=None), zone)
            if fixed_time:
                return change.instant(zone), wall, False
            wall = self._next_wall(_wall(change.wall_where_new_offset_starts))
        return None

    def _next_after_repeated(self, start: Wall, local: datetime, zone: tzinfo) -> datetime | None:
        """next_after when ``local`` (the start) is in a repeated stretch of wall time."""
        after_utc = local.astimezone(UTC)
        found = self._scan_forward(start, zone, after_utc)
        if self.wall_clock and local.fold == 0:
            # On the first pass of the repeat: the second pass comes before anything
            # past the stretch.
            second_pass = self._first_on_second_pass(local, zone)
            if second_pass is not None and (found is None or second_pass < _utc(found)):
                return second_pass.astimezone(zone)
        return found

    def _scan_forward(self, start: Wall, zone: tzinfo, after_utc: datetime) -> datetime | None:
        fixed_time = not self.wall_clock
        wall = self._next_wall(start)
        while wall is not None:
            local = datetime(*wall, tzinfo=zone)
            first = local.utcoffset()
            second_pass = datetime(*wall, tzinfo=zone, fold=1)
            later = second_pass.utcoffset()
            if first == later:
                if local > after_utc:
                    return local
            elif first > later:  # type: ignore[operator]
                if local > after_utc:
                    return local
                if not fixed_time and second_pass > after_utc:
                    return second_pass
            else:
                change = dst.transition_around(local.replace(tzinfo=None), zone)
                jump = change.instant(zone)
                if fixed_time and jump > after_utc:
                    return jump
                wall = self._next_wall(_wall(change.wall_where_new_offset_starts))
                continue
            y, mo, d, h, mi, s = wall
            wall = self._next_wall((y, mo, d, h, mi, s + 1))
        return None

    def _scan_backward(self, start: Wall, zone: tzinfo, before_utc: datetime) -> datetime | None:
        fixed_time = not self.wall_clock
        wall = self._prev_wall(start)
        while wall is not None:
            local = datetime(*wall, tzinfo=zone)
            first = local.utcoffset()
            second_pass = datetime(*wall, tzinfo=zone, fold=1)
            later = second_pass.utcoffset()
            if first == later:
                if local < before_utc:
                    return local
            elif first > later:  # type: ignore[operator]
                if not fixed_time and second_pass < before_utc:
                    return second_pass
                if local < before_utc:
                    return local
            else:
                change = dst.transition_around(local.replace(tzinfo=None), zone)
                jump = change.instant(zone)
                if fixed_time and jump < before_utc:
                    return jump
                y, mo, d, h, mi, s = _wall(change.wall_where_old_offset_ends)
                wall = self._prev_wall((y, mo, d, h, mi, s - 1))
                continue
            y, mo, d, h, mi, s = wall
            wall = self._prev_wall((y, mo, d, h, mi, s - 1))
        return None

    def _first_on_second_pass(self, local: datetime, zone: tzinfo) -> datetime | None:
        change = dst.transition_around(local.replace(tzinfo=None), zone)
        wall = self._next_wall(_wall(change.wall_where_new_offset_starts))
        if wall is None or datetime(*wall) >= change.wall_where_old_offset_ends:
            return None
        return datetime(*wall, tzinfo=zone, fold=1).astimezone(UTC)

    def _last_on_first_pass(self, local: datetime, zone: tzinfo) -> datetime | None:
        change = dst.transition_around(local.replace(tzinfo=None), zone)
        y, mo, d, h, mi, s = _wall(change.wall_where_old_offset_ends)
        wall = self._prev_wall((y, mo, d, h, mi, s - 1))
        if wall is None or datetime(*wall) < change.wall_where_new_offset_starts:
            return None
        return datetime(*wall, tzinfo=zone).astimezone(UTC)

    # One flat loop on purpose: this is the hottest code in Tickwork.
    def _next_wall(self, start: Wall) -> Wall | None:  # noqa: C901
        """The first wall time at or after ``start`` matching every field.

        ``start`` may overflow (second 60, minute 60, day 32, ...); each field carries over.
        """
        y, mo, d, h, mi, s = start
        years, months, hours, minutes, seconds = (
            self.years,
            self.months,
            self.hours,
            self.minutes,
            self.seconds,
        )
        limit = min(_MAX_YEAR, y + _CALENDAR_CYCLE_YEARS)
        while True:
            if years is not None:
                rest = years >> y
                if not rest:
                    return None
                found = y + (rest & -rest).bit_length() - 1
                if found != y:
                    y, mo, d, h, mi, s = found, 1, 1, 0, 0, 0
            if y > limit:
                return None
            rest = months >> mo
            if not rest:
                y, mo, d, h, mi, s = y + 1, 1, 1, 0, 0, 0
                continue
            found = mo + (rest & -rest).bit_length() - 1
            if found != mo:
                mo, d, h, mi, s = found, 1, 0, 0, 0
            rest = self._days_of(y, mo) >> d
            if not rest:
                y, mo, d, h, mi, s = y, mo + 1, 1, 0, 0, 0
                continue
            found = d + (rest & -rest).bit_length() - 1
            if found != d:
                d, h, mi, s = found, 0, 0, 0
            rest = hours >> h
            if not rest:
                d, h, mi, s = d + 1, 0, 0, 0
                continue
            found = h + (rest & -rest).bit_length() - 1
            if found != h:
                h, mi, s = found, 0, 0
            rest = minutes >> mi
            if not rest:
                h, mi, s = h + 1, 0, 0
                continue
            found = mi + (rest & -rest).bit_length() - 1
            if found != mi:
                mi, s = found, 0
            rest = seconds >> s
            if not rest:
                mi, s = mi + 1, 0
                continue
            return y, mo, d, h, mi, s + (rest & -rest).bit_length() - 1

    def _prev_wall(self, start: Wall) -> Wall | None:  # noqa: C901
        """The last wall time at or before ``start`` matching every field (may underflow)."""
        y, mo, d, h, mi, s = start
        years, months, hours, minutes, seconds = (
            self.years,
            self.months,
            self.hours,
            self.minutes,
            self.seconds,
        )
        limit = max(1, y - _CALENDAR_CYCLE_YEARS)
        while True:
            if years is not None:
                rest = years & ((2 << y) - 1)
                if not rest:
                    return None
                found = rest.bit_length() - 1
                if found != y:
                    y, mo, d, h, mi, s = found, 12, 31, 23, 59, 59
            if y < limit:
                return None
            rest = months & ((2 << mo) - 1) if mo >= 0 else 0
            if not rest:
                y, mo, d, h, mi, s = y - 1, 12, 31, 23, 59, 59
                continue
            found = rest.bit_length() - 1
            if found != mo:
                mo, d, h, mi, s = found, 31, 23, 59, 59
            rest = self._days_of(y, mo) & ((2 << d) - 1) if d >= 0 else 0
            if not rest:
                mo, d, h, mi, s = mo - 1, 31, 23, 59, 59
                continue
            found = rest.bit_length() - 1
            if found != d:
                d, h, mi, s = found, 23, 59, 59
            rest = hours & ((2 << h) - 1) if h >= 0 else 0
            if not rest:
                d, h, mi, s = d - 1, 23, 59, 59
                continue
            found = rest.bit_length() - 1
            if found != h:
                h, mi, s = found, 59, 59
            rest = minutes & ((2 << mi) - 1) if mi >= 0 else 0
            if not rest:
                h, mi, s = h - 1, 59, 59
                continue
            found = rest.bit_length() - 1
            if found != mi:
                mi, s = found, 59
            rest = seconds & ((2 << s) - 1) if s >= 0 else 0
            if not rest:
                mi, s = mi - 1, 59
                continue
            return y, mo, d, h, mi, rest.bit_length() - 1

    def _days_of(self, year: int, month: int) -> int:
        """Bit mask of the days of this month that fire (cached: computed once a month)."""
        key = year * 16 + month
        days = self._day_masks.get(key)
        if days is None:
            days = day_mask(self.day_of_month, self.day_of_week, year, month)
            self._day_masks[key] = days
        return days

    def _reject_impossible_days(self) -> None:
        """Refuse dates no calendar has, such as ``0 0 30 2 *``, instead of never firing."""
        dom, dow = self.day_of_month, self.day_of_week
        if dom.has_rules or dow.has_rules or self.years is not None:
            # Rare forms (L-30 in February, 31W in April, Feb 29 of 2027): ask the search
            # itself whether any day ever fires, from the first year allowed.
            first_year = 1970 if self.years is None else (self.years & -self.years).bit_length() - 1
            if self._next_wall((first_year, 1, 1, 0, 0, 0)) is None:
                raise CronSyntaxError(
                    "expression",
                    repr(self.text),
                    "never fires: no date matches its day-of-month, month, day-of-week "
                    "and year together",
                )
            return
        if dom.star or not dow.star:
            return
        longest = max(_LONGEST_MONTH[m] for m in range(1, 13) if self.months >> m & 1)
        if not dom.mask & ((2 << longest) - 1):
            first_day = (dom.mask & -dom.mask).bit_length() - 1
            raise CronSyntaxError(
                "day-of-month",
                str(first_day),
                "never occurs in the months this expression allows",
            )


_LONGEST_MONTH = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime (with a time zone), got {value!r}")
    return value


def _is_repeated(local: datetime, zone: tzinfo) -> bool:
    """Whether the zone shows ``local``'s wall time twice (a fall-back overlap)."""
    other = datetime(
        local.year,
        local.month,
        local.day,
        local.hour,
        local.minute,
        local.second,
        tzinfo=zone,
        fold=1 - local.fold,
    )
    return other.utcoffset() != local.utcoffset()


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def _wall(naive: datetime) -> Wall:
    return naive.year, naive.month, naive.day, naive.hour, naive.minute, naive.second
