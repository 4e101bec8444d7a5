from __future__ import annotations

from liverecord.api.filters import BaseFilterSet, PrefixFilter
from templates_app.models import RecordTemplate


class RecordTemplateFilterSet(BaseFilterSet):
    name_prefix = PrefixFilter(field_name="name", lookup_expr="startswith")

    class Meta:
        model = RecordTemplate
        fields = [
            "name",
            "description",
            "record_type",
            "flv_enabled",
            "hls_enabled",
            "mp4_enabled",
            "aac_enabled",
            "mp3_enabled",
            "hls_continue_duration",
            "file_name_template",
            "snapshot_name_template",
            "created",
            "updated",
        ]
