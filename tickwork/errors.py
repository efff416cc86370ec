"""The one family of errors Tickwork raises; the shells translate them at their edges."""

from __future__ import annotations


class TickworkError(Exception):
    """Root of every error Tickwork raises on purpose."""


class InvalidSpec(TickworkError, ValueError):
    """User input that cannot be accepted: names the field, the offending value and why.

    It is also a ``ValueError`` so that pydantic validators surface it as a field error.
    """

    def __init__(self, field: str, value: str, reason: str) -> None:
        self.field = field
        self.value = value
        self.reason = reason
        super().__init__(f"{field}: {value} {reason}" if value else f"{field}: {reason}")


class UnknownTimeZone(InvalidSpec):
    """A time zone name that is not in the IANA database."""

    def __init__(self, name: str) -> None:
        super().__init__(
            "timezone", repr(name), "is not a known IANA time zone (e.g. Europe/Berlin)"
        )
