"""Where the server is and which token to send: flags, then environment, then config file.

``tickwork login`` writes ``$XDG_CONFIG_HOME/tickwork/config.json`` (default
``~/.config/tickwork/config.json``), readable by its owner only. The token stored there is
sent only to the URL stored with it, never to a server named by a flag or the environment.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from tickwork.errors import TickworkError

__all__ = [
    "ConfigError",
    "Connection",
    "config_path",
    "normalize_url",
    "remove_config",
    "resolve_connection",
    "write_config",
]

URL_ENV = "TICKWORK_URL"
TOKEN_ENV = "TICKWORK_TOKEN"
API_SUFFIX = "/api/v1"


class ConfigError(TickworkError):
    """The connection settings are missing, malformed, or cannot be stored."""


@dataclass(frozen=True, slots=True)
class Connection:
    """A server's base URL (without ``/api/v1``) and the bearer token to send it."""

    url: str
    token: str


def config_path() -> Path:
    """The config file: under ``$XDG_CONFIG_HOME``, else ``~/.config``."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if os.path.isabs(base) else Path.home() / ".config"
    return root / "tickwork" / "config.json"


def normalize_url(url: str) -> str:
    """``http://host:8787/``, ``…/api/v1`` and ``…/api/v1/`` all name the same server."""
    text = url.strip().rstrip("/")
    if text.endswith(API_SUFFIX):
        text = text[: -len(API_SUFFIX)].rstrip("/")
    if not text.startswith(("http://", "https://")) or len(text.split("://", 1)[1]) == 0:
        raise ConfigError(f"{url!r} is not an http:// or https:// URL")
    return text


def read_config() -> Connection | None:
    """What ``tickwork login`` stored, or None when there is no config file."""
    path = config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc} (run `tickwork login` again)") from None
    url, token = (data.get(key) if isinstance(data, dict) else None for key in ("url", "token"))
    if not isinstance(url, str) or not isinstance(token, str) or not token:
        raise ConfigError(f"{path} lacks a url or a token (run `tickwork login` again)")
    return Connection(normalize_url(url), token)


def write_config(connection: Connection) -> Path:
    """Store the connection for later commands, readable by the owner only (0600)."""
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    text = json.dumps({"url": connection.url, "token": connection.token}, indent=2) + "\n"
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.chmod(partial, 0o600)  # whatever the umask or an older file said
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def remove_config() -> Path | None:
    """Delete the config file; the path it had, or None when there was none."""
    path = config_path()
    try:
        path.unlink()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot remove {path}: {exc.strerror or exc}") from None
    return path


def resolve_connection(url: str | None, token: str | None) -> Connection:
    """The server to talk to: ``--url``/``--token``, else the environment, else the config.

    Typer has already folded ``TICKWORK_URL``/``TICKWORK_TOKEN`` into ``url``/``token``.
    """
    stored = read_config()
    resolved_url = normalize_url(url) if url else (stored.url if stored else None)
    if resolved_url is None:
        raise ConfigError(_missing("no Tickwork server is set"))
    if not token and stored is not None and stored.url == resolved_url:
        token = stored.token
    if not token:
        raise ConfigError(_missing(f"no token for {resolved_url}"))
    return Connection(resolved_url, token)


def _missing(what: str) -> str:
    return (
        f"{what}: pass --url and --token, set {URL_ENV} and {TOKEN_ENV}, "
        "or run `tickwork login --url URL --token TOKEN`"
    )
