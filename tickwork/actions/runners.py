"""One object the worker holds to run any action: it dispatches on the action's ``kind``."""

from __future__ import annotations

from collections.abc import Mapping

from tickwork.actions.base import StepContext, StepOutcome
from tickwork.actions.http import HttpRunner
from tickwork.actions.python import PythonRunner
from tickwork.actions.shell import ShellRunner
from tickwork.actions.signing import Secrets
from tickwork.actions.ssrf import SsrfGuard
from tickwork.clock import Clock
from tickwork.spec.actions import HttpActionDocument, PythonActionDocument, ShellActionDocument

__all__ = ["ActionRunners"]


class ActionRunners:
    """The http, shell and python runners, used and closed together."""

    def __init__(self, *, http: HttpRunner, shell: ShellRunner, python: PythonRunner) -> None:
        self.http = http
        self.shell = shell
        self.python = python

    @classmethod
    def from_env(cls, clock: Clock, environ: Mapping[str, str] | None = None) -> ActionRunners:
        """Runners configured from ``environ`` (default ``os.environ``): signing secrets
        (``TICKWORK_SECRET_*``, ``TICKWORK_SIGNING_SECRET``) and the SSRF deny list
        (``TICKWORK_HTTP_DENY_NETWORKS``). Reads no clock; opens no connection."""
        return cls(
            http=HttpRunner(
                clock, secrets=Secrets.from_env(environ), guard=SsrfGuard.from_env(environ)
            ),
            shell=ShellRunner(environ=environ),
            python=PythonRunner(),
        )

    async def run(
        self,
        action: HttpActionDocument | ShellActionDocument | PythonActionDocument,
        context: StepContext,
    ) -> StepOutcome:
        """Run ``action`` once with the runner of its kind."""
        match action:
            case HttpActionDocument():
                return await self.http.run(action, context)
            case ShellActionDocument():
                return await self.shell.run(action, context)
            case PythonActionDocument():
                return await self.python.run(action, context)

    async def close(self) -> None:
        """Release the runners' resources (the HTTP pool, the thread pool)."""
        try:
            await self.http.close()
        finally:
            await self.python.close()
            await self.shell.close()
