"""The head of a byte stream as text, without ever holding more than the cap.

A response body or a command's stdout can be gigabytes; what is recorded is its first
:data:`~tickwork.actions.base.OUTPUT_MAX_CHARS` characters. The readers feed chunks as
they arrive and keep reading (and dropping) the rest, so a chatty process never blocks on
a full pipe and a large body is never loaded whole.
"""

from __future__ import annotations

import codecs

from tickwork.actions.base import OUTPUT_MAX_CHARS

__all__ = ["READ_CHUNK_BYTES", "CappedText"]

READ_CHUNK_BYTES = 64 * 1024
"""How much the readers ask for at a time."""


class CappedText:
    """At most ``limit`` characters of a stream, decoded as UTF-8 (bad bytes replaced).

    Decoding is incremental, so a character split across two chunks is kept whole;
    ``truncated`` turns True as soon as a character beyond the cap is seen.
    """

    def __init__(self, limit: int = OUTPUT_MAX_CHARS) -> None:
        self._limit = limit
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._parts: list[str] = []
        self._chars = 0
        self._finished = False
        self.truncated = False

    def feed(self, data: bytes) -> None:
        """Add the next chunk; once the cap is passed, chunks are dropped unread."""
        if not self.truncated and data:
            self._add(self._decoder.decode(data))

    def text(self) -> str:
        """Everything kept so far; call it once the stream ended (flushes the decoder)."""
        if not self._finished:
            self._finished = True
            if not self.truncated:
                self._add(self._decoder.decode(b"", final=True))
        return "".join(self._parts)

    def _add(self, text: str) -> None:
        room = self._limit - self._chars
        if len(text) > room:
            text = text[:room]
            self.truncated = True
        self._parts.append(text)
        self._chars += len(text)
