from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from liverecord.api.fields import StrictBooleanField, TenantPrimaryKeyRelatedField, bounded_integer
from liverecord.api.schema import HTTP_URL_PATTERN
from liverecord.api.serializers import ValidatedCharField
from recordings.api.serializers import RecordFileSerializer
from recordings.api.task_serializers import FormatsSerializer
from recordings.choices import SNAPSHOT_FORMAT
from recordings.constants import ROOM_ID_MESSAGE, ROOM_ID_PATTERN
from recordings.models import RecordFile
from rooms.choices import RecordingMode, StreamType
from rooms.constants import (
    MAX_IDLE_TIME_DEFAULT,
    MAX_IDLE_TIME_MAX,
    MAX_IDLE_TIME_MIN,
    MAX_RECORD_TIME_DEFAULT,
    MAX_RECORD_TIME_MAX,
    MAX_RECORD_TIME_MIN,
    SNAPSHOT_INTERVAL_MAX,
    SNAPSHOT_INTERVAL_MIN,
    SPLIT_AFTER_MAX,
    STORAGE_TIME_MAX,
    SUBSCRIPTION_LIST_MAX,
)
from rooms.models import CloudRecording, CloudRecordingStream
from rules.constants import STREAM_PART_MESSAGE, STREAM_PART_PATTERN
from rules.models import StorageTarget
from rules.validators import validate_callback_url
from templates_app.models import RecordTemplate

_room = RegexValidator(ROOM_ID_PATTERN, ROOM_ID_MESSAGE)
_stream = RegexValidator(STREAM_PART_PATTERN, STREAM_PART_MESSAGE)


def _stream_list() -> serializers.ListField:
    return serializers.ListField(
        child=ValidatedCharField(max_length=128, checks=[_stream]),
        max_length=SUBSCRIPTION_LIST_MAX,
        required=False,
        allow_null=True,
        error_messages={"max_length": f"must have at most {SUBSCRIPTION_LIST_MAX} stream names"},
    )


class SnapshotSerializer(serializers.Serializer):  # type: ignore[type-arg]
    interval = bounded_integer(SNAPSHOT_INTERVAL_MIN, SNAPSHOT_INTERVAL_MAX)
    storage_time = bounded_integer(0, STORAGE_TIME_MAX, required=False, default=0)


class MuteAudioSerializer(serializers.Serializer):  # type: ignore[type-arg]
    skip = StrictBooleanField(required=False, default=True)
    split_after = bounded_integer(0, SPLIT_AFTER_MAX, required=False, default=0)


class SubscriptionSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The four lists: at most 32 stream names each; a list and its ``un`` twin not both."""

    subscribe_audio = _stream_list()
    subscribe_video = _stream_list()
    unsubscribe_audio = _stream_list()
    unsubscribe_video = _stream_list()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        errors = {
            f"un{name}": f"give {name} or un{name}, not both"
            for name in ("subscribe_audio", "subscribe_video")
            if attrs.get(name) and attrs.get(f"un{name}")
        }
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CloudRecordingCreateSerializer(SubscriptionSerializer):
    domain = ValidatedCharField(max_length=253)
    room_id = ValidatedCharField(max_length=128, checks=[_room])
    mode = serializers.ChoiceField(
        choices=RecordingMode.choices, error_messages={"invalid_choice": "must be 'single' or 'mixed'"}
    )
    stream_type = serializers.ChoiceField(
        choices=StreamType.choices,
        required=False,
        default=StreamType.AUDIO_VIDEO,
        error_messages={"invalid_choice": "must be audio_video, audio, video or audio_video_separate"},
    )
    template = TenantPrimaryKeyRelatedField(queryset=RecordTemplate.objects.all(), required=False, allow_null=True)
    formats = FormatsSerializer(required=False, allow_null=True)
    snapshot = SnapshotSerializer(required=False, allow_null=True)
    fill_blank = StrictBooleanField(required=False, default=False)
    mute_audio = MuteAudioSerializer(required=False, allow_null=True)
    max_idle_time = bounded_integer(MAX_IDLE_TIME_MIN, MAX_IDLE_TIME_MAX, required=False, default=MAX_IDLE_TIME_DEFAULT)
    max_record_time = bounded_integer(
        MAX_RECORD_TIME_MIN, MAX_RECORD_TIME_MAX, required=False, default=MAX_RECORD_TIME_DEFAULT
    )
    mix = serializers.DictField(required=False, allow_null=True)
    callback_url = ValidatedCharField(
        max_length=1024,
        required=False,
        allow_blank=True,
        checks=[validate_callback_url],
        schema_pattern=HTTP_URL_PATTERN,
    )
    storage = TenantPrimaryKeyRelatedField(queryset=StorageTarget.objects.all(), required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        errors: dict[str, str] = {}
        if attrs.get("template") is not None and attrs.get("formats") is not None:
            errors["formats"] = "give a template or formats, not both"
        if attrs.get("mode") == RecordingMode.SINGLE and attrs.get("mix") is not None:
            errors["mix"] = "is refused for mode single"
        if attrs.get("mute_audio") is not None and attrs.get("stream_type") != StreamType.AUDIO:
            errors["mute_audio"] = "needs stream_type audio"
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CloudRecordingStreamSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    task = serializers.CharField(source="task.public_id", read_only=True, allow_null=True)

    class Meta:
        model = CloudRecordingStream
        fields = ["stream_name", "user_id", "joined_at", "left_at", "audio", "video", "task"]
        read_only_fields = fields


class CloudRecordingSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    id = serializers.CharField(source="public_id", read_only=True)
    domain = serializers.CharField(source="domain.name", read_only=True)
    template: serializers.PrimaryKeyRelatedField[RecordTemplate] = serializers.PrimaryKeyRelatedField(read_only=True)
    storage: serializers.PrimaryKeyRelatedField[StorageTarget] = serializers.PrimaryKeyRelatedField(read_only=True)
    streams = CloudRecordingStreamSerializer(many=True, read_only=True)
    files = serializers.SerializerMethodField()
    snapshot_count = serializers.SerializerMethodField()

    class Meta:
        model = CloudRecording
        fields = [
            "id",
            "domain",
            "room_id",
            "mode",
            "status",
            "reason",
            "error",
            "stream_type",
            "subscribe_audio",
            "subscribe_video",
            "unsubscribe_audio",
            "unsubscribe_video",
            "template",
            "formats",
            "snapshot",
            "fill_blank",
            "mute_audio",
            "max_idle_time",
            "max_record_time",
            "mix",
            "callback_url",
            "storage",
            "started_at",
            "stopped_at",
            "streams",
            "files",
            "snapshot_count",
            "created",
        ]
        read_only_fields = fields

    def get_files(self, obj: CloudRecording) -> list[dict[str, Any]]:
        files = RecordFile.objects.select_related("task", "storage").filter(
            app_id=obj.app_id, task__cloud_recording_id=obj.public_id
        )
        return list(RecordFileSerializer(files.exclude(format=SNAPSHOT_FORMAT), many=True, context=self.context).data)

    def get_snapshot_count(self, obj: CloudRecording) -> int:
        return RecordFile.objects.filter(
            app_id=obj.app_id, task__cloud_recording_id=obj.public_id, format=SNAPSHOT_FORMAT
        ).count()
