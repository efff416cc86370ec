"""Tickwork's cron engine: pure (no clock, no I/O), parse once, iterate fast.

Syntax
======

Five fields ``minute hour day-of-month month day-of-week``; six put ``second`` first;
seven add ``year`` (1970-2199) last. In every field: ``*``, values, ranges ``1-5``, steps
``*/15``, ``10-50/5`` and ``7/10`` (7, 17, 27, ... to the end of the range), and lists
``1,15,30``. Ranges may wrap: ``22-2`` in hours is 22, 23, 0, 1, 2; ``FRI-MON`` is Friday to
Monday. Months take ``JAN``-``DEC`` and days of the week ``SUN``-``SAT`` (any case);
day-of-week 0 and 7 are both Sunday. ``?`` means "any" in the two day fields.

Macros: ``@yearly``/``@annually``, ``@monthly``, ``@weekly``, ``@daily``/``@midnight``,
``@hourly``.

Quartz day rules: ``L`` (last day of the month), ``L-3`` (three days before it), ``LW``
(last weekday), ``15W`` (the weekday nearest the 15th, never crossing into another
month), and in day-of-week ``5L`` (the last Friday) and ``5#3`` (the third Friday).

``H`` spreads load: ``H``, ``H/15`` and ``H(0-29)`` pick a value (or a step offset) from a
SHA-256 hash of the hash key (the schedule's id) and the field, so a thousand
``H * * * *`` schedules fire across the hour, and every node computes the same minute.
``H`` in day-of-month stays within 1-28. Without a hash key, ``H`` is an error.

Semantics
=========

Day of month and day of week (Vixie cron): when both fields are restricted, a day
matches if *either* matches; when either field starts with ``*`` (or ``?``), both must
match. So ``0 0 13 * 5`` fires on every 13th *and* every Friday, and ``0 0 */2 * 5`` only
on Fridays with an odd date.

Time zones and DST (Debian/Vixie cron)
======================================

A job is *fixed-time* unless its minute or hour field starts with ``*`` (``H/step``
counts as ``*``; ``0-59/15`` is fixed). Expressions are evaluated on the zone's wall
clock, then:

* **Spring forward** (e.g. America/New_York, 2026-03-08, 02:00 -> 03:00): a fixed-time
  job whose time falls in the gap runs once, at the first instant after it:
  ``30 2 * * *`` fires at 03:00 EDT that day; ``0,30 2 * * *`` also fires once, at 03:00.
  A wall-clock job skips the missing times: ``*/30 * * * *`` goes 01:30 EST, 03:00 EDT.
* **Fall back** (2026-11-01, 02:00 EDT -> 01:00 EST, so 01:00-01:59 happens twice): a
  fixed-time job runs once, on the first pass: ``30 1 * * *`` fires at 01:30 EDT only.
  A wall-clock job follows the clock through both passes: ``0 * * * *`` fires at 01:00
  EDT and again at 01:00 EST.
* The rules hold for gaps of any length: in Pacific/Apia, which skipped 2011-12-30
  entirely, ``0 12 * * *`` fires at 2011-12-31 00:00 for the lost day, then at noon.
  (Vixie cron treats a jump over three hours as a clock change and runs nothing for it;
  a time zone rule is not a clock change, and Tickwork does not drop the day.)

API
===

``CronExpr.parse(text, hash_key=None)``, then ``next_after``, ``iter_after``,
``prev_before``, ``iter_before`` and ``matches`` with an aware instant and a zone (an
IANA name or a ``tzinfo``). Results are aware in that zone, with ``fold=1`` on the second
pass of a repeated hour: compare them in UTC, as Python ignores ``fold`` when comparing
two datetimes of the same zone.
"""

from tickwork.cron.expression import CronExpr
from tickwork.cron.fields import CronSyntaxError
from tickwork.cron.zones import resolve_zone

__all__ = ["CronExpr", "CronSyntaxError", "resolve_zone"]
