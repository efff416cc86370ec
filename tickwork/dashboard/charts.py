"""Small charts as inline SVG, drawn on the server: no chart library, no JavaScript.

Colours come from CSS classes (``tone-ok``, ``series-duration``…), so the charts follow
the light and dark themes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from markupsafe import Markup, escape

__all__ = ["TONES", "Lane", "RunPoint", "rate_bar", "run_chart", "sparkline", "timeline"]

TONES = {
    "succeeded": "ok",
    "active": "ok",
    "running": "info",
    "queued": "info",
    "retrying": "warn",
    "waiting": "warn",
    "paused": "warn",
    "buffered": "muted",
    "skipped": "muted",
    "completed": "muted",
    "cancelled": "muted",
    "missed": "bad",
    "failed": "bad",
    "timed_out": "bad",
    "dead": "bad",
}
"""The colour of each run status and schedule state, for chips and charts alike."""


def sparkline(statuses: Sequence[str], *, slots: int = 20) -> Markup:
    """One bar per run, oldest left, coloured by status; tall bars are failures."""
    width, height, gap = slots * 5, 18, 1
    bars = []
    start = slots - len(statuses[-slots:])
    for index, status in enumerate(statuses[-slots:]):
        tone = TONES.get(status, "muted")
        bar = height if tone == "bad" else height * 0.6
        x = (start + index) * 5
        bars.append(
            f'<rect class="tone-{tone}" x="{x}" y="{height - bar:.1f}" width="{5 - gap}" '
            f'height="{bar:.1f}" rx="1"><title>{escape(status)}</title></rect>'
        )
    label = f"last {len(statuses)} runs" if statuses else "no runs yet"
    return Markup(
        f'<svg class="spark" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{label}">'
        f'<rect class="spark-track" x="0" y="{height - 1}" width="{width}" height="1"/>'
        + "".join(bars)
        + "</svg>"
    )


def rate_bar(rate: float | None) -> Markup:
    """A thin bar filled to the success rate."""
    if rate is None:
        return Markup('<span class="rate dim">–</span>')
    tone = "ok" if rate >= 0.95 else "warn" if rate >= 0.75 else "bad"
    return Markup(
        '<span class="rate"><span class="rate-bar" aria-hidden="true">'
        f'<span class="tone-bg-{tone}" style="width:{rate * 100:.0f}%"></span></span>'
        f"{rate * 100:.0f}%</span>"
    )


@dataclass(frozen=True, slots=True)
class RunPoint:
    """One run on the chart: when it was due, how long it took and how late it started."""

    scheduled_for: datetime
    status: str
    duration_ms: int | None
    lateness_ms: int | None


def run_chart(points: Sequence[RunPoint]) -> Markup:
    """Duration (bars, coloured by status) and lateness (a line) of recent runs, oldest
    left, on one millisecond axis."""
    if not points:
        return Markup('<p class="empty">No runs yet: the chart fills in as the schedule runs.</p>')
    width, height, left, bottom, top = 960, 220, 60, 24, 10
    plot_w, plot_h = width - left - 8, height - bottom - top
    values = [v for p in points for v in (p.duration_ms, p.lateness_ms) if v is not None]
    peak = _nice(max(values, default=1))
    step = plot_w / max(len(points), 30)

    def y(value: float) -> float:
        return top + plot_h - value / peak * plot_h

    parts = []
    for fraction in (0, 0.5, 1):
        value = peak * fraction
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - 8}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/><text class="axis" x="{left - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{_ms_label(value)}</text>'
        )
    line = []
    for index, point in enumerate(points):
        x = left + index * step
        title = escape(
            f"{point.scheduled_for.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC · {point.status} · "
            f"took {_ms_label(point.duration_ms)} · late {_ms_label(point.lateness_ms)}"
        )
        if point.duration_ms is not None:
            tone = TONES.get(point.status, "muted")
            bar_h = max(point.duration_ms / peak * plot_h, 1.5)
            bar_y = top + plot_h - bar_h
            parts.append(
                f'<rect class="tone-{tone}" x="{x + step * 0.15:.1f}" y="{bar_y:.1f}" '
                f'width="{max(step * 0.7, 1):.1f}" height="{bar_h:.1f}" rx="1">'
                f"<title>{title}</title></rect>"
            )
        if point.lateness_ms is not None:
            line.append(f"{x + step / 2:.1f},{y(point.lateness_ms):.1f}")
    if len(line) > 1:
        parts.append(f'<polyline class="series-lateness" points="{" ".join(line)}"/>')
    for dot in line if len(line) <= 60 else []:
        cx, cy = dot.split(",")
        parts.append(f'<circle class="series-lateness-dot" cx="{cx}" cy="{cy}" r="2.5"/>')
    first, last = points[0].scheduled_for, points[-1].scheduled_for
    parts.append(
        f'<text class="axis" x="{left}" y="{height - 6}">{first.astimezone(UTC):%m-%d %H:%M}</text>'
        f'<text class="axis" x="{width - 8}" y="{height - 6}" text-anchor="end">'
        f"{last.astimezone(UTC):%m-%d %H:%M} UTC</text>"
    )
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="Duration and lateness of the last {len(points)} runs">'
        + "".join(parts)
        + "</svg>"
    )


@dataclass(frozen=True, slots=True)
class Lane:
    """One schedule on the timeline: its fires in the span; ``more``: too many to draw."""

    label: str
    href: str
    fires: Sequence[datetime]
    more: bool = False


def timeline(lanes: Sequence[Lane], start: datetime, span: timedelta) -> Markup:
    """Fires coming up between ``start`` and ``start + span``: one lane per schedule."""
    if not lanes:
        return Markup(f'<p class="empty">Nothing fires in the next {_span_label(span)}.</p>')
    width, left, right, lane_h, top = 960, 190, 12, 26, 8
    height = top + lane_h * len(lanes) + 24
    plot_w = width - left - right

    def x(at: datetime) -> float:
        return left + max(0.0, min(1.0, (at - start) / span)) * plot_w

    parts = []
    ticks = 6
    for index in range(ticks + 1):
        at = start + span * index / ticks
        anchor = "start" if index == 0 else "end" if index == ticks else "middle"
        parts.append(
            f'<line class="grid" x1="{x(at):.1f}" x2="{x(at):.1f}" y1="{top}" '
            f'y2="{height - 20}"/><text class="axis" x="{x(at):.1f}" y="{height - 6}" '
            f'text-anchor="{anchor}">{"now" if index == 0 else f"{at.astimezone(UTC):%H:%M}"}'
            "</text>"
        )
    for row, lane in enumerate(lanes):
        y = top + row * lane_h + lane_h / 2
        label = lane.label if len(lane.label) <= 24 else lane.label[:23] + "…"
        parts.append(
            f'<a href="{escape(lane.href)}"><text x="0" y="{y + 4:.1f}">{escape(label)}'
            f"<title>{escape(lane.label)}</title></text></a>"
            f'<line class="lane-line" x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        radius = 4 if len(lane.fires) <= 40 else 2.5
        for at in lane.fires:
            parts.append(
                f'<circle class="fire-dot" cx="{x(at):.1f}" cy="{y:.1f}" r="{radius}">'
                f"<title>{escape(lane.label)} · {at.astimezone(UTC):%H:%M:%S} UTC</title></circle>"
            )
        if lane.more and lane.fires:
            first = x(lane.fires[-1])
            parts.append(
                f'<rect class="fire-band" x="{first:.1f}" y="{y - 2:.1f}" '
                f'width="{width - right - first:.1f}" height="4" rx="2">'
                f"<title>{escape(lane.label)} keeps firing</title></rect>"
            )
    total = sum(len(lane.fires) for lane in lanes)
    return Markup(
        f'<svg class="lanes" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{total} fires of {len(lanes)} schedules in the next {_span_label(span)}">'
        + "".join(parts)
        + "</svg>"
    )


def _nice(value: float) -> float:
    """A round axis maximum at or above ``value``."""
    for candidate in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 60_000):
        if value <= candidate:
            return float(candidate)
    return float(value)


def _ms_label(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 1000:
        return f"{value:.0f} ms"
    return f"{value / 1000:.1f} s"


def _span_label(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} hours" if hours != 1 else "hour"
