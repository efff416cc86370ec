"""Posted forms: ``application/x-www-form-urlencoded`` bodies read into a :class:`Form`.

The dashboard's forms are plain HTML forms (no file uploads), so the standard library's
parser is all it takes.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qs

from fastapi import Request

__all__ = ["Form", "read_form", "safe_back"]


@dataclass(frozen=True, slots=True)
class Form(Mapping[str, str]):
    """Posted fields; a repeated field keeps every value (:meth:`all`), ``[]`` the last."""

    fields: dict[str, list[str]]

    def __getitem__(self, name: str) -> str:
        return self.fields[name][-1]

    def __iter__(self) -> Iterator[str]:
        return iter(self.fields)

    def __len__(self) -> int:
        return len(self.fields)

    def text(self, name: str) -> str:
        """The field's value with surrounding blanks removed; ``""`` when absent."""
        return self.get(name, "").strip()

    def all(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))


async def read_form(request: Request) -> Form:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return Form({})
    body = await request.body()
    try:
        text = body.decode()
    except UnicodeDecodeError:
        return Form({})
    return Form(parse_qs(text, keep_blank_values=True, max_num_fields=500))


def safe_back(target: str | None, default: str = "/") -> str:
    """A path on this site to go back to after a POST (never another site)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
