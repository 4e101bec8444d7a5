from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from liverecord.api.filters import BaseFilterSet, MultiValueCharFilter, MultiValueNumberFilter, PrefixFilter
from recordings.models import CallbackDelivery, PublishSession, RecordFile, RecordTask
from rules.filtersets import DomainNameFilter


class RecordFileFilterSet(BaseFilterSet):
    id = MultiValueCharFilter(field_name="public_id")
    domain = DomainNameFilter(field_name="domain")
    task = MultiValueCharFilter(field_name="task__public_id")
    cloud_recording = MultiValueCharFilter(field_name="task__cloud_recording_id")
    room_id = MultiValueCharFilter(field_name="task__room_id")
    user_id = MultiValueCharFilter(field_name="task__user_id")
    storage = MultiValueNumberFilter(field_name="storage_id")
    name_prefix = PrefixFilter(method="filter_name_prefix")

    class Meta:
        model = RecordFile
        fields = [
            "domain",
            "app_name",
            "stream_name",
            "format",
            "name",
            "status",
            "start_time",
            "end_time",
            "size",
            "object_key",
            "expire_at",
            "storage",
            "checksum",
            "stored_at",
            "video_codec",
            "audio_codec",
            "width",
            "height",
            "created",
        ]

    def filter_name_prefix(self, queryset: QuerySet[RecordFile], name: str, value: str) -> QuerySet[RecordFile]:
        """Names starting with ``value`` (case-sensitive), in a form each database answers from the (app, name)
        index: SQLite's LIKE ignores case and so cannot use it, while a range on its binary collation can."""
        if connection.vendor == "sqlite":
            return queryset.filter(name__gte=value, name__lt=value + "\U0010ffff")
        return queryset.filter(name__startswith=value)


class PublishSessionFilterSet(BaseFilterSet):
    id = MultiValueCharFilter(field_name="public_id")
    domain = DomainNameFilter(field_name="domain_name")

    class Meta:
        model = PublishSession
        fields = [
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
            "heartbeat_at",
            "video_codec",
            "audio_codec",
            "width",
            "height",
            "bitrate",
        ]


class RecordTaskFilterSet(BaseFilterSet):
    id = MultiValueCharFilter(field_name="public_id")
    domain = DomainNameFilter(field_name="domain")
    template = MultiValueNumberFilter(field_name="template_id")
    session = MultiValueCharFilter(field_name="session__public_id")

    class Meta:
        model = RecordTask
        fields = [
            "kind",
            "status",
            "domain",
            "app_name",
            "stream_name",
            "start_time",
            "end_time",
            "stopped_at",
            "template",
            "record_type",
            "cloud_recording_id",
            "room_id",
            "user_id",
            "created",
        ]


class CallbackDeliveryFilterSet(BaseFilterSet):
    id = MultiValueCharFilter(field_name="event_id")
    file = MultiValueCharFilter(field_name="file__public_id")
    task = MultiValueCharFilter(field_name="task__public_id")

    class Meta:
        model = CallbackDelivery
        fields = ["event_type", "url", "status", "attempts", "next_attempt_at", "delivered_at", "created"]
