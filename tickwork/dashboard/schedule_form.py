"""The editor's form ⇄ the schedule document (the same one YAML and the API use).

The form has one flat field per value a person edits (``cron``, ``retry_max_attempts``,
``http_url``…). :meth:`ScheduleForm.document` builds the document from them, keeping what
the form does not show (``paused``, ``retry.exit_codes``…) from the stored one, and the
service validates it whole; each problem it names (``retry.max_attempts``,
``action.argv[0]``) is put back next to the form field it came from
(:meth:`ScheduleForm.add_problems`). Nothing is written unless the whole document is valid.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tickwork.dashboard.forms import Form
from tickwork.errors import InvalidDocument, InvalidSpec

__all__ = ["MISFIRE_CHOICES", "OVERLAP_CHOICES", "PRESETS", "RETRY_ON", "ScheduleForm"]

OVERLAP_CHOICES = {
    "skip": "Record the fire as skipped while a run is still going (the default).",
    "allow": "Start it anyway: runs go side by side.",
    "buffer_one": "Hold one fire until the running one ends; skip the rest.",
    "buffer_all": "Hold every fire and run them one after another, in order.",
    "cancel_other": "Cancel the running one and start this one.",
}
MISFIRE_CHOICES = {
    "run_once": "Run the latest missed fire inside the catch-up window, once (the default).",
    "run_all": "Run every missed fire inside the catch-up window, oldest first.",
    "skip": "Run none of them; record them all as missed.",
}
RETRY_ON = {
    "connection": "connection errors",
    "timeout": "timeouts",
    "5xx": "HTTP 5xx",
    "429": "HTTP 429",
}
PRESETS = (
    ("Every minute", "* * * * *"),
    ("Every 15 minutes", "*/15 * * * *"),
    ("Hourly", "0 * * * *"),
)
"""Fixed presets; "daily at", "weekdays at" and "monthly on" take a time (see the page)."""

_SHOWN = frozenset(
    {
        "name",
        "namespace",
        "description",
        "trigger",
        "timezone",
        "start_at",
        "end_at",
        "max_runs",
        "jitter",
        "overlap",
        "misfire",
        "catchup_window",
        "timeout",
        "priority",
        "concurrency_key",
        "concurrency_limit",
        "pause_after_failures",
        "tags",
        "input",
        "action",
        "workflow",
    }
)
"""Top-level keys the form edits; every other key of a stored document is kept as it is."""

_TOP_TEXT = ("name", "namespace", "description", "timezone", "start_at", "end_at")
_TOP_OPTIONAL = ("jitter", "catchup_window", "timeout", "concurrency_key")
_TOP_NUMBERS = ("max_runs", "priority", "concurrency_limit", "pause_after_failures")
_RETRY_TEXT = ("initial_interval", "max_interval")
_ACTION_FIELDS = {
    "http": ("method", "url", "headers", "body", "timeout", "expect_status", "secret"),
    "shell": ("argv", "command", "shell", "env", "cwd", "timeout"),
    "python": ("target", "timeout"),
}


@dataclass
class ScheduleForm:
    values: dict[str, Any] = field(default_factory=dict)
    """Field name → what the form shows (text, or a list for checkbox groups)."""
    errors: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)
    """Problems no field of the form stands for."""

    @property
    def valid(self) -> bool:
        return not self.errors and not self.general

    def get(self, name: str, default: Any = "") -> Any:
        return self.values.get(name, default)

    # ----------------------------------------------------------------------------------
    # From a document and from a post

    @classmethod
    def blank(cls, namespace: str | None) -> ScheduleForm:
        return cls(
            {
                "namespace": namespace or "default",
                "trigger_kind": "cron",
                "cron": "*/15 * * * *",
                "timezone": "UTC",
                "overlap": "skip",
                "misfire": "run_once",
                "catchup_window": "1h",
                "priority": "0",
                "retry_max_attempts": "3",
                "retry_initial_interval": "1s",
                "retry_multiplier": "2.0",
                "retry_max_interval": "5m",
                "retry_jitter": True,
                "retry_on": list(RETRY_ON),
                "target_kind": "action",
                "action_kind": "http",
                "http_method": "POST",
                "http_expect_low": "200",
                "http_expect_high": "299",
            }
        )

    @classmethod
    def of_document(cls, document: Mapping[str, Any]) -> ScheduleForm:
        """The form showing a stored (canonical) document."""
        values: dict[str, Any] = {}
        for key in (*_TOP_TEXT, *_TOP_OPTIONAL, *_TOP_NUMBERS, "overlap", "misfire"):
            value = document.get(key)
            values[key] = "" if value is None else str(value)
        trigger = document.get("trigger") or {}
        kind = next((k for k in ("cron", "interval", "at") if k in trigger), "cron")
        values["trigger_kind"] = kind
        values[kind] = str(trigger.get(kind) or "")
        values["anchor"] = str(trigger.get("anchor") or "")
        retry = document.get("retry") or {}
        for key in ("max_attempts", "multiplier", *_RETRY_TEXT):
            values[f"retry_{key}"] = "" if retry.get(key) is None else str(retry[key])
        values["retry_jitter"] = bool(retry.get("jitter", True))
        values["retry_on"] = list(retry.get("retry_on", RETRY_ON))
        values["tags"] = ", ".join(document.get("tags") or ())
        values["input"] = _json_text(document.get("input"))
        values["workflow"] = str(document.get("workflow") or "")
        values["target_kind"] = "workflow" if document.get("workflow") else "action"
        action = document.get("action") or {}
        values["action_kind"] = action.get("kind", "http")
        values.update(_action_values(action))
        return cls(values)

    @classmethod
    def of_post(cls, form: Form) -> ScheduleForm:
        values: dict[str, Any] = {name: form.get(name, "") for name in form}
        values["retry_jitter"] = form.get("retry_jitter") == "on"
        values["retry_on"] = [v for v in form.all("retry_on") if v in RETRY_ON]
        for name in ("csrf", "back", "revision"):
            values.pop(name, None)
        return cls(values)

    # ----------------------------------------------------------------------------------
    # To a document

    def document(self, stored: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The schedule document the form describes, on top of ``stored`` (an edit).
        Values that are not even JSON are noted in :attr:`errors` (the service checks
        the rest)."""
        stored = stored or {}
        document: dict[str, Any] = {k: v for k, v in stored.items() if k not in _SHOWN}
        for key in (*_TOP_TEXT, *_TOP_OPTIONAL, "overlap", "misfire"):
            if self._text(key):
                document[key] = self._text(key)
        for key in _TOP_NUMBERS:
            if self._text(key):
                document[key] = _number(self._text(key))
        document["trigger"] = self._trigger()
        document["retry"] = self._retry(stored.get("retry") or {})
        tags = [t for t in re.split(r"[,\s]+", self._text("tags")) if t]
        if tags:
            document["tags"] = tags
        input_value = self._json("input", default={})
        if input_value is not None:
            document["input"] = input_value
        if self._text("target_kind") == "workflow":
            document["workflow"] = self._text("workflow")
        else:
            document["action"] = self._action()
        return document

    def _trigger(self) -> dict[str, Any]:
        kind = self._text("trigger_kind")
        if kind == "interval":
            trigger: dict[str, Any] = {"interval": self._text("interval")}
            if self._text("anchor"):
                trigger["anchor"] = self._text("anchor")
            return trigger
        if kind == "at":
            return {"at": self._text("at")}
        return {"cron": self._text("cron")}

    def _retry(self, stored: Mapping[str, Any]) -> dict[str, Any]:
        retry = dict(stored)
        for key in _RETRY_TEXT:
            if self._text(f"retry_{key}"):
                retry[key] = self._text(f"retry_{key}")
        if self._text("retry_max_attempts"):
            retry["max_attempts"] = _number(self._text("retry_max_attempts"))
        if self._text("retry_multiplier"):
            retry["multiplier"] = _number(self._text("retry_multiplier"), real=True)
        retry["jitter"] = bool(self.values.get("retry_jitter"))
        retry["retry_on"] = list(self.values.get("retry_on") or [])
        return retry

    def _action(self) -> dict[str, Any]:
        kind = self._text("action_kind")
        action: dict[str, Any] = {"kind": kind}
        if kind == "http":
            action.update(self._http())
        elif kind == "shell":
            action.update(self._shell())
        elif kind == "python":
            action["target"] = self._text("python_target")
        if kind in _ACTION_FIELDS and self._text(f"{kind}_timeout"):
            action["timeout"] = self._text(f"{kind}_timeout")
        return action

    def _http(self) -> dict[str, Any]:
        action: dict[str, Any] = {
            "method": self._text("http_method") or "POST",
            "url": self._text("http_url"),
        }
        headers = self._json("http_headers", default=None)
        if headers is not None:
            action["headers"] = headers
        body = str(self.values.get("http_body", ""))
        if body.strip():
            action["body"] = _json_or_text(body)
        low, high = self._text("http_expect_low"), self._text("http_expect_high")
        if low or high:
            action["expect_status"] = [_number(low or "200"), _number(high or "299")]
        if self._text("http_secret"):
            action["secret"] = self._text("http_secret")
        return action

    def _shell(self) -> dict[str, Any]:
        action: dict[str, Any] = {}
        argv = [line.strip() for line in str(self.get("shell_argv")).splitlines()]
        if any(argv):
            action["argv"] = [arg for arg in argv if arg]
        if self._text("shell_command"):
            action["command"] = self._text("shell_command")
            action["shell"] = True
        env = self._json("shell_env", default=None)
        if env is not None:
            action["env"] = env
        if self._text("shell_cwd"):
            action["cwd"] = self._text("shell_cwd")
        return action

    def _text(self, name: str) -> str:
        return str(self.values.get(name) or "").strip()

    def _json(self, name: str, *, default: Any) -> Any:
        text = self._text(name)
        if not text:
            return default
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            self.add_error(name, f"is not valid JSON ({exc.msg}, line {exc.lineno})")
            return default

    # ----------------------------------------------------------------------------------
    # Problems

    def add_error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)

    def add_problems(self, error: InvalidSpec) -> None:
        """Each problem the service named, next to the field it is about."""
        problems = (
            error.problems
            if isinstance(error, InvalidDocument)
            else [(error.field, f"{error.value} {error.reason}" if error.value else error.reason)]
        )
        for path, message in problems:
            name = self.field_of(str(path))
            if name is None:
                self.general.append(f"{path}: {message}" if path else str(message))
            else:
                self.add_error(name, str(message))

    def field_of(self, path: str) -> str | None:
        """The form field a document path is about (``action.argv[0]`` → ``shell_argv``)."""
        parts = [p for p in re.split(r"[.\[]", path) if p and not p.endswith("]")]
        if not parts:
            return None
        head, rest = parts[0], parts[1:]
        if head == "trigger":
            kind = self._text("trigger_kind") or "cron"
            return rest[0] if rest and rest[0] in ("cron", "interval", "anchor", "at") else kind
        if head == "anchor":
            return "anchor"
        if head == "retry":
            return f"retry_{rest[0]}" if rest else "retry_max_attempts"
        if head == "action":
            kind = self._text("action_kind") or "http"
            if not rest or rest[0] == "kind":
                return "action_kind"
            if rest[0] == "expect_status":
                return "http_expect_low"
            if rest[0] == "shell" and kind == "shell":
                return "shell_command"
            return f"{kind}_{rest[0]}"
        if head in ("input", "tags", "workflow") or head in _SHOWN:
            return head
        return None


def _number(text: str, *, real: bool = False) -> int | float | str:
    """A number typed in the form; left as text (the service says what is wrong) if not."""
    try:
        return float(text) if real else int(text)
    except ValueError:
        return text


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _json_text(value: Any) -> str:
    """JSON for a textarea; an empty object or nothing shows as an empty field."""
    if value in ({}, None):
        return ""
    return json.dumps(value, indent=2)


def _action_values(action: Mapping[str, Any]) -> dict[str, Any]:
    kind = action.get("kind", "http")
    values: dict[str, Any] = {}
    if kind == "http":
        values["http_method"] = action.get("method", "POST")
        values["http_url"] = action.get("url", "")
        values["http_headers"] = _json_text(action.get("headers") or {})
        body = action.get("body")
        values["http_body"] = body if isinstance(body, str) else _json_text(body)
        low, high = action.get("expect_status") or (200, 299)
        values["http_expect_low"], values["http_expect_high"] = str(low), str(high)
        values["http_secret"] = action.get("secret") or ""
    elif kind == "shell":
        values["shell_argv"] = "\n".join(action.get("argv") or ())
        values["shell_command"] = action.get("command") or ""
        values["shell_env"] = _json_text(action.get("env") or {})
        values["shell_cwd"] = action.get("cwd") or ""
    elif kind == "python":
        values["python_target"] = action.get("target", "")
    if action.get("timeout"):
        values[f"{kind}_timeout"] = action["timeout"]
    return values
