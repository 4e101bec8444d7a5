from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from liverecord.api.fields import StrictBooleanField, StrictIntegerField, bounded_integer
from liverecord.api.serializers import StrictCharField, StrictRegexField, ValidatedCharField
from templates_app.choices import Format, RecordType
from templates_app.constants import (
    DESCRIPTION_MAX,
    HLS_CONTINUE_DURATION_MAX,
    NAME_PATTERN,
    SNAPSHOT_INTERVAL_MAX,
    SNAPSHOT_INTERVAL_MIN,
    STORAGE_TIME_MAX,
)
from templates_app.models import RecordTemplate, record_interval_bounds, record_interval_error
from templates_app.naming import validate_file_name_template, validate_snapshot_name_template

_PLACEHOLDER = "Domain|AppName|StreamID|RecordId|RandomID|(Start|End)(Year|Month|Day|Hour|Minute|Second|Millisecond)"
_TEXT = f"([^\\u0000-\\u001f\\u007f{{}}/\\\\]|\\{{({_PLACEHOLDER})\\}})*"
#: What ``validate_file_name_template`` takes, for the schema (without folders): a start time or {RandomID}.
FILE_NAME_TEMPLATE_PATTERN = f"^{_TEXT}\\{{(RandomID|Start(Year|Month|Day|Hour|Minute|Second|Millisecond))\\}}{_TEXT}$"
_TIME = "Year|Month|Day|Hour|Minute|Second|Millisecond"
_SNAPSHOT_TEXT = f"([^\\u0000-\\u001f\\u007f{{}}/\\\\]|\\{{({_PLACEHOLDER}|{_TIME})\\}})*"
#: What ``validate_snapshot_name_template`` takes: file-name placeholders plus the frame's {Year}…{Millisecond}.
SNAPSHOT_NAME_TEMPLATE_PATTERN = f"^{_SNAPSHOT_TEXT}\\{{(RandomID|(Start)?({_TIME}))\\}}{_SNAPSHOT_TEXT}$"


class FormatSettingsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """One format's settings, ``{"enabled": true, "record_interval": 1800, "storage_time": 0}``."""

    enabled = StrictBooleanField(required=False)
    record_interval = StrictIntegerField(required=False, error_messages={"invalid": "must be an integer"})
    storage_time = bounded_integer(0, STORAGE_TIME_MAX, required=False)

    def __init__(self, *args: Any, fmt: str, **kwargs: Any) -> None:
        self.fmt = fmt
        super().__init__(*args, **kwargs)

    def get_attribute(self, instance: RecordTemplate) -> dict[str, Any]:
        return instance.format_settings(self.fmt)

    def validate_record_interval(self, value: int) -> int:
        reason = record_interval_error(self.fmt, value)
        if reason:
            raise serializers.ValidationError(reason)
        return value


class FormatSettingsExtension(OpenApiSerializerExtension):
    """One OpenAPI component per format (``FlvSettings``...): each has its own ``record_interval`` bounds."""

    target_class = FormatSettingsSerializer

    def get_name(self, auto_schema: Any, direction: str) -> str:
        return f"{self.target.fmt.capitalize()}Settings"

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_basic_serializer(self.target, direction)
        low, high = record_interval_bounds(self.target.fmt)
        schema["properties"]["record_interval"].update(minimum=low, maximum=high)
        return schema


class SnapshotSettingsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """``{"enabled": true, "interval": 10, "storage_time": 0}``: a JPEG every ``interval`` seconds."""

    enabled = StrictBooleanField(required=False)
    interval = bounded_integer(SNAPSHOT_INTERVAL_MIN, SNAPSHOT_INTERVAL_MAX, required=False)
    storage_time = bounded_integer(0, STORAGE_TIME_MAX, required=False)

    def get_attribute(self, instance: RecordTemplate) -> dict[str, Any] | None:
        return instance.snapshot_settings


def _format_field(fmt: str) -> FormatSettingsSerializer:
    return FormatSettingsSerializer(fmt=fmt, required=False, allow_null=True)


class RecordTemplateSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    name = StrictRegexField(
        NAME_PATTERN,
        error_messages={
            "invalid": "must be 1–64 letters, digits, '_' or '-'",
            "required": "is required",
            "blank": "must be 1–64 letters, digits, '_' or '-'",
        },
    )
    description = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=DESCRIPTION_MAX,
        error_messages={"max_length": f"must be at most {DESCRIPTION_MAX} characters", "invalid": "must be a string"},
    )
    flv = _format_field(Format.FLV)
    hls = _format_field(Format.HLS)
    mp4 = _format_field(Format.MP4)
    aac = _format_field(Format.AAC)
    mp3 = _format_field(Format.MP3)
    snapshot = SnapshotSettingsSerializer(required=False, allow_null=True)
    hls_continue_duration = bounded_integer(0, HLS_CONTINUE_DURATION_MAX, required=False)
    file_name_template = ValidatedCharField(
        required=False, allow_blank=True, max_length=256, schema_pattern=FILE_NAME_TEMPLATE_PATTERN
    )
    snapshot_name_template = ValidatedCharField(
        required=False, allow_blank=True, max_length=256, schema_pattern=SNAPSHOT_NAME_TEMPLATE_PATTERN
    )
    record_type = serializers.ChoiceField(
        choices=RecordType.choices,
        required=False,
        error_messages={"invalid_choice": "must be 'video' or 'audio'"},
    )

    class Meta:
        model = RecordTemplate
        fields = [
            "id",
            "name",
            "description",
            "flv",
            "hls",
            "mp4",
            "aac",
            "mp3",
            "hls_continue_duration",
            "file_name_template",
            "record_type",
            "snapshot",
            "snapshot_name_template",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "created", "updated"]
        validators: list[Any] = []

    def validate_snapshot_name_template(self, value: str) -> str:
        if value:
            try:
                validate_snapshot_name_template(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from exc
        return value

    def validate_file_name_template(self, value: str) -> str:
        if value:
            try:
                validate_file_name_template(value)
            except DjangoValidationError as exc:
                raise serializers.ValidationError(exc.messages) from exc
        return value
