"""Console: cloud recordings, read-only but for the stop action (writes go through the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from liverecord.errors import ConflictError
from rooms.models import CloudRecording, CloudRecordingStream
from rooms.services import cloud_recording_stop


class CloudRecordingStreamInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CloudRecordingStream
    fields = ("stream_name", "user_id", "joined_at", "left_at", "audio", "video", "task")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(CloudRecording)
class CloudRecordingAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["public_id", "room_id", "domain", "mode", "status", "reason", "started_at", "stopped_at"]
    list_filter = ["status", "mode", "reason", "app"]
    search_fields = ["public_id", "room_id"]
    inlines = [CloudRecordingStreamInline]
    actions = ["stop_recordings"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in CloudRecording._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # started through the API (its validation lives in the create serializer and service)

    @admin.action(description="Stop the selected cloud recordings")
    def stop_recordings(self, request: HttpRequest, queryset: QuerySet[CloudRecording]) -> None:
        for recording in queryset:
            try:
                cloud_recording_stop(recording=recording)
            except ConflictError as exc:
                self.message_user(request, f"{recording.public_id}: {exc.message}", messages.WARNING)
