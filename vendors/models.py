"""Vendor keys: the credentials a cloud vendor's own client signs its requests with (SPEC.md, vendor APIs)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from liverecord.crypto import EncryptedTextField
from liverecord.models import App, TimeStampedModel
from rules.models import Domain
from vendors.choices import Vendor


class VendorKey(TimeStampedModel):
    """One vendor credential of an App: Tencent SecretId/SecretKey, ZEGO AppId/ServerSecret, Agora key/secret.

    Unlike an API key the secret cannot be stored as a hash: the vendors' signatures are HMACs (or hashes) keyed
    by it, so verifying one needs the secret itself. It is stored encrypted and never shown after creation.
    """

    app = models.ForeignKey(
        App,
        verbose_name="app",
        related_name="vendor_keys",
        on_delete=models.CASCADE,
    )
    vendor = models.CharField(
        verbose_name="vendor",
        max_length=8,
        choices=Vendor.choices,
    )
    key_id = models.CharField(
        verbose_name="key id",
        max_length=64,
        help_text="The public half: Tencent SecretId, ZEGO AppId, Agora customer key.",
    )
    vendor_app_id = models.CharField(
        verbose_name="vendor app id",
        max_length=64,
        blank=True,
        help_text="Agora's App ID (the {appid} of its URLs); empty for the other vendors.",
    )
    secret = EncryptedTextField(
        verbose_name="secret",
        help_text="Stored encrypted; shown once, when the key is made.",
    )
    domain = models.ForeignKey(
        Domain,
        verbose_name="push domain",
        related_name="vendor_keys",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="The push domain the vendor's rooms and channels live on; Tencent requests name their own.",
    )
    description = models.CharField(
        verbose_name="description",
        max_length=200,
        blank=True,
    )
    revoked_at = models.DateTimeField(
        verbose_name="revoked at",
        null=True,
        blank=True,
        help_text="A revoked key is refused from this time on.",
    )
    last_used_at = models.DateTimeField(
        verbose_name="last used at",
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["-created"]
        verbose_name = "vendor key"
        constraints = [
            models.UniqueConstraint(fields=["vendor", "key_id"], name="vendor_key_id_unique_per_vendor"),
        ]

    def __str__(self) -> str:
        return f"{self.get_vendor_display()} {self.key_id} ({self.app})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None and self.revoked_at <= timezone.now()
