from __future__ import annotations

import django_filters

from liverecord.api.filters import MultiValueCharFilter, MultiValueNumberFilter, TimeRangeFilter
from templates_app.choices import RecordType
from templates_app.models import RecordTemplate


class RecordTemplateFilterSet(django_filters.FilterSet):
    id = MultiValueNumberFilter(field_name="id", lookup_expr="in")
    name = MultiValueCharFilter(field_name="name")
    name_prefix = django_filters.CharFilter(field_name="name", lookup_expr="startswith")
    record_type = django_filters.MultipleChoiceFilter(choices=RecordType.choices, distinct=False)
    created = TimeRangeFilter()

    class Meta:
        model = RecordTemplate
        fields = [
            "id",
            "name",
            "record_type",
            "flv_enabled",
            "hls_enabled",
            "mp4_enabled",
            "aac_enabled",
            "mp3_enabled",
        ]
