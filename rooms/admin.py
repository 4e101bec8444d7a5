"""Console: cloud recordings, read-only but for the start form and the stop action (both call the services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from liverecord.admin import add_service_errors
from liverecord.errors import ConflictError
from rooms.forms import CloudRecordingStartForm
from rooms.models import CloudRecording, CloudRecordingStream
from rooms.services import cloud_recording_create, cloud_recording_stop


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

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """*Start recording*: single mode; the service checks what the API checks (bounds, 409 per room)."""
        form = CloudRecordingStartForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                recording = cloud_recording_create(**form.service_arguments())
            except (ValidationError, ConflictError) as exc:
                add_service_errors(form, exc)
            else:
                self.message_user(request, f"Started cloud recording {recording.public_id} ({recording.status}).")
                return redirect("admin:rooms_cloudrecording_change", recording.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Start recording a room",
            "form": form,
        }
        return TemplateResponse(request, "admin/rooms/cloudrecording/create.html", context)

    @admin.action(description="Stop the selected cloud recordings")
    def stop_recordings(self, request: HttpRequest, queryset: QuerySet[CloudRecording]) -> None:
        for recording in queryset:
            try:
                cloud_recording_stop(recording=recording)
            except ConflictError as exc:
                self.message_user(request, f"{recording.public_id}: {exc.message}", messages.WARNING)
