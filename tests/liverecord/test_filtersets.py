"""Every filterset extends ``BaseFilterSet``, and every model field the API shows can be filtered on (NetBox's
missing-filter test): a new model field without a filter, or a filter that stops being generated, fails here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import models
from rest_framework import serializers

from liverecord.api.filters import BaseFilterSet, parse_api_time
from recordings.api.snapshots import SnapshotViewSet
from recordings.api.views import CallbackDeliveryViewSet, PublishSessionViewSet, RecordFileViewSet, RecordTaskViewSet
from rules.api.views import DomainViewSet, RecordRuleViewSet, StorageTargetViewSet
from templates_app.api.views import RecordTemplateViewSet

#: Fields the API answers that have no filter, and why.
UNFILTERED: dict[type[Any], set[str]] = {
    # Secrets are never matched against; the per-format objects are filtered by <format>_enabled.
    DomainViewSet: {"push_auth_key", "push_auth_backup_key", "callback_key"},
    StorageTargetViewSet: {"secret_access_key"},
    RecordRuleViewSet: set(),
    RecordTemplateViewSet: {"flv", "hls", "mp4", "aac", "mp3", "snapshot"},
    # Free text, JSON, computed URLs and float measurements: exact matches on them mean nothing.
    RecordFileViewSet: {"url", "duration", "error"},
    PublishSessionViewSet: {"recorder_note", "fps", "gop_seconds"},
    RecordTaskViewSet: {"formats", "error"},
    SnapshotViewSet: {"url"},
    CallbackDeliveryViewSet: {"body", "last_error", "attempt_log"},  # attempt_log: the attempts, a to-many list
}


def model_field(model: type[models.Model], field: serializers.Field) -> Any:  # type: ignore[type-arg]
    name = field.source.split(".")[0]
    try:
        return model._meta.get_field(name)
    except Exception:  # noqa: BLE001 - not a model field: a computed value (warnings, attempt_log, *_set)
        return None


@pytest.mark.parametrize("viewset", list(UNFILTERED), ids=lambda v: v.__name__)
def test_every_model_field_the_api_shows_has_a_filter(viewset: Any) -> None:
    filterset = viewset.filterset_class
    assert issubclass(filterset, BaseFilterSet)
    filters = set(filterset.base_filters)
    model = filterset._meta.model
    missing = []
    for name, field in viewset.serializer_class().fields.items():
        target = model_field(model, field)
        if target is None or name in UNFILTERED[viewset]:
            continue
        wanted = {f"{name}_after", f"{name}_before"} if isinstance(target, models.DateTimeField) else {name}
        if not wanted <= filters:
            missing.append(name)
    assert missing == [], f"{viewset.__name__}: no filter for {missing}"
    assert "id" in filters
    assert not UNFILTERED[viewset] & filters, "a field listed as unfiltered has a filter: drop it from the list"


def test_a_foreign_key_gets_its_relation_id_filter() -> None:
    assert {"storage", "storage_id"} <= set(DomainViewSet.filterset_class.base_filters)
    assert {"template", "template_id"} <= set(RecordRuleViewSet.filterset_class.base_filters)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1764547200", datetime(2025, 12, 1, tzinfo=UTC)),
        ("1764547200.5", datetime(2025, 12, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ("1.7645472e9", datetime(2025, 12, 1, tzinfo=UTC)),
        ("2025-12-01T08:00:00+08:00", datetime(2025, 12, 1, tzinfo=UTC)),
        ("2025-12-01T00:00:00", datetime(2025, 12, 1, tzinfo=UTC)),
        ("0001-01-01T00:00:00+14:00", datetime.min.replace(tzinfo=UTC)),
        ("9999-12-31T23:59:59-14:31", datetime.max.replace(tzinfo=UTC)),
        ("1e300", datetime.max.replace(tzinfo=UTC)),
        ("-1e300", datetime.min.replace(tzinfo=UTC)),
    ],
)
def test_time_filters_take_iso_8601_or_unix_seconds(value: str, expected: datetime) -> None:
    assert parse_api_time(value) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(("value", "status"), [("true", 200), ("false", 200), ("", 200), ("null", 400), ("1", 400)])
def test_a_boolean_filter_takes_true_or_false(tenant: Any, value: str, status: int) -> None:
    response = tenant.client.get("/api/v1/storage-targets/", {"path_style": value})
    assert response.status_code == status
    if status == 400:
        assert response.json()["errors"] == {"path_style": ["must be true or false"]}
