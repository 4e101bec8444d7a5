"""File names from a template's ``file_name_template`` (SPEC.md, "File names")."""

from __future__ import annotations

import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError

from templates_app.constants import DEFAULT_FILE_NAME_TEMPLATE, FILE_NAME_TEMPLATE_MAX

TIME_PARTS = ("Year", "Month", "Day", "Hour", "Minute", "Second", "Millisecond")
PLACEHOLDERS = frozenset(
    {"Domain", "AppName", "StreamID", "RecordId", "RandomID", "RoomID", "UserID", "CloudRecordingID"}
    | {f"{edge}{part}" for edge in ("Start", "End") for part in TIME_PARTS}
)
START_PLACEHOLDERS = frozenset(f"Start{part}" for part in TIME_PARTS)
#: A snapshot's name also takes ``{Year}``…``{Millisecond}``: the time of its frame (the same as ``{Start…}``).
SNAPSHOT_PLACEHOLDERS = PLACEHOLDERS | frozenset(TIME_PARTS)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def placeholders_in(template: str) -> list[str]:
    return [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]


def validate_file_name_template(value: str) -> None:
    """Known placeholders only, a start time or ``{RandomID}`` to keep names apart, no climbing out."""
    if len(value) > FILE_NAME_TEMPLATE_MAX:
        raise ValidationError(f"must be at most {FILE_NAME_TEMPLATE_MAX} characters")
    try:
        fields = placeholders_in(value)
    except ValueError as exc:
        raise ValidationError(f"is not a valid template: {exc}") from exc
    unknown = sorted({f for f in fields if f not in PLACEHOLDERS})
    if unknown:
        raise ValidationError(f"has unknown placeholders: {', '.join('{' + f + '}' for f in unknown)}")
    if not (set(fields) & (START_PLACEHOLDERS | {"RandomID"})):
        raise ValidationError("must contain a start-time placeholder or {RandomID}")
    validate_relative_name(value)


def validate_snapshot_name_template(value: str) -> None:
    """A snapshot name template: file-name placeholders plus ``{Year}``…; a time or ``{RandomID}`` keeps them apart."""
    if len(value) > FILE_NAME_TEMPLATE_MAX:
        raise ValidationError(f"must be at most {FILE_NAME_TEMPLATE_MAX} characters")
    try:
        fields = placeholders_in(value)
    except ValueError as exc:
        raise ValidationError(f"is not a valid template: {exc}") from exc
    unknown = sorted({f for f in fields if f not in SNAPSHOT_PLACEHOLDERS})
    if unknown:
        raise ValidationError(f"has unknown placeholders: {', '.join('{' + f + '}' for f in unknown)}")
    if not (set(fields) & (START_PLACEHOLDERS | set(TIME_PARTS) | {"RandomID"})):
        raise ValidationError("must contain a time placeholder or {RandomID}")
    validate_relative_name(value)


def validate_relative_name(value: str) -> None:
    """A name that stays inside its folder: no absolute path, no ``..``, no control characters."""
    if _CONTROL.search(value):
        raise ValidationError("must not contain control characters")
    if value.startswith("/") or value.startswith("\\"):
        raise ValidationError("must be a relative name, not an absolute path")
    if any(part in ("..", ".") for part in re.split(r"[/\\]", value)):
        raise ValidationError("must not contain '..' or '.' path segments")


@dataclass(frozen=True)
class NameContext:
    domain: str
    app_name: str
    stream_id: str
    record_id: str
    start: datetime
    end: datetime
    room_id: str = ""
    user_id: str = ""
    cloud_recording_id: str = ""


def _time_values(prefix: str, moment: datetime) -> dict[str, str]:
    return {
        f"{prefix}Year": f"{moment.year:04d}",
        f"{prefix}Month": f"{moment.month:02d}",
        f"{prefix}Day": f"{moment.day:02d}",
        f"{prefix}Hour": f"{moment.hour:02d}",
        f"{prefix}Minute": f"{moment.minute:02d}",
        f"{prefix}Second": f"{moment.second:02d}",
        f"{prefix}Millisecond": f"{moment.microsecond // 1000:03d}",
    }


def render_file_name(template: str, context: NameContext) -> str:
    """The file name (no extension) for one file; characters that could escape a folder are replaced."""
    values = {
        "Domain": context.domain,
        "AppName": context.app_name,
        "StreamID": context.stream_id,
        "RecordId": context.record_id,
        "RandomID": secrets.token_hex(8),
        "RoomID": context.room_id,
        "UserID": context.user_id,
        "CloudRecordingID": context.cloud_recording_id,
        **_time_values("Start", context.start),
        **_time_values("", context.start),  # snapshot names: the frame's time
        **_time_values("End", context.end),
    }
    safe = {k: re.sub(r"[/\\\x00-\x1f\x7f]", "_", v).replace("..", "__") for k, v in values.items()}
    name = (template or DEFAULT_FILE_NAME_TEMPLATE).format(**safe)
    validate_relative_name(name)
    return name
