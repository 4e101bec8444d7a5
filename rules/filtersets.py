from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet

from liverecord.api.filters import MultiValueCharFilter, MultiValueNumberFilter, TimeRangeFilter
from rules.choices import StorageProvider
from rules.models import Domain, RecordRule, StorageTarget
from rules.services import domain_name_normalize


class DomainNameFilter(MultiValueCharFilter):
    """Push domain names, compared as they are stored: normalized (lower-cased), whatever the case typed."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        return super().filter(qs, [domain_name_normalize(v) for v in value] if value else value)


class DomainNamePrefixFilter(django_filters.CharFilter):
    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        return super().filter(qs, value.strip().lower() if value else value)


class DomainFilterSet(django_filters.FilterSet):
    id = MultiValueNumberFilter(field_name="id", lookup_expr="in")
    name = DomainNameFilter(field_name="name")
    name_prefix = DomainNamePrefixFilter(field_name="name", lookup_expr="startswith")
    storage = MultiValueNumberFilter(field_name="storage_id", lookup_expr="in")
    created = TimeRangeFilter()

    class Meta:
        model = Domain
        fields = ["id", "name", "push_auth_enabled", "storage"]


class StorageTargetFilterSet(django_filters.FilterSet):
    id = MultiValueNumberFilter(field_name="id", lookup_expr="in")
    name = MultiValueCharFilter(field_name="name")
    provider = django_filters.MultipleChoiceFilter(choices=StorageProvider.choices, distinct=False)
    created = TimeRangeFilter()

    class Meta:
        model = StorageTarget
        fields = ["id", "name", "provider", "bucket"]


class RecordRuleFilterSet(django_filters.FilterSet):
    id = MultiValueNumberFilter(field_name="id", lookup_expr="in")
    domain = DomainNameFilter(field_name="domain")
    app_name = MultiValueCharFilter(field_name="app_name")
    stream_name = MultiValueCharFilter(field_name="stream_name")
    template = MultiValueNumberFilter(field_name="template_id", lookup_expr="in")
    created = TimeRangeFilter()

    class Meta:
        model = RecordRule
        fields = ["id", "domain", "app_name", "stream_name", "template"]
