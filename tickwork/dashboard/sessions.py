"""Signed-in sessions: a random id in a cookie, the token it stands for kept on the server.

The cookie (``tickwork_session``: HttpOnly, SameSite=Lax, Secure on https) carries only
a random session id; the token stays in this node's memory, so a stolen cookie never
reveals it, and signing out or restarting the node ends the session. Every request
checks the token again (answered from the token service's short cache), so a revoked
token stops working in the dashboard as fast as in the API.

Each session has its own CSRF token, which every form posts back
(:mod:`tickwork.dashboard.forms`). The sign-in form, posted before there is a session,
is protected by a double-submit cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tickwork.clock import Clock
from tickwork.service.access import Caller

__all__ = [
    "LOGIN_CSRF_COOKIE",
    "SESSION_COOKIE",
    "Flash",
    "Session",
    "SessionStore",
]

SESSION_COOKIE = "tickwork_session"
LOGIN_CSRF_COOKIE = "tickwork_login_csrf"
IDLE_TIMEOUT = timedelta(hours=12)
"""A session not used for this long is gone; sign in again."""
MAX_SESSIONS = 10_000


@dataclass(frozen=True, slots=True)
class Flash:
    """A one-time message shown on the next page: ``kind`` is ``ok`` or ``error``."""

    kind: str
    text: str


@dataclass(slots=True)
class Session:
    token: str = field(repr=False)
    csrf: str = field(repr=False)
    caller: Caller
    last_seen: datetime
    flashes: list[Flash] = field(default_factory=list)

    def flash(self, kind: str, text: str) -> None:
        self.flashes.append(Flash(kind, text))

    def take_flashes(self) -> list[Flash]:
        taken, self.flashes = self.flashes, []
        return taken

    def csrf_matches(self, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(presented, self.csrf)


class SessionStore:
    """Sessions of this node, by the SHA-256 of their cookie value; thread-safe."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def open(self, token: str, caller: Caller) -> tuple[str, Session]:
        """A new session for ``token``: returns the cookie value and the session."""
        cookie = secrets.token_urlsafe(32)
        session = Session(
            token=token,
            csrf=secrets.token_urlsafe(32),
            caller=caller,
            last_seen=self._clock.now(),
        )
        with self._lock:
            if len(self._sessions) >= MAX_SESSIONS:
                self._drop_idle()
            self._sessions[_key(cookie)] = session
        return cookie, session

    def get(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        now = self._clock.now()
        with self._lock:
            session = self._sessions.get(_key(cookie))
            if session is None:
                return None
            if now - session.last_seen > IDLE_TIMEOUT:
                del self._sessions[_key(cookie)]
                return None
            session.last_seen = now
            return session

    def close(self, cookie: str | None) -> None:
        if cookie:
            with self._lock:
                self._sessions.pop(_key(cookie), None)

    def _drop_idle(self) -> None:
        now = self._clock.now()
        for key in [k for k, s in self._sessions.items() if now - s.last_seen > IDLE_TIMEOUT]:
            del self._sessions[key]
        if len(self._sessions) >= MAX_SESSIONS:  # still full: the oldest go
            oldest = sorted(self._sessions, key=lambda k: self._sessions[k].last_seen)
            for key in oldest[: len(oldest) // 10 or 1]:
                del self._sessions[key]


def _key(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()
