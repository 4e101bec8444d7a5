"""Recording templates: which formats to write, how long each file runs and how long it is kept."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models

from liverecord.models import App, TimeStampedModel
from templates_app.choices import Format, RecordType
from templates_app.constants import (
    DEFAULT_RECORD_INTERVAL,
    DESCRIPTION_MAX,
    HLS_CONTINUE_DURATION_MAX,
    NAME_PATTERN,
    RECORD_INTERVAL_MAX,
    STORAGE_TIME_MAX,
)
from templates_app.naming import validate_file_name_template, validate_snapshot_name_template
from templates_app.snapshot import frozen_snapshot, normalized_snapshot, validate_snapshot


def record_interval_bounds(fmt: str) -> tuple[int, int]:
    """The ``record_interval`` range of ``fmt``; HLS ignores it, so any value up to its maximum goes."""
    low = 0 if fmt == Format.HLS else settings.LIVEREC_MIN_RECORD_INTERVAL
    return low, RECORD_INTERVAL_MAX[Format(fmt)]


def record_interval_error(fmt: str, value: int) -> str | None:
    """The reason ``value`` is not a valid ``record_interval`` for ``fmt``, or None."""
    low, high = record_interval_bounds(fmt)
    return None if low <= value <= high else f"must be between {low} and {high}"


def _enabled_field(fmt: str) -> models.BooleanField[Any, Any]:
    return models.BooleanField(
        verbose_name=f"record {fmt.upper()}",
        default=False,
    )


def _interval_field(fmt: str) -> models.PositiveIntegerField[Any, Any]:
    high = RECORD_INTERVAL_MAX[Format(fmt)]
    return models.PositiveIntegerField(
        verbose_name=f"{fmt.upper()} file length (s)",
        default=DEFAULT_RECORD_INTERVAL,
        help_text=(
            "Ignored for HLS: one playlist per push, or per stitched run."
            if fmt == Format.HLS
            else f"Longest a file may run, in seconds (60–{high}); files are cut at the next keyframe."
        ),
    )


def _storage_time_field(fmt: str) -> models.PositiveIntegerField[Any, Any]:
    return models.PositiveIntegerField(
        verbose_name=f"{fmt.upper()} kept for (s)",
        default=0,
        validators=[MaxValueValidator(STORAGE_TIME_MAX, "must be between 0 and %(limit_value)s")],
        help_text="Seconds a file is kept before it is deleted; 0 keeps it forever.",
    )


class RecordTemplate(TimeStampedModel):
    """What to record for the streams a rule binds to: formats, file length, retention, HLS reconnect window.

    A template with every format disabled means "do not record". A push freezes the template's values into
    its record task, so editing a template never changes a recording in progress.
    """

    app = models.ForeignKey(
        App,
        verbose_name="app",
        related_name="record_templates",
        on_delete=models.CASCADE,
    )
    name = models.CharField(
        verbose_name="name",
        max_length=64,
        validators=[RegexValidator(NAME_PATTERN, "must be 1–64 letters, digits, '_' or '-'")],
        help_text="1–64 letters, digits, '_' or '-'; unique within the app.",
    )
    description = models.CharField(
        verbose_name="description",
        max_length=DESCRIPTION_MAX,
        blank=True,
    )
    flv_enabled = _enabled_field(Format.FLV)
    flv_record_interval = _interval_field(Format.FLV)
    flv_storage_time = _storage_time_field(Format.FLV)
    hls_enabled = _enabled_field(Format.HLS)
    hls_record_interval = _interval_field(Format.HLS)
    hls_storage_time = _storage_time_field(Format.HLS)
    mp4_enabled = _enabled_field(Format.MP4)
    mp4_record_interval = _interval_field(Format.MP4)
    mp4_storage_time = _storage_time_field(Format.MP4)
    aac_enabled = _enabled_field(Format.AAC)
    aac_record_interval = _interval_field(Format.AAC)
    aac_storage_time = _storage_time_field(Format.AAC)
    mp3_enabled = _enabled_field(Format.MP3)
    mp3_record_interval = _interval_field(Format.MP3)
    mp3_storage_time = _storage_time_field(Format.MP3)
    hls_continue_duration = models.PositiveIntegerField(
        verbose_name="HLS reconnect window (s)",
        default=0,
        validators=[MaxValueValidator(HLS_CONTINUE_DURATION_MAX, "must be between 0 and %(limit_value)s")],
        help_text="A new push of the same stream within this many seconds continues the same HLS playlist; 0 is off.",
    )
    file_name_template = models.CharField(
        verbose_name="file name template",
        max_length=256,
        blank=True,
        validators=[validate_file_name_template],
        help_text="Placeholders like {StreamID}, {StartYear}…{StartSecond}, {RandomID}; empty uses the default.",
    )
    record_type = models.CharField(
        verbose_name="record type",
        max_length=8,
        choices=RecordType.choices,
        default=RecordType.VIDEO,
    )
    snapshot = models.JSONField(
        verbose_name="snapshots",
        null=True,
        blank=True,
        validators=[validate_snapshot],
        help_text=(
            'A JPEG of the stream every interval seconds (2–3600): {"enabled": true, "interval": 10, '
            '"storage_time": 0}; empty is off.'
        ),
    )
    snapshot_name_template = models.CharField(
        verbose_name="snapshot name template",
        max_length=256,
        blank=True,
        validators=[validate_snapshot_name_template],
        help_text="Placeholders of file names, plus {Year}…{Second} (the frame's time); empty uses the default.",
    )

    class Meta:
        ordering = ["app", "name"]
        verbose_name = "recording template"
        constraints = [
            models.UniqueConstraint(fields=["app", "name"], name="record_template_name_unique_per_app"),
            models.CheckConstraint(
                condition=models.Q(hls_continue_duration__lte=HLS_CONTINUE_DURATION_MAX),
                name="record_template_hls_continue_in_range",
            ),
            *[
                models.CheckConstraint(
                    condition=models.Q(**{f"{fmt}_record_interval__gte": 0, f"{fmt}_record_interval__lte": high})
                    & models.Q(**{f"{fmt}_storage_time__lte": STORAGE_TIME_MAX}),
                    name=f"record_template_{fmt}_in_range",
                )
                for fmt, high in RECORD_INTERVAL_MAX.items()
            ],
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = {}
        for fmt in Format.values:
            reason = record_interval_error(fmt, getattr(self, f"{fmt}_record_interval"))
            if reason and getattr(self, f"{fmt}_enabled"):
                errors[f"{fmt}_record_interval"] = reason
        if errors:
            raise ValidationError(errors)

    def format_settings(self, fmt: str) -> dict[str, Any]:
        return {
            "enabled": getattr(self, f"{fmt}_enabled"),
            "record_interval": getattr(self, f"{fmt}_record_interval"),
            "storage_time": getattr(self, f"{fmt}_storage_time"),
        }

    @property
    def snapshot_settings(self) -> dict[str, Any] | None:
        """The snapshot section with its defaults, or None when the template has none."""
        return normalized_snapshot(self.snapshot)

    @property
    def records_anything(self) -> bool:
        """False for a "do not record" template: no format and no snapshots."""
        return bool(self.enabled_formats) or frozen_snapshot(self.snapshot) is not None

    @property
    def enabled_formats(self) -> list[str]:
        return [fmt for fmt in Format.values if getattr(self, f"{fmt}_enabled")]

    def frozen_formats(self) -> dict[str, dict[str, int]]:
        """The enabled formats' parameters, as copied into a record task when a push starts."""
        return {
            fmt: {
                "record_interval": getattr(self, f"{fmt}_record_interval"),
                "storage_time": getattr(self, f"{fmt}_storage_time"),
            }
            for fmt in self.enabled_formats
        }

    def frozen_parameters(self) -> dict[str, Any]:
        """Everything a record task copies from its template when it is made (editing the template later
        changes only later tasks): the formats, the record type, the file names, the HLS reconnect window and
        the snapshots (``{"interval", "storage_time"}`` or None)."""
        return {
            "snapshot": frozen_snapshot(self.snapshot, name_template=self.snapshot_name_template),
            "formats": self.frozen_formats(),
            "record_type": self.record_type,
            "file_name_template": self.file_name_template,
            "hls_continue_duration": self.hls_continue_duration,
        }
