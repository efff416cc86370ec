"""The ``http`` action: one request per attempt, on one shared pooled aiohttp session.

Webhooks are the bulk of Tickwork's work, so the runner keeps one ``ClientSession`` with a
large keep-alive pool for its whole life (created lazily inside the running loop) and
reads at most the recorded cap of each response. Every request carries
``Idempotency-Key: <execution id>`` (the same on every attempt: a target that saw the
first attempt can tell a retry from a new run), ``X-Tickwork-Scheduled-For`` (the nominal
instant, not the send time), ``X-Tickwork-Attempt``, and the signature headers when a key
applies. Redirects are not followed: a redirect to another host would carry the signature
and the idempotency key somewhere the schedule never named. Proxy variables from the
environment are ignored: through a proxy, the SSRF guard would see the proxy's address
instead of the target's.
"""

from __future__ import annotations

import asyncio
import functools
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from multidict import CIMultiDict, CIMultiDictProxy
from pydantic import JsonValue
from yarl import URL

from tickwork import __version__
from tickwork.actions.base import StepContext, StepOutcome
from tickwork.actions.capture import READ_CHUNK_BYTES, CappedText
from tickwork.actions.http_failures import (
    classify_status,
    describe_client_error,
    parse_retry_after,
)
from tickwork.actions.signing import SecretNotConfigured, Secrets, sign
from tickwork.actions.ssrf import GuardedConnector, SsrfGuard, TargetDenied
from tickwork.actions.templates import TemplateError, render_value
from tickwork.clock import Clock
from tickwork.durations import format_duration
from tickwork.schedule.retry import FailureClass
from tickwork.spec.actions import HttpActionDocument

__all__ = ["DEFAULT_TIMEOUT", "KEEPALIVE_S", "POOL_LIMIT", "USER_AGENT", "HttpRunner"]

DEFAULT_TIMEOUT = timedelta(seconds=30)
"""Whole-request limit (connect, send, read the capped body) when the step sets none."""

POOL_LIMIT = 1000
"""Connections open at once across all targets; more requests wait for a free one."""

KEEPALIVE_S = 30.0
"""How long an idle connection is kept for the next request to the same target."""

USER_AGENT = f"Tickwork/{__version__}"

_PARSED_URLS = 4096
"""Rendered URLs kept parsed."""

_BODY_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
"""Compact JSON bodies; one encoder for every request (``json.dumps`` with options builds
a new one each call)."""


class _Rejected(Exception):
    """A request that is not sent: its fields could not be rendered or checked."""


@dataclass(frozen=True, slots=True)
class _Request:
    method: str
    url: str
    parsed: URL
    target: str
    headers: CIMultiDict[str]
    body: bytes | None
    signed: bool

    def detail(self) -> dict[str, Any]:
        return {"url": self.url, "method": self.method, "signed": self.signed}


class HttpRunner:
    """Runs ``http`` actions.

    ``clock`` is only used to turn a ``Retry-After`` date into a wait. ``secrets`` holds
    the signing keys (default: none, requests are unsigned unless an action names a
    secret, which then fails); ``guard`` the networks never to connect to (default:
    :class:`~tickwork.actions.ssrf.SsrfGuard`'s metadata list). Call :meth:`close` when
    done, inside the loop that ran the requests.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        secrets: Secrets | None = None,
        guard: SsrfGuard | None = None,
        pool_limit: int = POOL_LIMIT,
    ) -> None:
        self._clock = clock
        self._secrets = Secrets() if secrets is None else secrets
        self._guard = SsrfGuard() if guard is None else guard
        self._pool_limit = pool_limit
        self._session: aiohttp.ClientSession | None = None

    async def run(self, action: HttpActionDocument, context: StepContext) -> StepOutcome:
        """Send the request once; see :class:`~tickwork.actions.base.ActionRunner`."""
        try:
            request = self._prepare(action, context)
        except _Rejected as exc:
            return StepOutcome(ok=False, failure=FailureClass.OTHER, error=str(exc))
        timeout = DEFAULT_TIMEOUT if context.timeout is None else context.timeout
        deadline = asyncio.timeout(timeout.total_seconds())
        try:
            async with deadline:
                return await self._send(request, action.expect_status)
        except TimeoutError as exc:
            if not deadline.expired():
                return _failed(request, *describe_client_error(exc, request.target))
            return _failed(
                request, FailureClass.TIMEOUT, f"no response within {format_duration(timeout)}"
            )
        except TargetDenied as exc:
            return _failed(request, FailureClass.OTHER, str(exc))
        except Exception as exc:  # a step's failure is an outcome, whatever raised it
            return _failed(request, *describe_client_error(exc, request.target))

    async def close(self) -> None:
        """Close the pooled connections; a later :meth:`run` opens a new session."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = GuardedConnector(
                self._guard, limit=self._pool_limit, keepalive_timeout=KEEPALIVE_S
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                timeout=aiohttp.ClientTimeout(),  # the deadline is the runner's
                cookie_jar=aiohttp.DummyCookieJar(),  # runs must not share cookies
                trust_env=False,  # no proxies from the environment (see the module doc)
            )
        return self._session

    def _prepare(self, action: HttpActionDocument, context: StepContext) -> _Request:
        try:
            url = str(render_value(action.url, context, where="url"))
            header_values = {
                name: str(render_value(value, context, where=f"headers.{name}"))
                for name, value in action.headers.items()
            }
            body_value = render_value(action.body, context, where="body")
            key = self._secrets.key_for(action.secret)
        except (TemplateError, SecretNotConfigured) as exc:
            raise _Rejected(str(exc)) from None
        headers: CIMultiDict[str] = CIMultiDict({"User-Agent": USER_AGENT})
        for name, value in header_values.items():
            if "\r" in value or "\n" in value:
                raise _Rejected(f"headers.{name}: must not contain line breaks once rendered")
            headers[name] = value
        body = _encode_body(body_value, headers)
        headers["Idempotency-Key"] = str(context.execution_id)
        headers["X-Tickwork-Scheduled-For"] = _rfc3339(context.scheduled_for)
        headers["X-Tickwork-Attempt"] = str(context.attempt)
        if key is not None:
            headers.update(sign(key, body or b"", timestamp=int(time.time())))
        parsed, target = _parse(url)
        return _Request(
            method=action.method,
            url=url,
            parsed=parsed,
            target=target,
            headers=headers,
            body=body,
            signed=key is not None,
        )

    async def _send(self, request: _Request, expect: tuple[int, int]) -> StepOutcome:
        async with self._client().request(
            request.method,
            request.parsed,
            headers=request.headers,
            data=request.body,
            allow_redirects=False,
        ) as response:
            captured = CappedText()
            while not captured.truncated:
                chunk = await response.content.read(READ_CHUNK_BYTES)
                if not chunk:
                    break
                captured.feed(chunk)
            text = captured.text()
            if captured.truncated:
                response.close()  # the rest is not wanted: drop the connection, not read it
            return self._outcome(request, response, text, captured.truncated, expect)

    def _outcome(
        self,
        request: _Request,
        response: aiohttp.ClientResponse,
        text: str,
        truncated: bool,
        expect: tuple[int, int],
    ) -> StepOutcome:
        status = response.status
        detail = {
            **request.detail(),
            "url": str(response.url),
            "response_headers": _header_dict(response.headers),
        }
        recorded: dict[str, Any] = {
            "status_code": status,
            "output": text,
            "truncated": truncated,
            "detail": detail,
            "result": None if truncated else _json_body(response, text),
            "target": request.target,
        }
        low, high = expect
        if low <= status <= high:
            return StepOutcome(ok=True, **recorded)
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock.now())
        error = f"HTTP {status} {response.reason or ''}".rstrip()
        location = response.headers.get("Location")
        if 300 <= status <= 399 and location:
            error += f", redirect to {location} not followed"
        error += f" (expected {low}-{high})"
        if retry_after is not None:
            error += f"; retry after {format_duration(retry_after)}"
        return StepOutcome(
            ok=False,
            failure=classify_status(status),
            error=error,
            retry_after=retry_after,
            **recorded,
        )


def _failed(request: _Request, failure: FailureClass, error: str) -> StepOutcome:
    return StepOutcome(
        ok=False, failure=failure, error=error, detail=request.detail(), target=request.target
    )


@functools.lru_cache(maxsize=_PARSED_URLS)
def _parse(url: str) -> tuple[URL, str]:
    """``url`` parsed once (most schedules post to a fixed URL), and its ``host:port``;
    :class:`_Rejected` unless it is an absolute http(s) URL."""
    try:
        parsed = URL(url)
    except ValueError as exc:
        raise _Rejected(f"url: {url!r} is not a valid URL ({exc})") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise _Rejected(f"url: {url!r} is not an absolute http:// or https:// URL")
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    return parsed, f"{host}:{parsed.port}"


def _encode_body(value: JsonValue, headers: CIMultiDict[str]) -> bytes | None:
    """The body bytes; sets ``Content-Type`` unless the action's headers already do."""
    if value is None:
        return None
    if isinstance(value, str):
        headers.setdefault("Content-Type", "text/plain; charset=utf-8")
        return value.encode()
    headers.setdefault("Content-Type", "application/json")
    return _BODY_JSON.encode(value).encode()


@functools.lru_cache(maxsize=1024)
def _rfc3339(instant: datetime) -> str:
    """``instant`` in UTC, ``Z``-suffixed (a burst's runs share one instant: formatted once)."""
    return instant.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _header_dict(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    """Response headers as a JSON object; repeated headers joined with ``, ``."""
    merged: dict[str, str] = {}
    for name, value in headers.items():
        merged[name] = f"{merged[name]}, {value}" if name in merged else value
    return merged


def _json_body(response: aiohttp.ClientResponse, text: str) -> JsonValue:
    content_type = response.content_type
    if content_type != "application/json" and not content_type.endswith("+json"):
        return None
    try:
        parsed: JsonValue = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed
