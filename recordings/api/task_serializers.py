from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from drf_spectacular.extensions import OpenApiSerializerExtension
from rest_framework import serializers

from liverecord.api.fields import (
    FlexibleDateTimeField,
    StrictBooleanField,
    TenantPrimaryKeyRelatedField,
    bounded_integer,
)
from liverecord.api.serializers import ValidatedCharField
from recordings.models import RecordTask
from rules.constants import LOOKBACK_SECONDS_MAX, STREAM_PART_MESSAGE, STREAM_PART_PATTERN
from templates_app.api.serializers import FormatSettingsSerializer
from templates_app.choices import Format, RecordType
from templates_app.models import RecordTemplate

_stream_part = RegexValidator(STREAM_PART_PATTERN, STREAM_PART_MESSAGE)


class FormatsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """``{"mp4": {"record_interval": 600, "storage_time": 0}, ...}`` with each format's own bounds."""

    flv = FormatSettingsSerializer(fmt=Format.FLV, required=False, allow_null=True)
    hls = FormatSettingsSerializer(fmt=Format.HLS, required=False, allow_null=True)
    mp4 = FormatSettingsSerializer(fmt=Format.MP4, required=False, allow_null=True)
    aac = FormatSettingsSerializer(fmt=Format.AAC, required=False, allow_null=True)
    mp3 = FormatSettingsSerializer(fmt=Format.MP3, required=False, allow_null=True)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(Format.values))
            if unknown:
                raise serializers.ValidationError(
                    {key: ["is not a format (flv, hls, mp4, aac, mp3)"] for key in unknown}
                )
        return super().to_internal_value(data)


class FormatsExtension(OpenApiSerializerExtension):
    """The schema of ``formats`` says what its ``to_internal_value`` does: no key but a format."""

    target_class = FormatsSerializer

    def map_serializer(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_basic_serializer(self.target, direction)
        schema["additionalProperties"] = False
        return schema


class RecordTaskCreateSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """A scheduled window, or with ``highlight: true`` a highlight of a live stream."""

    domain = ValidatedCharField(max_length=253)
    app_name = ValidatedCharField(max_length=128, checks=[_stream_part])
    stream_name = ValidatedCharField(max_length=128, checks=[_stream_part])
    highlight = StrictBooleanField(required=False, default=False)
    start_time = FlexibleDateTimeField(required=False, allow_null=True)
    end_time = FlexibleDateTimeField(required=False, allow_null=True)
    template = TenantPrimaryKeyRelatedField(queryset=RecordTemplate.objects.all(), required=False, allow_null=True)
    formats = FormatsSerializer(required=False, allow_null=True)
    record_type = serializers.ChoiceField(
        choices=RecordType.choices, required=False, error_messages={"invalid_choice": "must be 'video' or 'audio'"}
    )
    lookback_seconds = bounded_integer(0, LOOKBACK_SECONDS_MAX, required=False, default=0)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors: dict[str, str] = {}
        if attrs.get("template") is not None and attrs.get("formats"):
            errors["formats"] = "give a template or formats, not both"
        if attrs["highlight"]:
            if attrs.get("start_time") is not None:
                errors["start_time"] = "a highlight starts now; use lookback_seconds to start earlier"
        elif attrs.get("lookback_seconds"):
            errors["lookback_seconds"] = "is only for highlights"
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class RecordTaskSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    id = serializers.CharField(source="public_id", read_only=True)
    template: serializers.PrimaryKeyRelatedField[RecordTemplate] = serializers.PrimaryKeyRelatedField(read_only=True)
    session = serializers.CharField(source="session.public_id", read_only=True, allow_null=True)

    class Meta:
        model = RecordTask
        fields = [
            "id",
            "kind",
            "status",
            "domain",
            "app_name",
            "stream_name",
            "start_time",
            "end_time",
            "stopped_at",
            "template",
            "formats",
            "record_type",
            "session",
            "cloud_recording_id",
            "room_id",
            "user_id",
            "error",
            "created",
        ]
        read_only_fields = fields
