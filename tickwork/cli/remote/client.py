"""A small synchronous client of ``/api/v1``: every failure becomes one :class:`ApiError`.

An answer that is not 2xx is read as problem+json (``detail``, and for invalid input the
``errors`` list naming each field); a server that cannot be reached, or answers something
that is not Tickwork, is an error naming the URL. ``429`` answers are retried after their
``Retry-After`` (a few times, briefly); nothing else is retried.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

from tickwork.cli.remote.config import API_SUFFIX, Connection
from tickwork.errors import TickworkError

if TYPE_CHECKING:
    import httpx

__all__ = ["ApiClient", "ApiError", "Listing"]

TIMEOUT_S = 30.0
RATE_LIMIT_RETRIES = 3
MAX_RETRY_AFTER_S = 10.0


class ApiError(TickworkError):
    """The server refused a request (``status`` > 0) or could not be talked to (0)."""

    def __init__(
        self, message: str, *, status: int = 0, fields: list[tuple[str, str]] | None = None
    ) -> None:
        self.status = status
        self.fields = fields or []
        super().__init__(message)

    def __str__(self) -> str:
        """The detail's first line, then one line per field (unless the detail is that one)."""
        detail = str(self.args[0])
        lines = [f"{field}: {message}" if field else message for field, message in self.fields]
        if not lines or lines == [detail]:
            return detail
        return "\n".join([detail.splitlines()[0], *(f"  - {line}" for line in lines)])


@dataclass(frozen=True, slots=True)
class Listing:
    """Items of a list; ``next_cursor`` is set when more pages follow."""

    items: list[Any]
    next_cursor: str | None


class ApiClient:
    """Calls one Tickwork server as one token; use it as a context manager."""

    def __init__(self, connection: Connection, *, timeout_s: float = TIMEOUT_S) -> None:
        import httpx  # here, so commands that never call a server start faster

        self.url = connection.url
        self._http = httpx.Client(
            base_url=connection.url + API_SUFFIX,
            headers={
                "Authorization": f"Bearer {connection.token}",
                "Accept": "application/json",
            },
            timeout=timeout_s,
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._http.close()

    # ----------------------------------------------------------------------------------

    def get(self, path: str, **params: Any) -> Any:
        return self.decode(self.request("GET", path, params=params))

    def post(self, path: str, body: Any = None, **headers: str) -> Any:
        return self.decode(self.request("POST", path, body=body, headers=headers))

    def delete(self, path: str) -> Any:
        return self.decode(self.request("DELETE", path))

    def put(self, path: str, body: Any, **headers: str) -> Any:
        return self.decode(self.request("PUT", path, body=body, headers=headers))

    def items(self, path: str, *, limit: int | None = None, **params: Any) -> Iterator[Any]:
        """Every item of a paged list, page after page (``limit`` items a page)."""
        cursor: str | None = None
        while True:
            page = self.get(path, **params, limit=limit, cursor=cursor)
            yield from page["items"]
            cursor = page.get("next_cursor")
            if not cursor:
                return

    def page(self, path: str, *, limit: int | None, every: bool, **params: Any) -> Listing:
        """The first page of a list (``limit`` items at most), or all of it when ``every``."""
        if every:
            return Listing(list(self.items(path, limit=limit, **params)), None)
        page = self.get(path, **params, limit=limit)
        return Listing(page["items"], page.get("next_cursor"))

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send, retrying 429s; the response when it is 2xx, else :class:`ApiError`."""
        query = {k: v for k, v in (params or {}).items() if v is not None}
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            response = self._send(method, path, query, body, headers or {})
            if response.status_code != 429 or attempt == RATE_LIMIT_RETRIES:
                break
            time.sleep(_retry_after(response))
        if response.is_success:
            return response
        raise self._problem(response)

    def _send(
        self,
        method: str,
        path: str,
        query: Mapping[str, Any],
        body: Any,
        headers: Mapping[str, str],
    ) -> httpx.Response:
        import httpx

        try:
            return self._http.request(
                method,
                path,
                params=query,
                json=body,
                headers=dict(headers),
            )
        except httpx.TimeoutException:
            raise ApiError(f"Tickwork at {self.url} did not answer in time") from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise ApiError(f"cannot reach Tickwork at {self.url}: {reason}") from None

    def decode(self, response: httpx.Response) -> Any:
        """The JSON body of a response (None when empty); ApiError when it is not JSON."""
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                f"{self.url} answered {response.status_code} with something that is not JSON "
                "(is this a Tickwork server?)",
                status=response.status_code,
            ) from None

    def _problem(self, response: httpx.Response) -> ApiError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "detail" not in body:
            return ApiError(
                f"{self.url} answered {status} {response.reason_phrase} "
                "(is this a Tickwork server?)",
                status=status,
            )
        detail = str(body.get("detail") or body.get("title") or f"HTTP {status}")
        if status == 401:
            detail += " (check --token, TICKWORK_TOKEN or `tickwork login`)"
        fields = [
            (_where(e), str(e.get("message", "")))
            for e in body.get("errors") or []
            if isinstance(e, dict)
        ]
        return ApiError(detail, status=status, fields=fields)


def _where(error: Mapping[str, Any]) -> str:
    """``field``, or ``file:line: field`` for a problem in a file sent to apply."""
    field = str(error.get("field", ""))
    if "file" not in error:
        return field
    place = f"{error['file']}:{error.get('line', 1)}"
    return f"{place}: {field}" if field else place


def _retry_after(response: httpx.Response) -> float:
    try:
        seconds = float(response.headers.get("retry-after", "1"))
    except ValueError:
        seconds = 1.0
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_S)
