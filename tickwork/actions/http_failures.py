"""How an http attempt that got no usable answer is classified and told to people.

The failure class is what the retry policy reads (a refused connection is worth retrying,
an invalid URL is not); the message names the target and the cause in one line
("connection refused: 127.0.0.1:9"), because that line is what an operator sees first.
"""

from __future__ import annotations

import errno
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import aiohttp

from tickwork.schedule.retry import FailureClass

__all__ = ["MAX_RETRY_AFTER", "classify_status", "describe_client_error", "parse_retry_after"]

MAX_RETRY_AFTER = timedelta(days=1)
"""Longest ``Retry-After`` honoured; a server asking for more gets this."""

_RESET_ERRNOS = frozenset({errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED})


def classify_status(status: int) -> FailureClass:
    """The failure class of a status outside the expected range."""
    if status == 429:
        return FailureClass.HTTP_429
    if 500 <= status <= 599:
        return FailureClass.HTTP_5XX
    return FailureClass.HTTP_4XX


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """A ``Retry-After`` header (seconds, or an HTTP-date compared with ``now``) as a
    wait, at most :data:`MAX_RETRY_AFTER`; None when absent or unreadable."""
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        seconds = int(text) if len(text) <= 9 else int(MAX_RETRY_AFTER.total_seconds())
        return min(timedelta(seconds=seconds), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": HTTP-dates are always GMT
        when = when.replace(tzinfo=UTC)
    return min(max(when - now, timedelta(0)), MAX_RETRY_AFTER)


def describe_client_error(exc: Exception, target: str) -> tuple[FailureClass, str]:
    """The failure class and message for an exception raised while sending to ``target``
    (``host:port``) or reading its answer."""
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return FailureClass.CONNECTION, f"DNS lookup failed: {target}: {_reason(exc.os_error)}"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return FailureClass.CONNECTION, f"TLS certificate rejected: {target}: {_tls(exc)}"
    if isinstance(exc, aiohttp.ClientSSLError):
        return FailureClass.CONNECTION, f"TLS error: {target}: {_reason(exc.os_error)}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        if isinstance(exc.os_error, ConnectionRefusedError):
            return FailureClass.CONNECTION, f"connection refused: {target}"
        return FailureClass.CONNECTION, f"cannot connect: {target}: {_reason(exc.os_error)}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return FailureClass.CONNECTION, f"server disconnected: {target}"
    if isinstance(exc, OSError):  # aiohttp.ClientOSError included
        if exc.errno in _RESET_ERRNOS or isinstance(exc, ConnectionResetError):
            return FailureClass.CONNECTION, f"connection reset: {target}"
        return FailureClass.CONNECTION, f"connection error: {target}: {_reason(exc)}"
    if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        return FailureClass.CONNECTION, f"connection broke: {target}: {exc}"
    if isinstance(exc, aiohttp.InvalidURL | aiohttp.NonHttpUrlClientError):
        return FailureClass.OTHER, f"invalid url: {exc}"
    if isinstance(exc, aiohttp.ClientResponseError):
        return FailureClass.OTHER, f"invalid HTTP response from {target}: {exc.message}"
    return FailureClass.OTHER, f"request to {target} failed: {type(exc).__name__}: {exc}"


def _reason(error: OSError) -> str:
    return error.strerror or str(error) or type(error).__name__


def _tls(exc: aiohttp.ClientConnectorCertificateError) -> str:
    cause = exc.certificate_error
    return getattr(cause, "verify_message", None) or str(cause) or type(cause).__name__
