"""Push domains (with push auth, callbacks, storage), storage targets, and recording rules."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from liverecord.crypto import EncryptedTextField
from liverecord.models import App, TimeStampedModel
from rules.choices import StorageProvider
from rules.constants import (
    BUCKET_PATTERN,
    DEFAULT_SOURCE_URL_TEMPLATE,
    LOOKBACK_SECONDS_MAX,
    NAME_PATTERN,
    PRESIGN_SECONDS_MAX,
    PRESIGN_SECONDS_MIN,
    REGION_PATTERN,
    STREAM_PART_MESSAGE,
    STREAM_PART_PATTERN,
)
from rules.validators import (
    validate_callback_url,
    validate_domain_name,
    validate_http_url,
    validate_prefix,
    validate_source_url_template,
)
from templates_app.models import RecordTemplate


class StorageTarget(TimeStampedModel):
    """Where a domain's files go: local disk, an S3-compatible bucket or Tencent COS."""

    app = models.ForeignKey(
        App,
        verbose_name="app",
        related_name="storage_targets",
        on_delete=models.CASCADE,
    )
    name = models.CharField(
        verbose_name="name",
        max_length=64,
        validators=[RegexValidator(NAME_PATTERN, "must be 1–64 letters, digits, '_' or '-'")],
    )
    provider = models.CharField(
        verbose_name="provider",
        max_length=8,
        choices=StorageProvider.choices,
        default=StorageProvider.LOCAL,
    )
    bucket = models.CharField(
        verbose_name="bucket",
        max_length=63,
        blank=True,
        validators=[RegexValidator(BUCKET_PATTERN, "must be 3–63 lower-case letters, digits, '.' or '-'")],
        help_text="Required for S3 and COS (COS: name-appid).",
    )
    region = models.CharField(
        verbose_name="region",
        max_length=32,
        blank=True,
        validators=[RegexValidator(REGION_PATTERN, "must be 1–32 lower-case letters, digits or '-'")],
        help_text="Required for COS (ap-guangzhou); optional for S3.",
    )
    endpoint_url = models.CharField(
        verbose_name="endpoint URL",
        max_length=512,
        blank=True,
        validators=[validate_http_url],
        help_text="Any S3-compatible service (MinIO, Ceph, a cloud); empty for AWS or the COS default.",
    )
    path_style = models.BooleanField(
        verbose_name="path-style addressing",
        default=False,
        help_text="Address buckets as endpoint/bucket/key (most self-hosted S3 services need it).",
    )
    access_key_id = models.CharField(
        verbose_name="access key id",
        max_length=128,
        blank=True,
    )
    secret_access_key = EncryptedTextField(
        verbose_name="secret access key",
        blank=True,
        help_text="Stored encrypted; never shown again once saved.",
    )
    prefix = models.CharField(
        verbose_name="prefix",
        max_length=128,
        default="liverecord",
        validators=[validate_prefix],
        help_text="Folder (object key prefix) for every file: 1–128 characters, no '..'.",
    )
    presign_seconds = models.PositiveIntegerField(
        verbose_name="download link lifetime (s)",
        default=3600,
        validators=[
            MinValueValidator(PRESIGN_SECONDS_MIN, "must be between 60 and 604800"),
            MaxValueValidator(PRESIGN_SECONDS_MAX, "must be between 60 and 604800"),
        ],
    )

    class Meta:
        ordering = ["app", "name"]
        verbose_name = "storage target"
        constraints = [
            models.UniqueConstraint(fields=["app", "name"], name="storage_target_name_unique_per_app"),
            models.CheckConstraint(
                condition=models.Q(presign_seconds__gte=PRESIGN_SECONDS_MIN, presign_seconds__lte=PRESIGN_SECONDS_MAX),
                name="storage_target_presign_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_provider_display()})"


class Domain(TimeStampedModel):
    """A push domain: the host publishers push to, how pushes are signed, where events and files go."""

    app = models.ForeignKey(
        App,
        verbose_name="app",
        related_name="domains",
        on_delete=models.CASCADE,
    )
    name = models.CharField(
        verbose_name="name",
        max_length=253,
        unique=True,
        validators=[validate_domain_name],
        help_text="Host name or IP publishers push to (push.example.com); '*' catches hosts not listed.",
    )
    push_auth_enabled = models.BooleanField(
        verbose_name="push auth enabled",
        default=False,
        help_text="Refuse pushes without a valid txSecret/txTime signature.",
    )
    push_auth_key = EncryptedTextField(
        verbose_name="push auth key",
        blank=True,
        help_text="Signs pushes (8–128 printable characters). Stored encrypted.",
    )
    push_auth_backup_key = EncryptedTextField(
        verbose_name="push auth backup key",
        blank=True,
        help_text="A second key that also signs pushes, for rotation. Stored encrypted.",
    )
    callback_url = models.CharField(
        verbose_name="callback URL",
        max_length=1024,
        blank=True,
        validators=[validate_callback_url],
        help_text="http or https URL that receives push, file and task events.",
    )
    callback_key = EncryptedTextField(
        verbose_name="callback key",
        blank=True,
        help_text="Signs callbacks. Stored encrypted.",
    )
    storage = models.ForeignKey(
        StorageTarget,
        verbose_name="storage target",
        related_name="domains",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="Empty means local storage.",
    )
    source_url_template = models.CharField(
        verbose_name="source URL template",
        max_length=512,
        default=DEFAULT_SOURCE_URL_TEMPLATE,
        validators=[validate_source_url_template],
        help_text="Where recorders pull from; {ingest} is the ingest host that called the hook.",
    )
    lookback_seconds = models.PositiveIntegerField(
        verbose_name="look-back (s)",
        default=0,
        validators=[MaxValueValidator(LOOKBACK_SECONDS_MAX, "must be between 0 and 1800")],
        help_text="How much of every live stream stays spooled for highlights that start in the past.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "push domain"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(lookback_seconds__lte=LOOKBACK_SECONDS_MAX),
                name="domain_lookback_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


_stream_part = RegexValidator(STREAM_PART_PATTERN, STREAM_PART_MESSAGE)


class RecordRule(TimeStampedModel):
    """Binds a template to pushes by domain, app and stream name; an empty part matches anything.

    Among the rules matching a push, the most specific one wins (``rules.selectors.rule_match``).
    """

    app = models.ForeignKey(
        App,
        verbose_name="app",
        related_name="record_rules",
        on_delete=models.CASCADE,
    )
    domain = models.CharField(
        verbose_name="domain",
        max_length=253,
        blank=True,
        help_text="A push domain of this app; empty for any domain.",
    )
    app_name = models.CharField(
        verbose_name="app name",
        max_length=128,
        blank=True,
        validators=[_stream_part],
        help_text="The RTMP app (live in rtmp://host/live/stream); empty for any.",
    )
    stream_name = models.CharField(
        verbose_name="stream name",
        max_length=128,
        blank=True,
        validators=[_stream_part],
        help_text="Empty for any stream.",
    )
    template = models.ForeignKey(
        RecordTemplate,
        verbose_name="template",
        related_name="rules",
        on_delete=models.PROTECT,
    )

    class Meta:
        ordering = ["app", "domain", "app_name", "stream_name"]
        verbose_name = "recording rule"
        constraints = [
            # Also the index rule matching reads: (app, stream, domain, app_name) point lookups.
            models.UniqueConstraint(
                fields=["app", "stream_name", "domain", "app_name"],
                name="record_rule_unique_per_app",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain or '*'}/{self.app_name or '*'}/{self.stream_name or '*'} → {self.template}"
