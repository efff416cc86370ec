"""One cron field: its text parsed into a bit mask of allowed values, plus Quartz day rules.

A value ``v`` is allowed when bit ``v`` of ``mask`` is set, so "the next allowed value at or
after x" is a shift and a lowest-bit lookup; no tables are built, which keeps parsing cheap.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from tickwork.errors import InvalidSpec


class CronSyntaxError(InvalidSpec):
    """A cron expression that cannot be parsed: names the field, the token and why."""


@dataclass(frozen=True, slots=True)
class FieldKind:
    name: str
    lo: int
    hi: int
    names: dict[str, int] | None = None
    # The range ``H`` hashes into when the field has no explicit H(range).
    hash_hi: int | None = None


_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

SECOND = FieldKind("second", 0, 59)
MINUTE = FieldKind("minute", 0, 59)
HOUR = FieldKind("hour", 0, 23)
# H in day-of-month stays within 1-28 so that it fires in every month.
DAY_OF_MONTH = FieldKind("day-of-month", 1, 31, hash_hi=28)
MONTH = FieldKind("month", 1, 12, {n: i + 1 for i, n in enumerate(_MONTHS)})
# 0 and 7 are both Sunday; 7 folds onto 0 once parsed.
DAY_OF_WEEK = FieldKind("day-of-week", 0, 7, {n: i for i, n in enumerate(_DAYS)}, hash_hi=6)
YEAR = FieldKind("year", 1970, 2199)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A parsed field.

    ``star`` is Vixie cron's flag: the text starts with ``*`` or ``?`` (or is ``H/step``,
    a hashed ``*/step``). It decides the day-of-month/day-of-week OR rule and which
    jobs follow the wall clock across DST changes.
    """

    mask: int
    star: bool
    # Day-of-month rules: L-n offsets from the last day (L is 0), LW, and nW days.
    last_day_offsets: tuple[int, ...] = ()
    last_weekday: bool = False
    nearest_weekdays: tuple[int, ...] = ()
    # Day-of-week rules: "5L" (last Friday) as a weekday mask, "5#3" as (weekday, nth).
    last_of_weekdays: int = 0
    nth_weekdays: tuple[tuple[int, int], ...] = ()

    @property
    def has_rules(self) -> bool:
        return bool(
            self.last_day_offsets
            or self.last_weekday
            or self.nearest_weekdays
            or self.last_of_weekdays
            or self.nth_weekdays
        )


def full_mask(kind: FieldKind) -> int:
    return ((1 << (kind.hi + 1)) - 1) ^ ((1 << kind.lo) - 1)


def hashed_value(hash_key: str, field: str, span: int) -> int:
    """A stable offset in ``range(span)`` for this key and field (SHA-256, never ``hash()``)."""
    digest = hashlib.sha256(f"{hash_key}\x00{field}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % span


class _FieldParser:
    """Parses the comma-separated items of one field into a :class:`FieldSpec`."""

    def __init__(self, kind: FieldKind, text: str, hash_key: str | None) -> None:
        self.kind = kind
        self.text = text
        self.hash_key = hash_key
        self.mask = 0
        self.last_day_offsets: list[int] = []
        self.last_weekday = False
        self.nearest_weekdays: list[int] = []
        self.last_of_weekdays = 0
        self.nth_weekdays: list[tuple[int, int]] = []

    def error(self, token: str, reason: str, *, quote: bool = True) -> CronSyntaxError:
        shown = repr(token) if quote and token else token
        return CronSyntaxError(self.kind.name, shown, reason)

    def parse(self) -> FieldSpec:
        kind = self.kind
        text = self.text
        if text == "*" or (text == "?" and kind in (DAY_OF_MONTH, DAY_OF_WEEK)):
            return FieldSpec(full_mask(kind) & ~(1 << 7 if kind is DAY_OF_WEEK else 0), True)
        for item in text.split(","):
            self.item(item)
        mask = self.mask
        if kind is DAY_OF_WEEK and mask & (1 << 7):
            mask = (mask | 1) & ~(1 << 7)
        star = text[0] in "*?" or (text.startswith("H/") and "," not in text)
        return FieldSpec(
            mask,
            star,
            tuple(self.last_day_offsets),
            self.last_weekday,
            tuple(self.nearest_weekdays),
            self.last_of_weekdays,
            tuple(self.nth_weekdays),
        )

    def item(self, item: str) -> None:
        if not item:
            raise self.error(self.text, "has an empty item in its list")
        if self.kind is DAY_OF_MONTH and self.day_of_month_rule(item):
            return
        if self.kind is DAY_OF_WEEK and self.day_of_week_rule(item):
            return
        base, sep, step_text = item.partition("/")
        step = self.step(item, step_text) if sep else None
        values = self.base_values(item, base, step)
        for value in values[:: step or 1]:
            self.mask |= 1 << value

    def step(self, item: str, text: str) -> int:
        if not text.isdigit():
            raise self.error(item, f"has a step {text!r} that is not a whole number")
        step = int(text)
        span = self.kind.hi - self.kind.lo + 1
        if step < 1:
            raise self.error(item, "has a step of 0; the step must be at least 1")
        if step > span:
            raise self.error(
                item,
                f"has a step of {step}, larger than the field's range "
                f"{self.kind.lo}-{self.kind.hi} (use an interval trigger for that)",
            )
        return step

    def base_values(self, item: str, base: str, step: int | None) -> list[int]:
        kind = self.kind
        if base in ("*", "?"):
            if base == "?" and kind not in (DAY_OF_MONTH, DAY_OF_WEEK):
                raise self.error(item, "uses '?', which only day-of-month and day-of-week allow")
            return list(range(kind.lo, kind.hi + 1))
        if base.startswith("H"):
            return self.hashed_values(item, base, step)
        start_text, dash, end_text = base.partition("-")
        start = self.value(start_text, item)
        if not dash:
            # "7/10" means 7, 17, 27, ... up to the end of the range.
            return list(range(start, kind.hi + 1)) if step else [start]
        if "-" in end_text:
            raise self.error(item, "is not a range; write it as start-end, e.g. 1-5")
        end = self.value(end_text, item)
        if start <= end:
            return list(range(start, end + 1))
        if kind is YEAR:
            raise self.error(item, f"is a backwards range: {start} is after {end}")
        # A wrapping range such as 22-2 (hours) or FRI-MON.
        top = 6 if kind is DAY_OF_WEEK else kind.hi
        return list(range(start, top + 1)) + list(range(kind.lo, end + 1))

    def hashed_values(self, item: str, base: str, step: int | None) -> list[int]:
        kind = self.kind
        if self.hash_key is None:
            raise self.error(item, "uses H, which needs a hash key (the schedule's id)")
        if base == "H":
            lo, hi = kind.lo, kind.hash_hi if kind.hash_hi is not None else kind.hi
        elif base.startswith("H(") and base.endswith(")"):
            lo_text, dash, hi_text = base[2:-1].partition("-")
            if not dash:
                raise self.error(item, "needs a range inside H(...), e.g. H(0-29)")
            lo, hi = self.value(lo_text, item), self.value(hi_text, item)
            if lo > hi:
                raise self.error(item, f"is a backwards range: {lo} is after {hi}")
        else:
            raise self.error(item, "is not H, H/step or H(lo-hi)")
        values = list(range(lo, hi + 1))
        if step is None:
            return [values[hashed_value(self.hash_key, kind.name, len(values))]]
        # H/15: a hashed offset into the first step, then every step after it. The step
        # itself is applied by the caller, so return the values from the offset on.
        offset = hashed_value(self.hash_key, kind.name, min(step, len(values)))
        return values[offset:]

    def value(self, text: str, item: str) -> int:
        kind = self.kind
        if text.isdigit():
            number = int(text)
        elif kind.names is not None and text.upper() in kind.names:
            return kind.names[text.upper()]
        else:
            raise self.error(text or item, self.not_a_value_reason(text))
        if not kind.lo <= number <= kind.hi:
            raise self.error(str(number), f"is out of range {kind.lo}-{kind.hi}", quote=False)
        return number

    def not_a_value_reason(self, text: str) -> str:
        kind = self.kind
        if kind is not DAY_OF_MONTH and kind is not DAY_OF_WEEK:
            upper = text.upper()
            for char in "#?":
                if char in upper:
                    return f"uses {char!r}, which only the day fields allow"
            # "L", "LW", "15W", "5L": Quartz day rules typed in the wrong field.
            if upper in ("L", "W", "LW") or (upper[-1:] in ("L", "W") and upper[:-1].isdigit()):
                return f"uses {upper[-1]!r}, which only the day fields allow"
        return "is not a number or a name" if kind.names else "is not a number"

    def day_of_month_rule(self, item: str) -> bool:
        upper = item.upper()
        if upper == "L":
            self.last_day_offsets.append(0)
        elif upper == "LW":
            self.last_weekday = True
        elif upper.startswith("L-"):
            offset_text = upper[2:]
            if not offset_text.isdigit() or not 0 <= int(offset_text) <= 30:
                raise self.error(item, "must be L-n with n from 0 to 30 (days before the last)")
            self.last_day_offsets.append(int(offset_text))
        elif upper.endswith("W") and upper[:-1].isdigit():
            self.nearest_weekdays.append(self.value(upper[:-1], item))
        elif "L" in upper or "W" in upper:
            raise self.error(item, "is not a day-of-month rule (L, L-n, LW or nW)")
        else:
            return False
        return True

    def day_of_week_rule(self, item: str) -> bool:
        upper = item.upper()
        if "#" in upper:
            day_text, _, nth_text = upper.partition("#")
            weekday = self.value(day_text, item) % 7
            if not nth_text.isdigit() or not 1 <= int(nth_text) <= 5:
                raise self.error(item, "must be weekday#n with n from 1 to 5")
            self.nth_weekdays.append((weekday, int(nth_text)))
        elif len(upper) > 1 and upper.endswith("L"):
            self.last_of_weekdays |= 1 << (self.value(upper[:-1], item) % 7)
        elif upper == "L":
            raise self.error(item, "needs a weekday before L in day-of-week, e.g. 5L or FRIL")
        else:
            return False
        return True


def parse_field(kind: FieldKind, text: str, hash_key: str | None) -> FieldSpec:
    # Fast paths for the two most common forms: "*" and a single number.
    if text == "*":
        return _STAR[kind.name]
    if text.isdigit() and kind.lo <= int(text) <= kind.hi:
        value = int(text) % 7 if kind is DAY_OF_WEEK else int(text)
        return FieldSpec(1 << value, False)
    return _FieldParser(kind, text, hash_key).parse()


_STAR = {
    kind.name: _FieldParser(kind, "*", None).parse()
    for kind in (SECOND, MINUTE, HOUR, DAY_OF_MONTH, MONTH, DAY_OF_WEEK, YEAR)
}
