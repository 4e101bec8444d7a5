"""The ``snapshot`` section of a recording template: a JPEG of the stream every ``interval`` seconds."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from templates_app.constants import (
    DEFAULT_SNAPSHOT_INTERVAL,
    SNAPSHOT_INTERVAL_MAX,
    SNAPSHOT_INTERVAL_MIN,
    STORAGE_TIME_MAX,
)

SNAPSHOT_KEYS = frozenset({"enabled", "interval", "storage_time"})


def _integer_error(value: Any, low: int, high: int) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return "must be an integer"
    return None if low <= value <= high else f"must be between {low} and {high}"


def snapshot_errors(value: Any) -> dict[str, str]:
    """Reasons, keyed ``snapshot.<key>``, that ``value`` is not a valid snapshot section; empty when it is."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        return {"snapshot": "must be an object or null"}
    errors = {f"snapshot.{key}": "is not a snapshot setting" for key in sorted(set(value) - SNAPSHOT_KEYS)}
    if "enabled" in value and not isinstance(value["enabled"], bool):
        errors["snapshot.enabled"] = "must be true or false"
    for key, low, high in (
        ("interval", SNAPSHOT_INTERVAL_MIN, SNAPSHOT_INTERVAL_MAX),
        ("storage_time", 0, STORAGE_TIME_MAX),
    ):
        reason = _integer_error(value[key], low, high) if key in value else None
        if reason:
            errors[f"snapshot.{key}"] = reason
    return errors


def validate_snapshot(value: Any) -> None:
    errors = snapshot_errors(value)
    if errors:
        raise ValidationError("; ".join(f"{key} {reason}" for key, reason in errors.items()))


def normalized_snapshot(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored section with its defaults filled in (``enabled`` true, ``interval`` 10, kept forever)."""
    if value is None:
        return None
    return {"enabled": True, "interval": DEFAULT_SNAPSHOT_INTERVAL, "storage_time": 0, **value}


def frozen_snapshot(value: dict[str, Any] | None, *, name_template: str = "") -> dict[str, Any] | None:
    """What a record task copies: ``{"interval": N, "storage_time": S}`` (and ``name_template`` when the template
    names its snapshots), or None when snapshots are off."""
    section = normalized_snapshot(value)
    if section is None or not section["enabled"]:
        return None
    frozen: dict[str, Any] = {"interval": int(section["interval"]), "storage_time": int(section["storage_time"])}
    if name_template:
        frozen["name_template"] = name_template
    return frozen
