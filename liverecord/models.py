"""Tenancy: an ``App`` owns every configuration object; an ``ApiKey`` lets one App use the API."""

from __future__ import annotations

import hashlib
import secrets

from django.db import models
from django.utils import timezone

API_KEY_PREFIX = "lr"


class TimeStampedModel(models.Model):
    """Creation and last-change times for every row."""

    created = models.DateTimeField(
        verbose_name="created",
        auto_now_add=True,
        db_index=True,
    )
    updated = models.DateTimeField(
        verbose_name="updated",
        auto_now=True,
    )

    class Meta:
        abstract = True


class App(TimeStampedModel):
    """A tenant, like a cloud vendor's app id: API keys, domains, templates and rules belong to one App."""

    name = models.CharField(
        verbose_name="name",
        max_length=64,
        unique=True,
        help_text="A name for people; the numeric id is the appid sent in callbacks.",
    )
    is_active = models.BooleanField(
        verbose_name="active",
        default=True,
        help_text="An inactive App's keys are refused.",
    )

    class Meta:
        ordering = ["name"]
        verbose_name = "app"

    def __str__(self) -> str:
        return self.name


def hash_api_key(raw_key: str) -> str:
    # Keys are 256-bit random strings, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(TimeStampedModel):
    """A bearer key of one App. Only its hash is stored; the key itself is shown once, when made."""

    app = models.ForeignKey(
        App,
        verbose_name="app",
        related_name="api_keys",
        on_delete=models.CASCADE,
    )
    prefix = models.CharField(
        verbose_name="prefix",
        max_length=16,
        unique=True,
        help_text="The public start of the key, to tell keys apart.",
    )
    key_hash = models.CharField(
        verbose_name="key hash",
        max_length=64,
        help_text="SHA-256 of the whole key.",
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
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.app})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None and self.revoked_at <= timezone.now()

    @staticmethod
    def generate() -> tuple[str, str]:
        """A new (prefix, raw key) pair: ``lr_<prefix>_<secret>``."""
        prefix = secrets.token_hex(6)
        return prefix, f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
