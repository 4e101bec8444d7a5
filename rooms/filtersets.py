from __future__ import annotations

from liverecord.api.filters import BaseFilterSet, MultiValueCharFilter
from rooms.models import CloudRecording
from rules.filtersets import DomainNameFilter


class CloudRecordingFilterSet(BaseFilterSet):
    id = MultiValueCharFilter(field_name="public_id")
    domain = DomainNameFilter(field_name="domain__name")

    class Meta:
        model = CloudRecording
        fields = ["room_id", "mode", "status", "reason", "stream_type", "started_at", "stopped_at", "created"]
