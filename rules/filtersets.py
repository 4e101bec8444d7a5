from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from liverecord.api.filters import BaseFilterSet, MultiValueCharFilter, MultiValueNumberFilter, PrefixFilter
from rules.models import Domain, RecordRule, StorageTarget
from rules.services import domain_name_normalize


class DomainNameFilter(MultiValueCharFilter):
    """Push domain names, compared as they are stored: normalized (lower-cased), whatever the case typed."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        return super().filter(qs, [domain_name_normalize(v) for v in value] if value else value)


class DomainNamePrefixFilter(PrefixFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        return super().filter(qs, value.strip().lower() if value else value)


class DomainFilterSet(BaseFilterSet):
    name = DomainNameFilter(field_name="name")
    name_prefix = DomainNamePrefixFilter(field_name="name", lookup_expr="startswith")
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
    domain = DomainNameFilter(field_name="domain")
    template = MultiValueNumberFilter(field_name="template_id")

    class Meta:
        model = RecordRule
        fields = ["domain", "app_name", "stream_name", "template", "created", "updated"]
