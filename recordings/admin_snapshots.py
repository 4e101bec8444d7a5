"""The admin's snapshots: a list with thumbnails, and the newest one as each live session's thumbnail."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from recordings.models import PublishSession, Snapshot
from recordings.selectors import file_url, session_newest_snapshot
from recordings.services import record_file_delete


def thumbnail_html(snapshot: Snapshot | None, *, width: int = 64) -> SafeString | str:
    url = file_url(snapshot, base="/") if snapshot is not None else None
    if snapshot is None or not url:
        return "—"
    return format_html(
        '<a href="{}"><img class="snapshot-thumb" src="{}" width="{}" alt="snapshot at {}"></a>',
        url,
        url,
        width,
        snapshot.start_time.isoformat(),
    )


def session_thumbnail(session: PublishSession) -> SafeString | str:
    """The live sessions' thumbnail column: the stream's newest stored snapshot."""
    return thumbnail_html(session_newest_snapshot(session=session), width=56)


@admin.register(Snapshot)
class SnapshotAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Snapshots are made by recorders, never typed in: read-only, deleted through the file service."""

    list_display = ["thumbnail", "stream", "start_time", "resolution", "size", "status", "task", "app"]
    list_filter = ["status", "domain", "app_name", "stream_name", ("start_time", admin.DateFieldListFilter), "app"]
    search_fields = ["name", "stream_name", "public_id", "object_key"]
    date_hierarchy = "start_time"
    list_select_related = ["app", "task", "storage"]
    fields = readonly_fields = (
        "thumbnail",
        "public_id",
        "domain",
        "app_name",
        "stream_name",
        "task",
        "session",
        "start_time",
        "resolution",
        "size",
        "status",
        "object_key",
        "storage",
        "expire_at",
        "error",
    )

    @admin.display(description="snapshot")
    def thumbnail(self, obj: Snapshot) -> SafeString | str:
        return thumbnail_html(obj)

    @admin.display(description="stream", ordering="stream_name")
    def stream(self, obj: Snapshot) -> str:
        return f"{obj.domain}/{obj.app_name}/{obj.stream_name}"

    @admin.display(description="resolution")
    def resolution(self, obj: Snapshot) -> str:
        return f"{obj.width}×{obj.height}" if obj.width and obj.height else "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Snapshot | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Snapshot) -> None:
        record_file_delete(file=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Snapshot]) -> None:
        for obj in queryset:
            record_file_delete(file=obj)
