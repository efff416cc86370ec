"""A directory of declared files kept applied: at start, and whenever its files change.

``tickwork serve --config DIR`` treats DIR as the source of truth for its set: applying
prunes what the set no longer declares and adopts same-named schedules made by hand (a
store first filled another way becomes managed instead of refusing to start). A change
that cannot be applied (a bad file, say) is reported and changes nothing: what was
applied last keeps running until the files are fixed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from tickwork.errors import TickworkError
from tickwork.manifests.documents import check_set_name
from tickwork.manifests.loading import SUFFIXES, load_path
from tickwork.service.apply import ApplyResult, ApplyService

__all__ = ["ConfigDirectory"]

DEBOUNCE_MS = 300
"""Changes closer together than this are applied together (an editor's save, a git pull)."""
WAKE_MS = 1000
"""How long the watcher waits for a change before it looks at ``stop`` again."""


class ConfigDirectory:
    def __init__(
        self,
        apply: ApplyService,
        path: Path,
        *,
        set_name: str | None = None,
        on_applied: Callable[[ApplyResult], None] = lambda _result: None,
        on_error: Callable[[TickworkError], None] = lambda _error: None,
        on_watching: Callable[[], None] = lambda: None,
    ) -> None:
        self._apply = apply
        self.path = path
        self.set_name = check_set_name(set_name or path.resolve().name)
        self._on_applied = on_applied
        self._on_error = on_error
        self._on_watching = on_watching

    def reconcile(self) -> ApplyResult:
        """Apply the directory as it is now; ``TickworkError`` (nothing applied) if not."""
        loaded = load_path(self.path)
        result = self._apply.apply(self.set_name, loaded.documents, prune=True, adopt=True)
        self._on_applied(result)
        return result

    async def watch(self, stop: asyncio.Event) -> None:
        """Reconcile after each batch of changes to the directory's files, until ``stop``.

        Once the watcher runs it reconciles once more, so an edit made while the node was
        starting (after the first reconcile, before the watcher) is not missed, and then
        calls ``on_watching``.
        """
        from watchfiles import awatch

        def declared(_change: object, path: str) -> bool:
            return path.endswith(SUFFIXES)

        watching = False
        async for changes in awatch(
            self.path,
            watch_filter=declared,
            stop_event=stop,
            debounce=DEBOUNCE_MS,
            rust_timeout=WAKE_MS,
            yield_on_timeout=True,  # an empty batch first: the watcher is running
        ):
            if changes or not watching:
                try:
                    await asyncio.to_thread(self.reconcile)
                except TickworkError as exc:
                    self._on_error(exc)
            if not watching:
                watching = True
                self._on_watching()
