"""Small typed readers for settings from the environment.

Each one fails loudly on a value it cannot parse, so a typo in production configuration stops the
process at start instead of running with a silent default.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


class ImproperlyConfiguredEnv(RuntimeError):
    """An environment variable holds a value of the wrong shape."""


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ImproperlyConfiguredEnv(f"{name} must be an integer, got {raw!r}") from exc
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ImproperlyConfiguredEnv(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfiguredEnv(f"{name} must be a boolean (true/false), got {raw!r}")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def persistent_secret(path: Path, factory: object = None) -> str:
    """Read a secret kept in a file under var/, creating it on first use.

    The embedded default needs no environment at all, yet its secrets must survive restarts
    (sessions, and above all the key that decrypts stored push and storage keys).
    """
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = factory() if callable(factory) else secrets.token_urlsafe(50)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(str(value))
    return str(value)


def env_float_list(name: str, default: list[float]) -> list[float]:
    """Comma-separated non-negative numbers (seconds), e.g. ``5,30,120``."""
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        values = [float(item) for item in raw.split(",") if item.strip()]
    except ValueError as exc:
        raise ImproperlyConfiguredEnv(f"{name} must be comma-separated numbers of seconds, got {raw!r}") from exc
    if not values or any(v < 0 for v in values):
        raise ImproperlyConfiguredEnv(f"{name} must list non-negative seconds, got {raw!r}")
    return values
