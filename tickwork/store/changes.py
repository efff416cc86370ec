"""Telling every node's scheduler that schedules changed: PostgreSQL ``LISTEN``/``NOTIFY``.

A change made through one node must wake the loops of all the others, which may be
asleep until an instant the change just moved. The writer calls :func:`announce_change`
inside its transaction (PostgreSQL delivers the notification only if it commits); each
loop runs a :class:`ChangeListener`. On SQLite there is one node, which wakes its own
loop in process, so both are no-ops there.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import threading
from collections.abc import Callable, Mapping

import psycopg
from sqlalchemy.engine import URL, Connection

from tickwork.store.engine import is_postgres

__all__ = ["CHANNEL", "QUEUE_CHANNEL", "ChangeListener", "announce_change", "announce_queued"]

log = logging.getLogger(__name__)

CHANNEL = "tickwork_schedules"
QUEUE_CHANNEL = "tickwork_queue"
"""Runs became claimable (fired, triggered, released): wakes every node's worker."""
_POLL_S = 5.0
"""How often the listener thread looks at its stop flag while no notification comes
(a safety net: :meth:`ChangeListener.stop` wakes it at once)."""
_RECONNECT_S = 1.0


def announce_change(conn: Connection) -> None:
    """Wake every listening scheduler once this transaction commits (PostgreSQL only)."""
    if is_postgres(conn):
        conn.exec_driver_sql(f"NOTIFY {CHANNEL}")


def announce_queued(conn: Connection) -> None:
    """Wake every listening worker once this transaction commits (PostgreSQL only)."""
    if is_postgres(conn):
        conn.exec_driver_sql(f"NOTIFY {QUEUE_CHANNEL}")


class ChangeListener:
    """A daemon thread that calls ``on_change`` for every notification on ``channel``,
    and each of ``more`` channels' callbacks for theirs (one connection for all).

    After a lost connection it reconnects and calls every callback once, since a
    notification may have been missed meanwhile. :meth:`stop` wakes the thread with a
    notification on a channel of its own, so stopping takes a round trip, not a poll.
    """

    def __init__(
        self,
        url: URL,
        on_change: Callable[[], None],
        channel: str = CHANNEL,
        *,
        more: Mapping[str, Callable[[], None]] | None = None,
    ) -> None:
        self._callbacks = {channel: on_change, **(more or {})}
        self._stop_channel = f"tickwork_stop_{secrets.token_hex(6)}"
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="tickwork-listen", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        if not self._thread.is_alive():
            return
        with (
            contextlib.suppress(psycopg.Error),
            psycopg.connect(self._conninfo, autocommit=True, connect_timeout=2) as conn,
        ):
            conn.execute(f"NOTIFY {self._stop_channel}")
        self._thread.join(timeout=_POLL_S * 3)

    def _listen(self) -> None:
        first = True
        while not self._stopped.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    for channel in (*self._callbacks, self._stop_channel):
                        conn.execute(f"LISTEN {channel}")
                    if not first:
                        for callback in self._callbacks.values():
                            callback()
                    first = False
                    while not self._stopped.is_set():
                        for notice in conn.notifies(timeout=_POLL_S):
                            if self._stopped.is_set():
                                break
                            wake = self._callbacks.get(notice.channel)
                            if wake is not None:
                                wake()
            except psycopg.Error as exc:
                log.warning("change listener lost its connection, reconnecting: %s", exc)
                self._stopped.wait(_RECONNECT_S)
