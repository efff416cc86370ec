"""The Jinja2 environment of the dashboard's pages, and the filters that format values.

Times are shown in UTC or in a schedule's own zone, always with the zone named; every
``<time>`` element also carries the instant, so the browser can show it in the viewer's
zone on hover.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from tickwork.cron import resolve_zone
from tickwork.dashboard import charts

__all__ = ["create_environment", "duration_ms", "relative"]


def create_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("tickwork.dashboard", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        utc=utc,
        local=local,
        when=when,
        ms=duration_ms,
        relative=relative,
        chip=chip,
        short_id=short_id,
        pretty_json=pretty_json,
        percent=percent,
    )
    env.globals.update(charts=charts, fresh_key=lambda: secrets.token_urlsafe(16))
    return env


def utc(value: datetime | None, seconds: bool = True) -> Markup:
    if value is None:
        return Markup("–")
    instant = value.astimezone(UTC)
    text = instant.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " UTC"
    return _time(instant, text)


def local(value: datetime | None, zone: str) -> Markup:
    """In ``zone``, with its abbreviation: ``2026-12-04 03:30 CET``."""
    if value is None:
        return Markup("–")
    shown = value.astimezone(resolve_zone(zone))
    return _time(value, shown.strftime("%Y-%m-%d %H:%M:%S ") + (shown.tzname() or zone))


def when(value: datetime | None, now: datetime) -> Markup:
    """A short UTC time with how long ago (or until) it is."""
    if value is None:
        return Markup("–")
    instant = value.astimezone(UTC)
    same_day = instant.date() == now.astimezone(UTC).date()
    text = instant.strftime("%H:%M:%S" if same_day else "%Y-%m-%d %H:%M")
    return Markup('{} <span class="dim">{}</span>').format(
        _time(instant, text + " UTC"), relative(value, now)
    )


def _time(instant: datetime, text: str) -> Markup:
    iso = instant.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return Markup('<time datetime="{}">{}</time>').format(iso, text)


def relative(value: datetime | None, now: datetime) -> str:
    if value is None:
        return ""
    delta = value - now
    span = _span(abs(delta))
    if span == "now":
        return "now"
    return f"in {span}" if delta > timedelta(0) else f"{span} ago"


def _span(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 1:
        return "now"
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def duration_ms(value: int | float | None) -> str:
    if value is None:
        return "–"
    if value < 1000:
        return f"{value:.0f} ms"
    if value < 60_000:
        return f"{value / 1000:.1f} s"
    minutes, seconds = divmod(int(value // 1000), 60)
    return f"{minutes} min {seconds} s"


def chip(status: object) -> Markup:
    text = str(status)
    tone = charts.TONES.get(text, "muted")
    return Markup('<span class="chip chip-{}">{}</span>').format(tone, text.replace("_", " "))


def short_id(value: object) -> str:
    return str(value)[-12:]


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}%"
