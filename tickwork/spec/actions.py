"""Action documents: the one step an inline action runs, by ``kind``: http, shell or python."""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import AfterValidator, BeforeValidator, Field, JsonValue, StrictBool, StrictInt
from pydantic import model_validator as _model_validator

from tickwork.errors import InvalidSpec
from tickwork.spec.types import DocumentModel, Duration, FieldProblem

__all__ = [
    "ACTION_KINDS",
    "PYTHON_TARGET_PATTERN",
    "PYTHON_TARGET_RULE",
    "Action",
    "HttpActionDocument",
    "PythonActionDocument",
    "ShellActionDocument",
]

ACTION_KINDS = ("http", "shell", "python")

HttpMethod = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_RESERVED_HEADERS = ("idempotency-key", "x-tickwork-")
"""Set by Tickwork on every request: the target relies on them being ours."""

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

StatusCode = Annotated[StrictInt, Field(ge=100, le=599)]


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


def _check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidSpec("url", repr(url), "must be an absolute http:// or https:// URL")
    return url


def _check_headers(headers: dict[str, str]) -> dict[str, str]:
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name):
            raise FieldProblem(name, "", "is not a valid header name")
        if name.lower().startswith(_RESERVED_HEADERS):
            raise FieldProblem(name, "", "is set by Tickwork on every request")
        if "\r" in value or "\n" in value:
            raise FieldProblem(name, "", "must not contain line breaks")
    return headers


def _check_env(env: dict[str, str]) -> dict[str, str]:
    for name, value in env.items():
        if not _ENV_NAME.fullmatch(name):
            raise FieldProblem(name, "", "is not a valid environment variable name")
        if "\0" in value:
            raise FieldProblem(name, "", "must not contain a NUL character")
    return env


class HttpActionDocument(DocumentModel):
    """An HTTP request; each carries ``Idempotency-Key`` and ``X-Tickwork-Scheduled-For``."""

    kind: Literal["http"]
    method: Annotated[HttpMethod, BeforeValidator(_upper)] = "POST"
    url: Annotated[str, AfterValidator(_check_url)]
    headers: Annotated[dict[str, str], AfterValidator(_check_headers)] = Field(default_factory=dict)
    body: JsonValue = Field(default=None, description="Any JSON value or a string (templated).")
    timeout: Duration | None = None
    expect_status: tuple[StatusCode, StatusCode] = Field(
        default=(200, 299), description="Inclusive range of status codes that count as success."
    )
    secret: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Name of the secret the request is signed with (HMAC-SHA256); "
        "the key itself is never written in a document.",
    )

    @_model_validator(mode="after")
    def _status_range_in_order(self) -> Self:
        low, high = self.expect_status
        if low > high:
            raise FieldProblem(
                "expect_status", repr([low, high]), "must be [low, high] with low <= high"
            )
        return self


class ShellActionDocument(DocumentModel):
    """A command run without a shell (``argv``), or through one only when asked (``shell``)."""

    kind: Literal["shell"]
    argv: tuple[Annotated[str, Field(min_length=1)], ...] | None = Field(default=None, min_length=1)
    command: str | None = Field(default=None, min_length=1)
    shell: StrictBool = False
    env: Annotated[dict[str, str], AfterValidator(_check_env)] = Field(default_factory=dict)
    cwd: str | None = Field(default=None, min_length=1)
    timeout: Duration | None = None

    @_model_validator(mode="after")
    def _argv_or_shell_command(self) -> Self:
        if self.argv is not None and self.command is not None:
            raise FieldProblem("command", "", "cannot be used together with argv")
        if self.argv is None and self.command is None:
            raise FieldProblem("argv", "", "is required (or command with shell: true)")
        if self.command is not None and not self.shell:
            raise FieldProblem(
                "shell",
                "",
                "must be true to run command through a shell; or give argv instead",
            )
        if self.argv is not None and self.shell:
            raise FieldProblem("shell", "", "applies only to command; argv runs without a shell")
        return self


PYTHON_TARGET_PATTERN = r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$"
PYTHON_TARGET_RULE = "must be 'package.module:function'"


class PythonActionDocument(DocumentModel):
    """A Python callable, sync or async, called with the input."""

    kind: Literal["python"]
    target: str = Field(pattern=PYTHON_TARGET_PATTERN, examples=["reports.nightly:send"])
    timeout: Duration | None = None


Action = Annotated[
    HttpActionDocument | ShellActionDocument | PythonActionDocument,
    Field(discriminator="kind"),
]
