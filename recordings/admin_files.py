"""The admin file browser: filter, search, inspect and play recorded files, download them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.http.response import HttpResponse
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from django.utils.safestring import SafeString

from liverecord.errors import ConflictError
from recordings.choices import SNAPSHOT_FORMAT
from recordings.models import RecordFile
from recordings.selectors import file_url
from recordings.services import record_file_delete, record_file_retry_upload
from templates_app.choices import Format

# The players are committed copies of pinned npm releases (package.json; `npm run vendor` refreshes them), so
# running the service needs no npm. Bumping a version means re-vendoring and changing the path here.
HLS_JS = "recordings/vendor/hls.js-1.7.4/hls.min.js"
MPEGTS_JS = "recordings/vendor/mpegts.js-1.8.2/mpegts.js"
PLAYER_JS = "recordings/player.js"

# format -> (media element, the vendor script its player needs)
PLAYERS: dict[str, tuple[str, str | None]] = {
    Format.MP4: ("video", None),
    Format.HLS: ("video", HLS_JS),
    Format.FLV: ("video", MPEGTS_JS),
    Format.AAC: ("audio", None),
    Format.MP3: ("audio", None),
}

SOURCE_FIELDS = ("public_id", "app", "domain", "app_name", "stream_name", "task", "session", "start_time", "end_time")
MEDIA_FIELDS = ("format", "name", "duration_display", "size_display", "video_codec", "audio_codec", "resolution")
# Shown through MEDIA_FIELDS' display columns, or not worth showing.
_NOT_STORAGE = {*SOURCE_FIELDS, *MEDIA_FIELDS, "width", "height", "size", "duration", "id", "created", "updated"}
# Storage shows every other model field, so storage bookkeeping added to the model appears here by itself.
STORAGE_FIELDS = ("status", *(f.name for f in RecordFile._meta.fields if f.name not in {*_NOT_STORAGE, "status"}))


def player_context(file: RecordFile) -> dict[str, Any]:
    """What the player fragment (``admin/recordings/player.html``) needs to play ``file`` in a page."""
    element, script = PLAYERS.get(file.format, ("video", None))
    return {
        "element": element,
        "format": file.format,
        "src": file_url(file, base="/"),
        "vendor_script": script,
        "script": PLAYER_JS,
    }


@admin.register(RecordFile)
class RecordFileAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """The file browser: a read-only view of each file, with a player in the page."""

    list_display = [
        "__str__",
        "format",
        "status",
        "domain",
        "app_name",
        "stream_name",
        "start_time",
        "duration",
        "size_display",
        "video_codec",
        "resolution",
        "download",
    ]
    list_filter = [
        "format",
        "status",
        "domain",
        "app_name",
        "stream_name",
        ("start_time", admin.DateFieldListFilter),
        "app",
    ]
    search_fields = ["name", "stream_name", "public_id", "object_key"]
    date_hierarchy = "start_time"
    list_select_related = ["app"]
    fieldsets = [
        ("Media", {"fields": MEDIA_FIELDS}),
        ("Storage", {"fields": STORAGE_FIELDS}),
        ("Source", {"fields": SOURCE_FIELDS}),
    ]
    readonly_fields = [*MEDIA_FIELDS, *STORAGE_FIELDS, *SOURCE_FIELDS]
    actions = ["retry_upload"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[RecordFile]:
        return super().get_queryset(request).exclude(format=SNAPSHOT_FORMAT)  # listed under Snapshots

    @admin.display(description="resolution")
    def resolution(self, obj: RecordFile) -> str:
        return f"{obj.width}×{obj.height}" if obj.width and obj.height else "—"

    @admin.display(description="size", ordering="size")
    def size_display(self, obj: RecordFile) -> str:
        return f"{filesizeformat(obj.size)} ({obj.size:,} bytes)"

    @admin.display(description="duration", ordering="duration")
    def duration_display(self, obj: RecordFile) -> str:
        minutes, seconds = divmod(obj.duration, 60)
        return f"{obj.duration:.2f} s ({int(minutes) // 60}:{int(minutes) % 60:02d}:{seconds:05.2f})"

    @admin.display(description="download")
    def download(self, obj: RecordFile) -> SafeString | str:
        url = file_url(obj, base="/")
        return format_html('<a href="{}">{}</a>', url, obj.extension) if url else "—"

    @admin.action(description="Retry the upload of selected files (in backup, or failed with a local copy)")
    def retry_upload(self, request: HttpRequest, queryset: QuerySet[RecordFile]) -> None:
        for file in queryset:
            try:
                record_file_retry_upload(file=file)
            except ConflictError as exc:
                self.message_user(request, f"{file}: {exc.message}", messages.WARNING)

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: RecordFile | None = None,
    ) -> HttpResponse:
        if obj is not None:
            context["player"] = player_context(obj)
            context["callbacks"] = obj.callbacks.prefetch_related("attempt_log").order_by("created")
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    # Files are made by recorders, never typed in: the page is read-only (a view), deleting goes through the service.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: RecordFile | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: RecordFile) -> None:
        record_file_delete(file=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[RecordFile]) -> None:
        for obj in queryset:
            record_file_delete(file=obj)
