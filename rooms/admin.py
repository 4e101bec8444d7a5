"""Console: cloud recordings. A read-only page per recording (streams, files with their players, snapshots), a
start form, and the stop and update-subscription actions: every write is a call to a rooms service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.decorators import method_decorator
from django.views.decorators.http import require_POST

from liverecord.admin import add_service_errors
from liverecord.errors import ConflictError
from recordings.admin import ObjectActionMixin
from recordings.admin_files import player_context
from recordings.admin_snapshots import thumbnail_html
from recordings.choices import SNAPSHOT_FORMAT, FileStatus
from recordings.models import RecordFile, Snapshot
from rooms.forms import CloudRecordingStartForm, CloudRecordingSubscriptionForm
from rooms.models import CloudRecording, CloudRecordingStream
from rooms.services import cloud_recording_create, cloud_recording_stop, cloud_recording_update_subscription

STRIP_SNAPSHOTS = 60  # the newest ones; the rest are under *Snapshots*


class CloudRecordingStreamInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CloudRecordingStream
    fields = ("stream_name", "user_id", "joined_at", "left_at", "audio", "video", "task")
    readonly_fields = fields
    extra = 0
    can_delete = False


def recording_files(recording: CloudRecording) -> QuerySet[RecordFile]:
    return (
        RecordFile.objects.select_related("task", "storage")
        .filter(app_id=recording.app_id, task__cloud_recording_id=recording.public_id)
        .exclude(format=SNAPSHOT_FORMAT)
        .order_by("start_time", "pk")
    )


def recording_snapshots(recording: CloudRecording) -> QuerySet[Snapshot]:
    return Snapshot.objects.select_related("task", "storage").filter(
        app_id=recording.app_id, task__cloud_recording_id=recording.public_id, status=FileStatus.STORED
    )


@admin.register(CloudRecording)
class CloudRecordingAdmin(ObjectActionMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["public_id", "room_id", "domain", "mode", "status", "reason", "started_at", "stopped_at"]
    list_filter = ["status", "mode", "reason", "app"]
    search_fields = ["public_id", "room_id"]
    inlines = [CloudRecordingStreamInline]
    actions = ["stop_recordings"]
    change_form_template = "admin/rooms/cloudrecording/change_form.html"
    object_action = ("stop", "Stop this recording")

    class Media:
        css = {"all": ["recordings/player.css", "rooms/cloudrecording.css"]}

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in CloudRecording._meta.fields]

    # Recordings change through their services only: the page is a view with the actions' buttons and forms.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

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

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: CloudRecording | None = None,
    ) -> HttpResponse:
        if obj is not None:
            files = list(recording_files(obj))
            players = [player_context(file) for file in files]
            snapshots = recording_snapshots(obj)
            context["recording_files"] = list(zip(files, players, strict=True))
            context["player_scripts"] = sorted({p["vendor_script"] for p in players if p["vendor_script"]})
            context["snapshot_count"] = snapshots.count()
            newest = snapshots.order_by("-start_time")[:STRIP_SNAPSHOTS]
            context["snapshot_strip"] = [thumbnail_html(shot, width=120) for shot in reversed(newest)]
            context["subscription_form"] = CloudRecordingSubscriptionForm(
                initial=CloudRecordingSubscriptionForm.initial_of(obj)
            )
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/stop/", wrap(self.stop_view), name="rooms_cloudrecording_stop"),
            path(
                "<int:pk>/update-subscription/",
                wrap(self.update_subscription_view),
                name="rooms_cloudrecording_update_subscription",
            ),
            *super().get_urls(),
        ]

    @method_decorator(require_POST)
    def stop_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.stop_recordings(request, CloudRecording.objects.filter(pk=pk))
        return redirect("admin:rooms_cloudrecording_change", pk)

    @method_decorator(require_POST)
    def update_subscription_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """New subscription lists through the service; a refusal is shown as an error and changes nothing."""
        recording = get_object_or_404(CloudRecording, pk=pk)
        form = CloudRecordingSubscriptionForm(request.POST)
        if form.is_valid():
            try:
                cloud_recording_update_subscription(recording=recording, lists=form.lists())
            except (ValidationError, ConflictError) as exc:
                add_service_errors(form, exc)
        if form.errors:
            for field, errors in form.errors.items():
                label = "" if field == NON_FIELD_ERRORS else f"{field}: "
                reasons = " ".join(str(error) for error in errors)
                self.message_user(request, f"Cloud recording {recording.public_id}: {label}{reasons}", messages.ERROR)
        else:
            self.message_user(request, f"Cloud recording {recording.public_id}: subscription updated.")
        return redirect("admin:rooms_cloudrecording_change", pk)

    @admin.action(description="Stop the selected cloud recordings")
    def stop_recordings(self, request: HttpRequest, queryset: QuerySet[CloudRecording]) -> None:
        for recording in queryset:
            try:
                stopped = cloud_recording_stop(recording=recording)
            except ConflictError as exc:
                self.message_user(request, f"Cloud recording {recording.public_id}: {exc.message}", messages.WARNING)
            else:
                self.message_user(request, f"Cloud recording {recording.public_id}: {stopped.status}.")
