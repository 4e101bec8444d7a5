"""Serializer helpers shared by the apps' API serializers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from rest_framework import serializers


def run_validator(validator: Callable[[Any], None], value: Any) -> None:
    """Run a model-level (Django) validator and report its messages as a DRF field error."""
    try:
        validator(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from exc


class JsonStringMixin:
    """A JSON string, as the schema says: ``0`` is not ``"0"``."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")  # type: ignore[attr-defined]
        return str(super().to_internal_value(data))  # type: ignore[misc]


class StrictCharField(JsonStringMixin, serializers.CharField):
    pass


class StrictRegexField(JsonStringMixin, serializers.RegexField):
    pass


class ValidatedCharField(JsonStringMixin, serializers.CharField):
    """A CharField that runs the Django validators shared with the model, with our messages."""

    def __init__(
        self, *, checks: list[Callable[[Any], None]] | None = None, schema_pattern: str | None = None, **kwargs: Any
    ) -> None:
        self.checks = checks or []
        #: The OpenAPI ``pattern`` (liverecord.api.schema): given, or the regex of a RegexValidator check.
        self.schema_pattern = schema_pattern or next(
            (str(getattr(c.regex, "pattern", c.regex)) for c in self.checks if isinstance(c, RegexValidator)), None
        )
        max_length = kwargs.get("max_length")
        messages = {
            "blank": "must not be empty",
            "required": "is required",
            "null": "must not be null",
            "invalid": "must be a string",
        }
        if max_length:
            messages["max_length"] = f"must be at most {max_length} characters"
        kwargs.setdefault("error_messages", messages)
        # Taken as sent, as the schema's pattern describes it: " live" is not silently "live".
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def run_validators(self, value: Any) -> None:
        super().run_validators(value)
        if value:
            for check in self.checks:
                run_validator(check, value)


class SecretField(ValidatedCharField):
    """A secret: write-only, never answered (``<name>_set`` tells whether one is stored)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("write_only", True)
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(**kwargs)


class IsSetField(serializers.BooleanField):
    """``true`` when the secret named ``of`` is stored, without revealing it."""

    def __init__(self, of: str, **kwargs: Any) -> None:
        self.of = of
        super().__init__(read_only=True, source="*", **kwargs)

    def to_representation(self, value: Any) -> bool:
        return bool(getattr(value, self.of))
