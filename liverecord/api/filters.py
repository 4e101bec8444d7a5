"""Filter building blocks shared by every app's ``filtersets.py``."""

from __future__ import annotations

from datetime import UTC, datetime

import django_filters
import django_filters.fields
import django_filters.widgets
from django import forms


class MultiValueCharField(forms.MultipleChoiceField):
    """Accepts any strings, repeated (``?name=a&name=b``) or comma-separated (``?name=a,b``)."""

    def to_python(self, value: object) -> list[str]:
        if not value:
            return []
        items = value if isinstance(value, (list, tuple)) else [value]
        parts = [part for item in items for part in str(item).split(",") if part != ""]
        if any("\x00" in part for part in parts):
            raise forms.ValidationError("must not contain NUL characters")  # PostgreSQL text cannot hold them
        return parts

    def valid_value(self, value: str) -> bool:
        return True


class MultiValueCharFilter(django_filters.MultipleChoiceFilter):
    field_class = MultiValueCharField

    def __init__(self, *args: object, **kwargs: object) -> None:
        # No filter here crosses a to-many relation, and DISTINCT makes the page count sort every row.
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class BoundedIntegerField(forms.IntegerField):
    """An id as the database can hold it: a bigger number is a 400, not a database error."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("min_value", -(2**63))
        kwargs.setdefault("max_value", 2**63 - 1)
        super().__init__(**kwargs)  # type: ignore[arg-type]


class MultiValueNumberFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """``?id=1,2,3``."""

    field_class = BoundedIntegerField


class UtcIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    """An ISO 8601 time, moved to UTC: PostgreSQL refuses offsets beyond ±15:59, which ISO 8601 allows."""

    def to_python(self, value: object) -> datetime | None:
        parsed = super().to_python(value)
        return parsed.astimezone(UTC) if parsed is not None else None


class UtcIsoDateTimeRangeField(django_filters.fields.RangeField):
    widget = django_filters.widgets.DateRangeWidget

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__((UtcIsoDateTimeField(), UtcIsoDateTimeField()), *args, **kwargs)  # type: ignore[arg-type]


class TimeRangeFilter(django_filters.IsoDateTimeFromToRangeFilter):
    """``<field>_after`` / ``<field>_before`` (SPEC.md), ISO 8601 with any offset."""

    field_class = UtcIsoDateTimeRangeField
