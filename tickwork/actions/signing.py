"""Request signing: lets the target of an http step check that the request came from us.

The signature is HMAC-SHA256 over ``f"{timestamp}.".encode() + body``, sent as
``X-Tickwork-Signature: v1=<hex>`` beside ``X-Tickwork-Timestamp: <unix seconds>``.
Signing the timestamp with the body is what makes a replay detectable: a receiver
rejects timestamps older than a few minutes (:func:`verify` does both checks).

Keys never appear in documents. An action names a secret (``secret: billing``), whose key
comes from the environment, ``TICKWORK_SECRET_BILLING``; an action that names none is
signed with ``TICKWORK_SIGNING_SECRET`` when that is set, and not signed otherwise. A key
is the UTF-8 bytes of the variable's value.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tickwork.clock import require_aware
from tickwork.errors import TickworkError

__all__ = [
    "DEFAULT_SECRET_ENV",
    "DEFAULT_TOLERANCE",
    "SECRET_ENV_PREFIX",
    "SIGNATURE_HEADER",
    "SIGNATURE_VERSION",
    "TIMESTAMP_HEADER",
    "SecretNotConfigured",
    "Secrets",
    "secret_env_name",
    "sign",
    "signature",
    "verify",
]

SIGNATURE_HEADER = "X-Tickwork-Signature"
TIMESTAMP_HEADER = "X-Tickwork-Timestamp"
SIGNATURE_VERSION = "v1"
SECRET_ENV_PREFIX = "TICKWORK_SECRET_"
DEFAULT_SECRET_ENV = "TICKWORK_SIGNING_SECRET"

DEFAULT_TOLERANCE = timedelta(minutes=5)
"""How old (or how far ahead, for clock skew) a timestamp :func:`verify` accepts."""


def signature(key: bytes, timestamp: int, body: bytes) -> str:
    """The ``X-Tickwork-Signature`` value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def sign(key: bytes, body: bytes, *, timestamp: int) -> dict[str, str]:
    """The two headers that sign ``body``; ``timestamp`` is the current Unix time."""
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(key, timestamp, body),
    }


def verify(
    key: bytes,
    body: bytes,
    *,
    timestamp: str | None,
    signature_header: str | None,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> bool:
    """True when the headers sign ``body`` with ``key`` and the timestamp is recent.

    For receivers: pass the raw body bytes and the two header values as received.
    ``signature_header`` may list several comma-separated signatures (a sender rotating
    keys); one match is enough. Comparisons are constant-time.
    """
    if (
        timestamp is None
        or signature_header is None
        or not (timestamp.isascii() and timestamp.isdigit())
    ):
        return False
    sent = int(timestamp)
    age_s = require_aware(now, "now").timestamp() - sent
    if abs(age_s) > tolerance.total_seconds():
        return False
    expected = signature(key, sent, body)
    candidates = (part.strip() for part in signature_header.split(","))
    # Check every candidate: the time taken must not tell which one matched.
    matches = [hmac.compare_digest(expected, candidate) for candidate in candidates]
    return any(matches)


class SecretNotConfigured(TickworkError):
    """An action names a secret whose key is not in the environment."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"secret {name!r} is not configured: set {secret_env_name(name)}")


def secret_env_name(name: str) -> str:
    """The environment variable holding secret ``name``: ``billing.v2`` → ``..._BILLING_V2``."""
    return SECRET_ENV_PREFIX + name.upper().replace("-", "_").replace(".", "_")


@dataclass(frozen=True, slots=True)
class Secrets:
    """Signing keys by secret name, and the key used when an action names none.

    Keys are kept out of ``repr`` so a logged runner never prints them.
    """

    named: Mapping[str, bytes] = field(default_factory=dict)
    """Keyed by environment variable name (see :func:`secret_env_name`)."""
    default: bytes | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Secrets:
        """The keys in ``environ`` (default ``os.environ``); empty values count as unset."""
        env = os.environ if environ is None else environ
        named = {
            name: value.encode()
            for name, value in env.items()
            if name.startswith(SECRET_ENV_PREFIX) and len(name) > len(SECRET_ENV_PREFIX) and value
        }
        return cls(named=named, default=env.get(DEFAULT_SECRET_ENV, "").encode() or None)

    @classmethod
    def of(cls, named: Mapping[str, bytes], default: bytes | None = None) -> Secrets:
        """Keys given by secret name as documents write it (``billing``), e.g. in tests."""
        return cls(named={secret_env_name(k): v for k, v in named.items()}, default=default)

    def key_for(self, name: str | None) -> bytes | None:
        """The key to sign with: the named one, else the default; None means unsigned.

        :class:`SecretNotConfigured` when ``name`` is given but has no key: an action
        that asks to be signed is never sent unsigned.
        """
        if name is None:
            return self.default
        key = self.named.get(secret_env_name(name))
        if key is None:
            raise SecretNotConfigured(name)
        return key

    def __repr__(self) -> str:
        names = ", ".join(sorted(self.named))
        return f"Secrets(named=[{names}], default={'set' if self.default else 'unset'})"
