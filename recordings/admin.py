from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.decorators import method_decorator
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from liverecord.admin import add_service_errors
from liverecord.errors import ConflictError
from recordings import admin_files  # noqa: F401 - registers the file browser
from recordings.admin_snapshots import session_thumbnail
from recordings.choices import SessionStatus
from recordings.forms import RecordTaskCreateForm
from recordings.models import CallbackAttempt, CallbackDelivery, PublishSession, RecordTask
from recordings.selectors import session_warnings
from recordings.services import (
    callback_redeliver,
    task_create_highlight,
    task_create_scheduled,
    task_delete,
    task_stop,
)


class RecordTaskInline(admin.TabularInline):  # type: ignore[type-arg]
    model = RecordTask
    fields = ("public_id", "kind", "status", "formats", "stopped_at", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


class SessionStatusFilter(admin.SimpleListFilter):
    """Live sessions by default: the page is where one looks at what is being pushed now; ended ones a click away."""

    title = "status"
    parameter_name = "status"
    default = SessionStatus.LIVE

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(SessionStatus.LIVE, "live"), (SessionStatus.ENDED, "ended"), ("all", "all")]

    def value(self) -> str:
        return str(super().value() or self.default)

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset if value == "all" else queryset.filter(status=value)

    def choices(self, changelist: Any) -> Iterator[Any]:
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class TextInputFilter(admin.SimpleListFilter):
    """A free-text filter in the sidebar (a stream name has too many values to list)."""

    template = "admin/recordings/text_input_filter.html"
    lookup: str = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("", "")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(**{self.lookup: value.strip()}) if value else queryset

    def choices(self, changelist: Any) -> Iterator[Any]:
        yield {
            "value": self.value() or "",
            "parameter_name": self.parameter_name,
            # The search, the ordering and the other filters stay; the page number does not (the list changes).
            "others": {k: v for k, v in changelist.params.items() if k not in (self.parameter_name, "p")},
            "clear": changelist.get_query_string(remove=[self.parameter_name]),
        }


class StreamNameFilter(TextInputFilter):
    title = "stream name"
    parameter_name = "stream"
    lookup = "stream_name"


class ObjectActionMixin:
    """A button on an object's page for its one action (``object_action`` = (url name suffix, label))."""

    object_action: tuple[str, str]

    def render_change_form(self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        name, label = self.object_action
        context["object_action"] = {"name": name, "label": label}
        return super().render_change_form(request, context, *args, **kwargs)  # type: ignore[misc]


@admin.register(PublishSession)
class PublishSessionAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Pushes, live ones first: written by the ingest hooks and the recorder only, so the page is read-only."""

    list_display = [
        "stream",
        "thumbnail",
        "room",
        "status",
        "recorder",
        "video",
        "audio_codec",
        "bitrate_display",
        "gop",
        "started_at",
        "ended_at",
        "warnings",
    ]
    list_display_links = ["stream"]
    list_filter = [SessionStatusFilter, StreamNameFilter, "recorder_status", "app", "domain_name", "video_codec"]
    search_fields = ["stream_name", "app_name", "domain_name", "client_addr", "public_id", "room_id", "user_id"]
    date_hierarchy = "started_at"
    inlines = [RecordTaskInline]
    list_select_related = ["app"]

    class Media:
        css = {"all": ["recordings/console.css"]}

    @admin.display(description="stream", ordering="stream_name")
    def stream(self, obj: PublishSession) -> str:
        return f"{obj.domain_name}/{obj.app_name}/{obj.stream_name}"

    @admin.display(description="snapshot")
    def thumbnail(self, obj: PublishSession) -> SafeString | str:
        return session_thumbnail(obj)

    @admin.display(description="room", ordering="room_id")
    def room(self, obj: PublishSession) -> SafeString | str:
        """The room a push joined (``?room=``), linking to the room's cloud recordings, and its user."""
        if not obj.room_id:
            return "—"
        url = f"{reverse('admin:rooms_cloudrecording_changelist')}?{urlencode({'room_id': obj.room_id})}"
        user = f" ({obj.user_id})" if obj.user_id else ""
        return format_html('<a class="session-room" href="{}">{}</a>{}', url, obj.room_id, user)

    @admin.display(description="recorder", ordering="recorder_status")
    def recorder(self, obj: PublishSession) -> str:
        return f"{obj.recorder_status}: {obj.recorder_note}" if obj.recorder_note else obj.recorder_status

    @admin.display(description="video")
    def video(self, obj: PublishSession) -> str:
        size = f" {obj.width}x{obj.height}" if obj.width and obj.height else ""
        fps = f" {obj.fps:.3g} fps" if obj.fps else ""
        return f"{obj.video_codec}{size}{fps}" or "—"

    @admin.display(description="GOP", ordering="gop_seconds")
    def gop(self, obj: PublishSession) -> str:
        return f"{obj.gop_seconds:.2f} s" if obj.gop_seconds else "—"

    @admin.display(description="bitrate", ordering="bitrate")
    def bitrate_display(self, obj: PublishSession) -> str:
        return f"{obj.bitrate / 1000:,.0f} kb/s" if obj.bitrate else "—"

    @admin.display(description="warnings")
    def warnings(self, obj: PublishSession) -> str:
        return "; ".join(session_warnings(obj))

    def get_queryset(self, request: HttpRequest) -> QuerySet[PublishSession]:
        return super().get_queryset(request).prefetch_related("record_tasks")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RecordTask)
class RecordTaskAdmin(ObjectActionMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Every recording; "add" opens a form for a scheduled window or a highlight, and tasks can be stopped.

    A task's page is read-only (its state machine is the services'): a Stop button, no Save.
    """

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
    list_filter = ["kind", "status", StreamNameFilter, "app", "domain"]
    search_fields = ["public_id", "stream_name", "app_name", "domain", "cloud_recording_id", "room_id"]
    date_hierarchy = "created"
    actions = ["stop"]
    change_form_template = "admin/recordings/object_action_form.html"
    object_action = ("stop", "Stop this task")

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        form = RecordTaskCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            common = {
                "app": data["app"],
                "domain": data["domain"],
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
            except (ValidationError, ConflictError) as exc:
                add_service_errors(form, exc)
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

    def get_urls(self) -> list[URLPattern]:
        stop = path("<int:pk>/stop/", self.admin_site.admin_view(self.stop_view), name="recordings_recordtask_stop")
        return [stop, *super().get_urls()]

    @method_decorator(require_POST)
    def stop_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.stop(request, RecordTask.objects.filter(pk=pk))
        return redirect("admin:recordings_recordtask_change", pk)

    @admin.action(description="Stop selected tasks (their last files are made)")
    def stop(self, request: HttpRequest, queryset: QuerySet[RecordTask]) -> None:
        for task in queryset:
            try:
                task_stop(task=task)
            except ConflictError as exc:
                self.message_user(request, f"{task.public_id}: {exc.message}", messages.WARNING)
            else:
                self.message_user(request, f"{task.public_id}: stop requested.")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: RecordTask) -> None:
        try:
            task_delete(task=obj)
        except ConflictError as exc:
            messages.error(request, f"{obj.public_id}: {exc.message}")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RecordTask]) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class CallbackAttemptInline(admin.TabularInline):  # type: ignore[type-arg]
    model = CallbackAttempt
    fields = ("at", "status_code", "ok", "error", "duration_ms", "response_excerpt")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class DeliveryStreamFilter(TextInputFilter):
    title = "stream name"
    parameter_name = "stream"
    lookup = "body__stream_id"


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(ObjectActionMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """The delivery log: every event, every attempt; find them by stream and event type, redeliver them."""

    list_display = ["event_id", "event_type", "stream", "status", "attempts", "url", "last_error", "created"]
    list_filter = ["event_type", DeliveryStreamFilter, "status", "app"]
    search_fields = ["event_id", "url", "file__public_id", "task__public_id", "body__stream_id"]
    date_hierarchy = "created"
    inlines = [CallbackAttemptInline]
    actions = ["redeliver"]
    change_form_template = "admin/recordings/object_action_form.html"
    object_action = ("redeliver", "Redeliver")

    class Media:
        css = {"all": ["recordings/console.css"]}

    @admin.display(description="stream")
    def stream(self, obj: CallbackDelivery) -> str:
        return str(obj.body.get("stream_id", "")) if isinstance(obj.body, dict) else ""

    def get_urls(self) -> list[URLPattern]:
        again = path(
            "<int:pk>/redeliver/",
            self.admin_site.admin_view(self.redeliver_view),
            name="recordings_callbackdelivery_redeliver",
        )
        return [again, *super().get_urls()]

    @method_decorator(require_POST)
    def redeliver_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.redeliver(request, CallbackDelivery.objects.filter(pk=pk))
        return redirect("admin:recordings_callbackdelivery_change", pk)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Redeliver selected callbacks")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[CallbackDelivery]) -> None:
        count = 0
        for delivery in queryset:
            callback_redeliver(delivery=delivery)
            count += 1
        self.message_user(request, f"Queued {count} callback(s) again.")
