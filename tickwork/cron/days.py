"""Which days of a given month match the day-of-month and day-of-week fields.

The answer for one (year, month) is a bit mask (bit ``d`` set when day ``d`` fires); the
expression caches it, so the calendar arithmetic runs once per month, not per fire.
Weekdays use cron numbering: 0 is Sunday, 6 is Saturday.
"""

from __future__ import annotations

import calendar

from tickwork.cron.fields import FieldSpec

# Bits 0, 7, 14, 21 and 28: one day a week, shifted onto the first matching day.
_WEEKLY = sum(1 << (7 * week) for week in range(5))
_SATURDAY, _SUNDAY = 6, 0


def month_shape(year: int, month: int) -> tuple[int, int]:
    """(cron weekday of the 1st, number of days)."""
    monday_based, days = calendar.monthrange(year, month)
    return (monday_based + 1) % 7, days


def day_mask(dom: FieldSpec, dow: FieldSpec, year: int, month: int) -> int:
    first_weekday, days = month_shape(year, month)
    in_month = ((1 << (days + 1)) - 1) & ~1
    dom_days = (dom.mask | _dom_rules(dom, first_weekday, days)) & in_month
    dow_days = (_weekday_days(dow.mask, first_weekday) | _dow_rules(dow, first_weekday, days)) & (
        in_month
    )
    # Vixie cron: when both fields are restricted a day matches either; when either
    # starts with '*' both must match (the starred one usually matches every day).
    if dom.star or dow.star:
        return dom_days & dow_days
    return dom_days | dow_days


def _weekday_days(weekdays: int, first_weekday: int) -> int:
    days = 0
    for weekday in range(7):
        if weekdays >> weekday & 1:
            days |= _WEEKLY << (1 + (weekday - first_weekday) % 7)
    return days


def _weekday_of(day: int, first_weekday: int) -> int:
    return (first_weekday + day - 1) % 7


def _dom_rules(dom: FieldSpec, first_weekday: int, days: int) -> int:
    if not dom.has_rules:
        return 0
    mask = 0
    for offset in dom.last_day_offsets:
        if days - offset >= 1:
            mask |= 1 << (days - offset)
    if dom.last_weekday:
        last = _weekday_of(days, first_weekday)
        mask |= 1 << (days - 1 if last == _SATURDAY else days - 2 if last == _SUNDAY else days)
    for day in dom.nearest_weekdays:
        nearest = _nearest_weekday(day, first_weekday, days)
        if nearest is not None:
            mask |= 1 << nearest
    return mask


def _nearest_weekday(day: int, first_weekday: int, days: int) -> int | None:
    """Quartz ``nW``: the weekday nearest to ``day``, never crossing into another month."""
    if day > days:
        return None
    weekday = _weekday_of(day, first_weekday)
    if weekday == _SATURDAY:
        return day - 1 if day > 1 else day + 2
    if weekday == _SUNDAY:
        return day + 1 if day < days else day - 2
    return day


def _dow_rules(dow: FieldSpec, first_weekday: int, days: int) -> int:
    if not dow.has_rules:
        return 0
    mask = 0
    last_weekday = _weekday_of(days, first_weekday)
    for weekday in range(7):
        if dow.last_of_weekdays >> weekday & 1:
            mask |= 1 << (days - (last_weekday - weekday) % 7)
    for weekday, nth in dow.nth_weekdays:
        day = 1 + (weekday - first_weekday) % 7 + 7 * (nth - 1)
        if day <= days:
            mask |= 1 << day
    return mask
