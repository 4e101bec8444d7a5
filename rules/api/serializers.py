from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from rest_framework import serializers

from liverecord.api.fields import STRICT_FIELD_MAPPING, TenantPrimaryKeyRelatedField, bounded_integer
from liverecord.api.schema import DOMAIN_NAME_PATTERN, HTTP_URL_PATTERN, RELATIVE_NAME_PATTERN
from liverecord.api.serializers import IsSetField, SecretField, ValidatedCharField
from rules.choices import StorageProvider
from rules.constants import (
    BUCKET_PATTERN,
    CALLBACK_KEY_MESSAGE,
    CALLBACK_KEY_PATTERN,
    DEFAULT_SOURCE_URL_TEMPLATE,
    LOOKBACK_SECONDS_MAX,
    NAME_PATTERN,
    PRESIGN_SECONDS_MAX,
    PRESIGN_SECONDS_MIN,
    PUSH_KEY_MESSAGE,
    PUSH_KEY_PATTERN,
    REGION_PATTERN,
    STREAM_PART_MESSAGE,
    STREAM_PART_PATTERN,
)
from rules.models import Domain, RecordRule, StorageTarget
from rules.validators import (
    validate_callback_url,
    validate_domain_name,
    validate_http_url,
    validate_prefix,
    validate_source_url_template,
)
from templates_app.api.serializers import RecordTemplateSerializer
from templates_app.models import RecordTemplate

_stream_part = RegexValidator(STREAM_PART_PATTERN, STREAM_PART_MESSAGE)
_name = RegexValidator(NAME_PATTERN, "must be 1–64 letters, digits, '_' or '-'")

#: What ``validate_source_url_template`` takes, for the schema: a known scheme, known placeholders only.
SOURCE_URL_TEMPLATE_PATTERN = (
    "^([Rr][Tt][Mm][Pp][Ss]?|[Rr][Tt][Ss][Pp]|[Ss][Rr][Tt]|[Hh][Tt][Tt][Pp][Ss]?)://"
    "([A-Za-z0-9._~:-]|\\{(ingest|app|stream|domain)\\})+"
    "(/([^\\u0000-\\u0020{}\\[\\]]|\\{(ingest|app|stream|domain)\\})*)?$"
)


class StorageTargetSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    serializer_field_mapping = STRICT_FIELD_MAPPING
    name = ValidatedCharField(max_length=64, checks=[_name])
    provider = serializers.ChoiceField(
        choices=StorageProvider.choices,
        required=False,
        error_messages={"invalid_choice": "must be one of local, s3, cos"},
    )
    bucket = ValidatedCharField(
        max_length=63,
        required=False,
        allow_blank=True,
        checks=[RegexValidator(BUCKET_PATTERN, "must be 3–63 lower-case letters, digits, '.' or '-'")],
    )
    region = ValidatedCharField(
        max_length=32,
        required=False,
        allow_blank=True,
        checks=[RegexValidator(REGION_PATTERN, "must be 1–32 lower-case letters, digits or '-'")],
    )
    endpoint_url = ValidatedCharField(
        max_length=512, required=False, allow_blank=True, checks=[validate_http_url], schema_pattern=HTTP_URL_PATTERN
    )
    access_key_id = ValidatedCharField(max_length=128, required=False, allow_blank=True)
    secret_access_key = SecretField(max_length=256)
    secret_access_key_set = IsSetField(of="secret_access_key")
    prefix = ValidatedCharField(
        max_length=128, required=False, checks=[validate_prefix], schema_pattern=RELATIVE_NAME_PATTERN
    )
    presign_seconds = bounded_integer(PRESIGN_SECONDS_MIN, PRESIGN_SECONDS_MAX, required=False)

    class Meta:
        model = StorageTarget
        fields = [
            "id",
            "name",
            "provider",
            "bucket",
            "region",
            "endpoint_url",
            "path_style",
            "access_key_id",
            "secret_access_key",
            "secret_access_key_set",
            "prefix",
            "presign_seconds",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "created", "updated"]
        validators: list[Any] = []


class DomainSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    serializer_field_mapping = STRICT_FIELD_MAPPING
    name = ValidatedCharField(max_length=253, checks=[validate_domain_name], schema_pattern=DOMAIN_NAME_PATTERN)
    push_auth_key = SecretField(checks=[RegexValidator(PUSH_KEY_PATTERN, PUSH_KEY_MESSAGE)])
    push_auth_key_set = IsSetField(of="push_auth_key")
    push_auth_backup_key = SecretField(checks=[RegexValidator(PUSH_KEY_PATTERN, PUSH_KEY_MESSAGE)])
    push_auth_backup_key_set = IsSetField(of="push_auth_backup_key")
    callback_url = ValidatedCharField(
        max_length=1024,
        required=False,
        allow_blank=True,
        checks=[validate_callback_url],
        schema_pattern=HTTP_URL_PATTERN,
    )
    callback_key = SecretField(checks=[RegexValidator(CALLBACK_KEY_PATTERN, CALLBACK_KEY_MESSAGE)])
    callback_key_set = IsSetField(of="callback_key")
    storage = TenantPrimaryKeyRelatedField(queryset=StorageTarget.objects.all(), required=False, allow_null=True)
    source_url_template = ValidatedCharField(
        max_length=512,
        required=False,
        default=DEFAULT_SOURCE_URL_TEMPLATE,
        checks=[validate_source_url_template],
        schema_pattern=SOURCE_URL_TEMPLATE_PATTERN,
    )
    lookback_seconds = bounded_integer(0, LOOKBACK_SECONDS_MAX, required=False)

    class Meta:
        model = Domain
        fields = [
            "id",
            "name",
            "push_auth_enabled",
            "push_auth_key",
            "push_auth_key_set",
            "push_auth_backup_key",
            "push_auth_backup_key_set",
            "callback_url",
            "callback_key",
            "callback_key_set",
            "storage",
            "source_url_template",
            "lookback_seconds",
            "created",
            "updated",
        ]
        read_only_fields = ["id", "created", "updated"]
        validators: list[Any] = []

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            data = {**data, "name": data["name"].strip().lower()}
        return super().to_internal_value(data)


class RecordRuleSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    domain = ValidatedCharField(max_length=253, required=False, allow_blank=True, default="")
    app_name = ValidatedCharField(max_length=128, required=False, allow_blank=True, default="", checks=[_stream_part])
    stream_name = ValidatedCharField(
        max_length=128, required=False, allow_blank=True, default="", checks=[_stream_part]
    )
    template = TenantPrimaryKeyRelatedField(queryset=RecordTemplate.objects.all())

    class Meta:
        model = RecordRule
        fields = ["id", "domain", "app_name", "stream_name", "template", "created", "updated"]
        read_only_fields = ["id", "created", "updated"]
        validators: list[Any] = []


class RuleMatchQuerySerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The push to test: ``?domain=&app_name=&stream_name=``."""

    domain = ValidatedCharField(max_length=253)
    app_name = ValidatedCharField(max_length=128, checks=[_stream_part])
    stream_name = ValidatedCharField(max_length=128, checks=[_stream_part])


class RuleMatchSerializer(serializers.Serializer):  # type: ignore[type-arg]
    """The winning rule, its level (1 most specific … 8) and its template."""

    rule = RecordRuleSerializer()
    level = serializers.IntegerField()
    template = RecordTemplateSerializer()
