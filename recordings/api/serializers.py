from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from recordings.models import CallbackAttempt, CallbackDelivery, PublishSession, RecordFile
from recordings.selectors import file_url, session_warnings
from rules.models import StorageTarget


class RecordFileSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    id = serializers.CharField(source="public_id", read_only=True)
    task = serializers.CharField(source="task.public_id", read_only=True, allow_null=True)
    cloud_recording = serializers.CharField(source="task.cloud_recording_id", read_only=True, allow_null=True)
    room_id = serializers.CharField(source="task.room_id", read_only=True, allow_null=True)
    user_id = serializers.CharField(source="task.user_id", read_only=True, allow_null=True)
    url = serializers.SerializerMethodField()
    storage: serializers.PrimaryKeyRelatedField[StorageTarget] = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = RecordFile
        fields = [
            "id",
            "task",
            "cloud_recording",
            "room_id",
            "user_id",
            "domain",
            "app_name",
            "stream_name",
            "format",
            "name",
            "start_time",
            "end_time",
            "duration",
            "size",
            "status",
            "url",
            "object_key",
            "expire_at",
            "storage",
            "checksum",
            "stored_at",
            "video_codec",
            "audio_codec",
            "width",
            "height",
            "error",
            "created",
        ]
        read_only_fields = fields

    def get_url(self, obj: RecordFile) -> str | None:
        request = self.context.get("request")
        base = request.build_absolute_uri("/") if request is not None else settings.LIVEREC_PUBLIC_URL
        return file_url(obj, base=base)


class PublishSessionSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    id = serializers.CharField(source="public_id", read_only=True)
    domain = serializers.CharField(source="domain_name", read_only=True)
    warnings = serializers.SerializerMethodField()

    class Meta:
        model = PublishSession
        fields = [
            "id",
            "domain",
            "app_name",
            "stream_name",
            "status",
            "started_at",
            "ended_at",
            "end_reason",
            "client_addr",
            "stream_param",
            "room_id",
            "user_id",
            "recorder_status",
            "recorder_note",
            "heartbeat_at",
            "video_codec",
            "audio_codec",
            "width",
            "height",
            "fps",
            "gop_seconds",
            "bitrate",
            "warnings",
        ]
        read_only_fields = fields

    def get_warnings(self, obj: PublishSession) -> list[str]:
        return session_warnings(obj)


class CallbackAttemptSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = CallbackAttempt
        fields = ["at", "status_code", "ok", "error", "duration_ms", "response_excerpt"]
        read_only_fields = fields


class CallbackDeliverySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    id = serializers.CharField(source="event_id", read_only=True)
    file = serializers.CharField(source="file.public_id", read_only=True, allow_null=True)
    task = serializers.CharField(source="task.public_id", read_only=True, allow_null=True)
    attempt_log = CallbackAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = CallbackDelivery
        fields = [
            "id",
            "event_type",
            "url",
            "body",
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_error",
            "file",
            "task",
            "attempt_log",
            "created",
        ]
        read_only_fields = fields
