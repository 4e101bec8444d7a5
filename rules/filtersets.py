from __future__ import annotations

from liverecord.api.filters import BaseFilterSet, MultiValueNumberFilter, PrefixFilter
from rules.models import Domain, RecordRule, StorageTarget


class DomainFilterSet(BaseFilterSet):
    name_prefix = PrefixFilter(field_name="name", lookup_expr="startswith")
    storage = MultiValueNumberFilter(field_name="storage_id")

    class Meta:
        model = Domain
        fields = [
            "name",
            "push_auth_enabled",
            "callback_url",
            "storage",
            "source_url_template",
            "lookback_seconds",
            "created",
            "updated",
        ]


class StorageTargetFilterSet(BaseFilterSet):
    class Meta:
        model = StorageTarget
        fields = [
            "name",
            "provider",
            "bucket",
            "region",
            "endpoint_url",
            "path_style",
            "access_key_id",
            "prefix",
            "presign_seconds",
            "created",
            "updated",
        ]


class RecordRuleFilterSet(BaseFilterSet):
    template = MultiValueNumberFilter(field_name="template_id")

    class Meta:
        model = RecordRule
        fields = ["domain", "app_name", "stream_name", "template", "created", "updated"]
