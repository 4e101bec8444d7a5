from __future__ import annotations

import django_filters
from django.db import connection
from django.db.models import QuerySet

from liverecord.api.filters import MultiValueCharFilter, TimeRangeFilter
from recordings.choices import CallbackEvent, DeliveryStatus, FileStatus, SessionStatus, TaskKind, TaskStatus
from recordings.models import CallbackDelivery, PublishSession, RecordFile, RecordTask
from rules.filtersets import DomainNameFilter
from templates_app.choices import Format


class RecordFileFilterSet(django_filters.FilterSet):
    domain = DomainNameFilter(field_name="domain")
    app_name = MultiValueCharFilter(field_name="app_name")
    stream_name = MultiValueCharFilter(field_name="stream_name")
    format = django_filters.MultipleChoiceFilter(choices=Format.choices, distinct=False)
    task = MultiValueCharFilter(field_name="task__public_id")
    status = django_filters.MultipleChoiceFilter(choices=FileStatus.choices, distinct=False)
    start_time = TimeRangeFilter()
    name_prefix = django_filters.CharFilter(method="filter_name_prefix")

    class Meta:
        model = RecordFile
        fields = ["domain", "app_name", "stream_name", "format", "task", "status"]

    def filter_name_prefix(self, queryset: QuerySet[RecordFile], name: str, value: str) -> QuerySet[RecordFile]:
        """Names starting with ``value`` (case-sensitive), in a form each database answers from the (app, name)
        index: SQLite's LIKE ignores case and so cannot use it, while a range on its binary collation can."""
        if connection.vendor == "sqlite":
            return queryset.filter(name__gte=value, name__lt=value + "\U0010ffff")
        return queryset.filter(name__startswith=value)


class PublishSessionFilterSet(django_filters.FilterSet):
    domain = DomainNameFilter(field_name="domain_name")
    app_name = MultiValueCharFilter(field_name="app_name")
    stream_name = MultiValueCharFilter(field_name="stream_name")
    status = django_filters.MultipleChoiceFilter(choices=SessionStatus.choices, distinct=False)
    started_at = TimeRangeFilter()

    class Meta:
        model = PublishSession
        fields = ["domain", "app_name", "stream_name", "status"]


class RecordTaskFilterSet(django_filters.FilterSet):
    id = MultiValueCharFilter(field_name="public_id")
    kind = django_filters.MultipleChoiceFilter(choices=TaskKind.choices, distinct=False)
    status = django_filters.MultipleChoiceFilter(choices=TaskStatus.choices, distinct=False)
    domain = DomainNameFilter(field_name="domain")
    app_name = MultiValueCharFilter(field_name="app_name")
    stream_name = MultiValueCharFilter(field_name="stream_name")
    start_time = TimeRangeFilter()
    created = TimeRangeFilter()

    class Meta:
        model = RecordTask
        fields = ["kind", "status", "domain", "app_name", "stream_name"]


class CallbackDeliveryFilterSet(django_filters.FilterSet):
    event_type = django_filters.MultipleChoiceFilter(choices=CallbackEvent.choices, distinct=False)
    status = django_filters.MultipleChoiceFilter(choices=DeliveryStatus.choices, distinct=False)
    file = MultiValueCharFilter(field_name="file__public_id")
    task = MultiValueCharFilter(field_name="task__public_id")
    created = TimeRangeFilter()

    class Meta:
        model = CallbackDelivery
        fields = ["event_type", "status", "file", "task"]
