"""Errors as RFC 9457 ``application/problem+json``: one mapping, for every route.

Routes raise Tickwork's own errors (:mod:`tickwork.errors`) and never build error
responses themselves. Each problem names its type (a ``urn:tickwork:problem:…`` URN),
a title, the HTTP status, a detail for people and, for invalid input, ``errors``: every
field that is wrong with its reason.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from tickwork.errors import (
    Conflict,
    Forbidden,
    InvalidDocument,
    InvalidManifests,
    InvalidSpec,
    NotFound,
    StoreUnavailable,
    TickworkError,
)

__all__ = [
    "COMMON_PROBLEMS",
    "PROBLEM_JSON",
    "PreconditionFailed",
    "ProblemBody",
    "RateLimited",
    "Unauthorized",
    "install_problem_handlers",
    "problem",
    "problem_responses",
]

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"


class ProblemBody(BaseModel):
    """An RFC 9457 problem (``application/problem+json``), as every error is answered."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str | int]] | None = None
    """Every wrong field: ``field`` and ``message``; for files to apply, ``file`` and
    ``line`` too."""


_PROBLEM_SCHEMA = ProblemBody.model_json_schema()
_DESCRIPTIONS = {
    400: "The body could not be read as JSON text (not UTF-8, for one).",
    401: "No token, or an unknown or revoked one.",
    403: "The token lacks the scope, or the namespace is not its own.",
    404: "Not found (or not in the token's namespace).",
    409: "Conflicts with what is stored (see `detail`).",
    412: "If-Match names a revision that is no longer current.",
    413: "The request body is too large.",
    422: "Invalid input: `errors` names every field that is wrong.",
    429: "Too many requests: retry after `Retry-After` seconds.",
    503: "The store cannot be reached: retry after `Retry-After` seconds.",
}


def problem_responses(*codes: int, **described: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for the problems a route may answer with: standard descriptions
    for ``codes``, or a route's own as ``_404="No such run."``."""
    wanted = {code: _DESCRIPTIONS[code] for code in codes}
    wanted.update({int(key.lstrip("_")): text for key, text in described.items()})
    return {
        code: {"description": text, "content": {PROBLEM_JSON: {"schema": _PROBLEM_SCHEMA}}}
        for code, text in wanted.items()
    }


COMMON_PROBLEMS = problem_responses(400, 401, 403, 413, 422, 429, 503)
"""What any API route may answer besides its own (declared once, for every router)."""


class Unauthorized(TickworkError):
    """No token, or one that is unknown or revoked."""


class RateLimited(TickworkError):
    def __init__(self, retry_after_s: float) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(f"too many requests; retry in {retry_after_s:.1f} s")


class PreconditionFailed(TickworkError):
    """``If-Match`` named a revision that is no longer current."""


class PayloadTooLarge(TickworkError):
    pass


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    *,
    errors: Sequence[dict[str, str | int]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:tickwork:problem:{slug}",
        "title": title,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = list(errors)
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_errors(exc: InvalidSpec) -> list[dict[str, str | int]]:
    if isinstance(exc, InvalidManifests):
        return [
            {"file": p.file, "line": p.line, "field": p.field, "message": p.message}
            for p in exc.problems
        ]
    if isinstance(exc, InvalidDocument):
        return [{"field": p.field, "message": p.message} for p in exc.problems]
    return [{"field": exc.field, "message": exc.reason}]


def _tickwork_error(_request: Request, exc: Exception) -> JSONResponse:
    match exc:
        case InvalidSpec():
            return problem(
                422, "invalid-input", "Invalid input", str(exc), errors=_field_errors(exc)
            )
        case NotFound():
            return problem(404, "not-found", "Not found", str(exc), kind=exc.kind)
        case PreconditionFailed():
            return problem(412, "precondition-failed", "Precondition failed", str(exc))
        case Conflict():
            return problem(409, "conflict", "Conflict", str(exc), constraint=exc.constraint)
        case Forbidden():
            return problem(403, "forbidden", "Forbidden", str(exc))
        case Unauthorized():
            return problem(
                401,
                "unauthorized",
                "Unauthorized",
                str(exc),
                headers={"WWW-Authenticate": "Bearer"},
            )
        case RateLimited():
            seconds = max(1, round(exc.retry_after_s + 0.5))
            return problem(
                429,
                "rate-limited",
                "Too many requests",
                str(exc),
                headers={"Retry-After": str(seconds)},
            )
        case PayloadTooLarge():
            return problem(413, "payload-too-large", "Payload too large", str(exc))
        case StoreUnavailable():
            return problem(
                503,
                "store-unavailable",
                "Store unavailable",
                str(exc),
                headers={"Retry-After": "1"},
            )
    log.error("unhandled Tickwork error: %r", exc)
    return problem(500, "internal", "Internal error", "an unexpected error; see the server log")


def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors: list[dict[str, str | int]] = []
    for error in exc.errors():
        location = [str(part) for part in error.get("loc", ()) if part != "body"]
        where = location[0] if location and location[0] in ("query", "path", "header") else ""
        field = ".".join(location[1:] if where else location)
        message = str(error.get("msg", "is not valid"))
        if error.get("type") == "json_invalid":
            message = "the request body is not valid JSON"
        errors.append(
            {"field": field or where or "body", "message": message, "in": where or "body"}
        )
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
    return problem(422, "invalid-input", "Invalid input", detail, errors=errors)


def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed", 415: "unsupported-media-type"}.get(
        exc.status_code, "http-error"
    )
    headers = dict(exc.headers) if exc.headers else None
    return problem(exc.status_code, slug, str(exc.detail), str(exc.detail), headers=headers)


def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", exc_info=exc)
    return problem(500, "internal", "Internal error", "an unexpected error; see the server log")


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(TickworkError, _tickwork_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
