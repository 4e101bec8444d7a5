"""Filter building blocks shared by every app's ``filtersets.py``, and ``BaseFilterSet``, which they all extend.

``BaseFilterSet`` makes the filters of ``Meta.fields`` the same way everywhere (NetBox): every filter takes
several values (``?status=a&status=b`` or ``?id=1,2``), a time field becomes ``<field>_after`` /
``<field>_before`` (ISO 8601 or unix seconds, like every time field of the API), a foreign key becomes
``<relation>_id``, and ``id`` is always there.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db import models
from django.utils.dateparse import parse_datetime
from django_filters.utils import get_model_field
from drf_spectacular.utils import extend_schema_field

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
#: Unix seconds: an integer or a decimal number, optionally with an exponent (``1764547200``, ``1.7e9``).
UNIX_SECONDS = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
TIME_MESSAGE = "must be an ISO 8601 time with offset or unix seconds"
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


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


@extend_schema_field({"type": "string", "pattern": "^[^\\u0000]*$"})
class MultiValueCharFilter(django_filters.MultipleChoiceFilter):
    field_class = MultiValueCharField

    def __init__(self, *args: object, **kwargs: object) -> None:
        # No filter here crosses a to-many relation, and DISTINCT makes the page count sort every row.
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class BoundedIntegerField(forms.IntegerField):
    """An id as the database can hold it: a bigger number is a 400, not a database error. Digits only: Django's
    own field takes ``1.0`` for 1, which the schema's integer does not."""

    def to_python(self, value: Any) -> int | None:
        if value not in self.empty_values and not re.fullmatch(r"[+-]?[0-9]+", str(value).strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)  # type: ignore[no-any-return]

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("min_value", INT64_MIN)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(**kwargs)  # type: ignore[arg-type]


@extend_schema_field({"type": "integer", "minimum": INT64_MIN, "maximum": INT64_MAX})
class MultiValueNumberFilter(django_filters.BaseInFilter, django_filters.NumberFilter):
    """``?id=1,2,3``."""

    field_class = BoundedIntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("lookup_expr", "in")
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


class SingleValueInput(forms.TextInput):
    """Hands a repeated parameter (``?x=1&x=2``) to the field as a list, which refuses it, instead of the last."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        values = data.getlist(name) if hasattr(data, "getlist") else [data.get(name)]
        return values if len(values) > 1 else (values[0] if values else None)


def refuse_repeats(value: Any) -> None:
    if isinstance(value, list):
        raise forms.ValidationError("must be given once", code="repeated")


class StrictNullBooleanField(forms.NullBooleanField):
    """``true`` or ``false`` (empty: no filter); anything else is a 400, not a silently ignored filter."""

    def to_python(self, value: Any) -> bool | None:  # type: ignore[override]
        refuse_repeats(value)
        if value in (None, ""):
            return None
        text = str(value).lower()
        if text not in ("true", "false"):
            raise forms.ValidationError("must be true or false", code="invalid")
        return text == "true"

    def validate(self, value: Any) -> None:
        return None


class StrictBooleanFilter(django_filters.BooleanFilter):
    field_class = StrictNullBooleanField

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", SingleValueInput)  # the raw value: a select widget maps the unknown to None
        super().__init__(*args, **kwargs)


def parse_api_time(value: object) -> datetime:
    """ISO 8601 (an offset-less time is UTC) or unix seconds, in UTC. Instants beyond what Python can hold
    (year 1 at +14:00, 1e300 seconds) are clamped to the first or last one: a range filter means the same."""
    text = str(value).strip()
    if UNIX_SECONDS.fullmatch(text):
        seconds = float(text)
        if math.isinf(seconds) or not EARLIEST.timestamp() <= seconds <= LATEST.timestamp():
            return EARLIEST if seconds < 0 else LATEST
        return datetime.fromtimestamp(seconds, tz=UTC)
    try:
        parsed = parse_datetime(text)
    except ValueError:
        parsed = None
    if parsed is None:
        raise forms.ValidationError(TIME_MESSAGE, code="invalid")
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        return EARLIEST if parsed.year == datetime.min.year else LATEST


class ApiTimeField(forms.Field):
    widget = SingleValueInput

    def to_python(self, value: Any) -> datetime | None:
        refuse_repeats(value)
        if value in self.empty_values:
            return None
        return parse_api_time(value)


@extend_schema_field(
    {
        "oneOf": [{"type": "string", "format": "date-time"}, {"type": "number"}, {"type": "string", "maxLength": 0}],
        "description": "ISO 8601 with offset, or unix seconds (empty: no filter)",
    }
)
class TimeFilter(django_filters.Filter):
    """One end of a time range: ``<field>_after`` (``gte``) or ``<field>_before`` (``lte``)."""

    field_class = ApiTimeField


def time_range(field_name: str) -> dict[str, TimeFilter]:
    return {
        f"{field_name}_after": TimeFilter(field_name=field_name, lookup_expr="gte"),
        f"{field_name}_before": TimeFilter(field_name=field_name, lookup_expr="lte"),
    }


class SingleCharField(forms.CharField):
    widget = SingleValueInput

    def to_python(self, value: Any) -> str:
        refuse_repeats(value)
        text = str(super().to_python(value))
        if "\x00" in text:
            raise forms.ValidationError("must not contain NUL characters")
        return text


@extend_schema_field({"type": "string", "pattern": "^[^\\u0000]*$"})
class PrefixFilter(django_filters.CharFilter):
    """``<field>_prefix``: values starting with the given text."""

    field_class = SingleCharField


class BaseFilterSet(django_filters.FilterSet):
    """The base of every filterset: see the module docstring. Declared filters win over generated ones."""

    id = MultiValueNumberFilter(field_name="id")

    @classmethod
    def get_filters(cls) -> dict[str, django_filters.Filter]:
        model = cls._meta.model
        if model is None:
            return dict(cls.declared_filters)
        filters: dict[str, django_filters.Filter] = {}
        for name in cls._meta.fields or ():
            field = get_model_field(model, name)
            if field is None:
                raise TypeError(f"{cls.__name__}.Meta.fields: {model.__name__} has no field {name!r}")
            generated = cls.filters_for(field, name)
            filters.update((key, value) for key, value in generated.items() if key not in cls.declared_filters)
        filters.update(cls.declared_filters)
        return filters

    @classmethod
    def filters_for(cls, field: Any, name: str) -> dict[str, django_filters.Filter]:
        """The filters one model field gets, by its kind."""
        if isinstance(field, models.DateTimeField):
            return dict(time_range(name))
        if isinstance(field, models.ForeignKey):
            return {f"{name}_id": MultiValueNumberFilter(field_name=f"{name}_id")}
        if field.choices:
            return {name: django_filters.MultipleChoiceFilter(field_name=name, choices=field.choices, distinct=False)}
        if isinstance(field, models.BooleanField):
            return {name: StrictBooleanFilter(field_name=name)}
        if isinstance(field, (models.IntegerField, models.AutoField)):
            return {name: MultiValueNumberFilter(field_name=name)}
        if isinstance(field, (models.CharField, models.TextField)):
            return {name: MultiValueCharFilter(field_name=name)}
        raise TypeError(f"{cls.__name__}: no filter for {type(field).__name__} {name!r}; declare one")
