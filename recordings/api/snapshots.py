"""``/api/v1/snapshots/`` (SPEC.md "Snapshots"): read-only, plus ``DELETE`` (the stored JPEG goes too)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers

from liverecord.api.filters import BaseFilterSet, MultiValueCharFilter, MultiValueNumberFilter, TimeFilter
from liverecord.api.viewsets import TenantReadOnlyViewSet
from recordings.models import Snapshot
from recordings.selectors import file_url
from recordings.services import record_file_delete
from rules.filtersets import DomainNameFilter

_NULLABLE_ID = serializers.CharField(allow_null=True)


class SnapshotSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    id = serializers.CharField(source="public_id", read_only=True)
    task = serializers.CharField(source="task.public_id", read_only=True, allow_null=True)
    time = serializers.DateTimeField(source="start_time", read_only=True, help_text="The wallclock of the frame.")
    url = serializers.SerializerMethodField()
    # Set for snapshots of cloud recordings (SPEC.md "Rooms and cloud recordings"); null for rule recordings.
    cloud_recording = serializers.SerializerMethodField()
    room_id = serializers.SerializerMethodField()
    user_id = serializers.SerializerMethodField()

    class Meta:
        model = Snapshot
        fields = [
            "id",
            "task",
            "cloud_recording",
            "domain",
            "app_name",
            "stream_name",
            "room_id",
            "user_id",
            "time",
            "width",
            "height",
            "size",
            "status",
            "url",
            "object_key",
            "expire_at",
            "created",
        ]
        read_only_fields = fields

    def get_url(self, obj: Snapshot) -> str | None:
        request = self.context.get("request")
        base = request.build_absolute_uri("/") if request is not None else settings.LIVEREC_PUBLIC_URL
        return file_url(obj, base=base)

    @extend_schema_field(_NULLABLE_ID)
    def get_cloud_recording(self, obj: Snapshot) -> str | None:
        return obj.task.cloud_recording_id or None if obj.task is not None else None

    @extend_schema_field(_NULLABLE_ID)
    def get_room_id(self, obj: Snapshot) -> str | None:
        return obj.task.room_id or None if obj.task is not None else None

    @extend_schema_field(_NULLABLE_ID)
    def get_user_id(self, obj: Snapshot) -> str | None:
        return obj.task.user_id or None if obj.task is not None else None


class SnapshotFilterSet(BaseFilterSet):
    id = MultiValueCharFilter(field_name="public_id")
    domain = DomainNameFilter(field_name="domain")
    task = MultiValueCharFilter(field_name="task__public_id")
    cloud_recording = MultiValueCharFilter(field_name="task__cloud_recording_id")
    room_id = MultiValueCharFilter(field_name="task__room_id")
    user_id = MultiValueCharFilter(field_name="task__user_id")
    time_after = TimeFilter(field_name="start_time", lookup_expr="gte")
    time_before = TimeFilter(field_name="start_time", lookup_expr="lte")
    storage = MultiValueNumberFilter(field_name="storage_id")

    class Meta:
        model = Snapshot
        fields = [
            "domain",
            "app_name",
            "stream_name",
            "status",
            "width",
            "height",
            "size",
            "object_key",
            "expire_at",
            "created",
        ]


@extend_schema_view(
    list=extend_schema(summary="List snapshots", description="Newest first."),
    retrieve=extend_schema(summary="One snapshot"),
    destroy=extend_schema(summary="Delete a snapshot and its stored JPEG"),
)
class SnapshotViewSet(mixins.DestroyModelMixin, TenantReadOnlyViewSet):
    """JPEGs of live streams, one every ``interval`` seconds of a recording whose template enables snapshots."""

    queryset = Snapshot.objects.select_related("task", "storage")
    serializer_class = SnapshotSerializer
    filterset_class = SnapshotFilterSet
    lookup_field = "public_id"
    lookup_url_kwarg = "id"

    def perform_destroy(self, instance: Snapshot) -> None:
        record_file_delete(file=instance)
