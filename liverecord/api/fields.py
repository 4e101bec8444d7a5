from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.db import models
from rest_framework import serializers

from liverecord.api.authentication import ApiClient


class TenantPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A reference by id to an object of the caller's own App; another App's id is "does not exist"."""

    default_error_messages = {
        "does_not_exist": "does not exist: no object with id {pk_value} in this app",
        "incorrect_type": "must be an integer id, not {data_type}",
    }

    def get_queryset(self) -> models.QuerySet[Any]:
        queryset = super().get_queryset()
        assert queryset is not None
        request = self.context.get("request")
        if request is None or not isinstance(request.user, ApiClient):
            return queryset.none()
        return queryset.filter(app=request.user.app)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, as the schema says: not ``"60"``, ``60.0`` or ``true``."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    """A JSON ``true`` or ``false``, as the schema says: not ``"yes"``, ``1`` or ``"false"``."""

    default_error_messages = {"invalid": "must be true or false"}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):  # 0 == False in Python: check the type, not the value
            self.fail("invalid")
        return data


def bounded_integer(low: int, high: int, **kwargs: Any) -> serializers.IntegerField:
    """An integer field whose every failure reads ``must be between <low> and <high>``."""
    message = f"must be between {low} and {high}"
    return StrictIntegerField(
        min_value=low,
        max_value=high,
        error_messages={
            "min_value": message,
            "max_value": message,
            "invalid": "must be an integer",
            "max_string_length": message,
        },
        **kwargs,
    )


class FlexibleDateTimeField(serializers.DateTimeField):
    """ISO 8601 with an offset (``2026-11-21T08:00:00Z``), or unix seconds."""

    default_error_messages = {
        "invalid": "must be an ISO 8601 time with offset or unix seconds",
        "make_aware": "must be an ISO 8601 time with offset or unix seconds",
        "overflow": "is out of range",
    }

    def to_internal_value(self, value: Any) -> Any:
        if isinstance(value, bool):
            self.fail("invalid")
        if isinstance(value, (int, float)) or (
            isinstance(value, str) and value.strip().lstrip("-").replace(".", "", 1).isdigit()
        ):
            try:
                return datetime.fromtimestamp(float(value), tz=UTC)
            except (OverflowError, OSError, ValueError):
                self.fail("overflow")
        return super().to_internal_value(value)


#: ``ModelSerializer.serializer_field_mapping`` with JSON-strict booleans: ``serializer_field_mapping = ...``.
STRICT_FIELD_MAPPING = {**serializers.ModelSerializer.serializer_field_mapping, models.BooleanField: StrictBooleanField}
