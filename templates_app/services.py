"""Writes on recording templates."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from liverecord.errors import ConflictError
from liverecord.models import App
from templates_app.choices import Format
from templates_app.constants import DEFAULT_RECORD_INTERVAL
from templates_app.models import RecordTemplate
from templates_app.snapshot import normalized_snapshot

FormatSettings = dict[str, Any] | None


def _apply(template: RecordTemplate, fields: dict[str, Any], *, partial: bool) -> None:
    for key, value in fields.items():
        if key in Format.values:
            _apply_format(template, key, value, partial=partial)
        elif key == "snapshot":
            _apply_snapshot(template, value, partial=partial)
        else:
            setattr(template, key, value)


def _apply_format(template: RecordTemplate, fmt: str, value: FormatSettings, *, partial: bool) -> None:
    """``None`` disables a format; an object sets it (``enabled`` defaults to true), merged when partial."""
    if value is None:
        setattr(template, f"{fmt}_enabled", False)
        return
    defaults = (
        template.format_settings(fmt) if partial else {"record_interval": DEFAULT_RECORD_INTERVAL, "storage_time": 0}
    )
    merged = {**defaults, "enabled": True, **value}
    for attr in ("enabled", "record_interval", "storage_time"):
        setattr(template, f"{fmt}_{attr}", merged[attr])


def _apply_snapshot(template: RecordTemplate, value: dict[str, Any] | None, *, partial: bool) -> None:
    """``None`` turns snapshots off; an object sets them (defaults filled in), merged when partial."""
    if value is None:
        template.snapshot = None
        return
    current = template.snapshot_settings if partial else None
    template.snapshot = normalized_snapshot({**(current or {}), "enabled": True, **dict(value)})


def template_save(*, template: RecordTemplate) -> RecordTemplate:
    """Validate and save a template built by the API or an admin form; a duplicate name is a conflict."""
    duplicate = RecordTemplate.objects.filter(app=template.app, name=template.name).exclude(pk=template.pk)
    if duplicate.exists():
        raise ConflictError(f"a template named {template.name!r} already exists", field="name")
    template.full_clean(exclude=["app"], validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError as exc:
        raise ConflictError(f"a template named {template.name!r} already exists", field="name") from exc
    return template


def template_create(*, app: App, name: str, **fields: Any) -> RecordTemplate:
    template = RecordTemplate(app=app, name=name)
    _apply(template, fields, partial=False)
    return template_save(template=template)


def template_update(*, instance: RecordTemplate, partial: bool = True, **fields: Any) -> RecordTemplate:
    """Change a template. Recordings in progress keep the values frozen when their push started."""
    if not partial:
        for fmt in Format.values:
            fields.setdefault(fmt, None)
        fields.setdefault("snapshot", None)
    _apply(instance, fields, partial=partial)
    return template_save(template=instance)


def template_delete(*, instance: RecordTemplate) -> None:
    used_by = instance.rules.count()
    if used_by:
        raise ConflictError(f"template {instance.name!r} is used by {used_by} rule(s); delete or rebind them first")
    instance.delete()
