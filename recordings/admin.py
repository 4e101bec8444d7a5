from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from liverecord.errors import ConflictError
from recordings import admin_files  # noqa: F401 - registers the file browser
from recordings.forms import RecordTaskCreateForm
from recordings.models import CallbackAttempt, CallbackDelivery, PublishSession, RecordTask
from recordings.selectors import session_warnings
from recordings.services import callback_redeliver, task_create_highlight, task_create_scheduled, task_stop


class RecordTaskInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RecordTask
    fields = ("public_id", "kind", "status", "formats", "stopped_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(PublishSession)
class PublishSessionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = [
        "__str__",
        "status",
        "recorder_status",
        "recorder_note",
        "video_codec",
        "resolution",
        "fps",
        "gop_seconds",
        "bitrate",
        "started_at",
        "ended_at",
        "warnings",
    ]
    list_filter = ["status", "recorder_status", "app", "domain_name", "video_codec"]
    search_fields = ["stream_name", "app_name", "domain_name", "client_addr", "public_id"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in PublishSession._meta.fields]
    inlines = [RecordTaskInline]

    @admin.display(description="warnings")
    def warnings(self, obj: PublishSession) -> str:
        return "; ".join(session_warnings(obj))

    @admin.display(description="resolution")
    def resolution(self, obj: PublishSession) -> str:
        return f"{obj.width}x{obj.height}" if obj.width and obj.height else "—"

    def has_add_permission(self, request: object) -> bool:
        return False


@admin.register(RecordTask)
class RecordTaskAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Every recording; "add" opens a form for a scheduled window or a highlight, and tasks can be stopped."""

    list_display = [
        "public_id",
        "kind",
        "status",
        "domain",
        "app_name",
        "stream_name",
        "start_time",
        "end_time",
        "stopped_at",
    ]
    list_filter = ["kind", "status", "app", "domain"]
    search_fields = ["public_id", "stream_name", "app_name", "domain"]
    date_hierarchy = "created"
    readonly_fields = [f.name for f in RecordTask._meta.fields]
    actions = ["stop"]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        form = RecordTaskCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            common = {
                "app": data["app"],
                "domain": data["domain"].lower(),
                "app_name": data["app_name"],
                "stream_name": data["stream_name"],
                "template": data["template"],
            }
            try:
                if data["kind"] == "highlight":
                    task = task_create_highlight(
                        **common, end_time=data["end_time"], lookback_seconds=data["lookback_seconds"] or 0
                    )
                else:
                    task = task_create_scheduled(**common, start_time=data["start_time"], end_time=data["end_time"])
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            except ConflictError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(request, f"Created {task.kind} task {task.public_id} ({task.status}).")
                return redirect("admin:recordings_recordtask_change", task.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Record a stream: scheduled window or highlight",
            "form": form,
        }
        return TemplateResponse(request, "admin/recordings/recordtask/create.html", context)

    @admin.action(description="Stop selected tasks (their last files are made)")
    def stop(self, request: HttpRequest, queryset: QuerySet[RecordTask]) -> None:
        for task in queryset:
            try:
                task_stop(task=task)
            except ConflictError as exc:
                self.message_user(request, f"{task.public_id}: {exc.message}", messages.WARNING)


class CallbackAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CallbackAttempt
    fields = ("at", "status_code", "ok", "error", "duration_ms", "response_excerpt")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The delivery log: every event, every attempt, and a redeliver action."""

    list_display = ["event_id", "event_type", "status", "attempts", "url", "last_error", "created", "delivered_at"]
    list_filter = ["event_type", "status", "app"]
    search_fields = ["event_id", "url", "file__public_id", "task__public_id"]
    date_hierarchy = "created"
    readonly_fields = [f.name for f in CallbackDelivery._meta.fields]
    inlines = [CallbackAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Redeliver selected callbacks")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[CallbackDelivery]) -> None:
        for delivery in queryset:
            callback_redeliver(delivery=delivery)
        self.message_user(request, f"Queued {queryset.count()} callback(s) again.")
