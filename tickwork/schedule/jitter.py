"""Deterministic start delay: the same on every node and after every restart.

Jitter spreads the starts of schedules that share an instant (``0 * * * *`` everywhere),
but a random delay would differ between nodes and after a restart, so a recovering
leader could not tell when a fire was meant to start. The delay is therefore a hash of
what identifies the fire: the schedule id and its nominal instant. It only delays the
start; ``scheduled_for`` stays the nominal instant (DESIGN, "DST in detail").
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from tickwork.schedule.triggers import as_utc

_MILLISECOND = timedelta(milliseconds=1)


def jitter_key(schedule_id: str, scheduled_for: datetime) -> bytes:
    """The bytes hashed for a fire: ``"<schedule id>|<instant in UTC, ISO 8601>"``.

    The instant is rendered in UTC so the same instant written in another zone (or with
    ``fold=1``) gives the same key. Changing this format moves every jittered start: pin it.
    """
    return f"{schedule_id}|{as_utc(scheduled_for, 'scheduled_for').isoformat()}".encode()


def jitter_delay(schedule_id: str, scheduled_for: datetime, max_jitter: timedelta) -> timedelta:
    """A delay in [0, max_jitter), in whole milliseconds, from SHA-256 of the fire's key.

    Uses the whole 256-bit digest modulo the number of milliseconds, so the bias of the
    modulo is far below anything measurable. A ``max_jitter`` under 1ms gives no delay.
    """
    if not isinstance(max_jitter, timedelta) or max_jitter < timedelta(0):
        raise ValueError(f"max_jitter must be a non-negative timedelta (got {max_jitter!r})")
    span_ms = max_jitter // _MILLISECOND
    if span_ms == 0:
        return timedelta(0)
    digest = hashlib.sha256(jitter_key(schedule_id, scheduled_for)).digest()
    return (int.from_bytes(digest, "big") % span_ms) * _MILLISECOND
