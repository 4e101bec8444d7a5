"""Callback deliveries (one per event sent to a user's callback URL) and their attempts; re-exported by
``recordings.models``."""

from __future__ import annotations

from django.db import models

from liverecord.models import App, TimeStampedModel
from recordings.choices import CallbackEvent, DeliveryStatus
from recordings.ids import public_id
from rules.models import Domain


class CallbackDelivery(TimeStampedModel):
    """One event sent to a domain's callback URL, retried with backoff until a 2xx; ``event_id`` de-duplicates."""

    event_id = models.CharField(
        verbose_name="event id",
        max_length=16,
        unique=True,
        default=public_id,
        editable=False,
    )
    app = models.ForeignKey(
        App,
        verbose_name="app",
        related_name="callback_deliveries",
        on_delete=models.CASCADE,
    )
    domain = models.ForeignKey(
        Domain,
        verbose_name="push domain",
        related_name="callback_deliveries",
        on_delete=models.SET_NULL,
        null=True,
    )
    event_type = models.PositiveSmallIntegerField(verbose_name="event type", choices=CallbackEvent.choices)
    url = models.CharField(verbose_name="URL", max_length=1024)
    body = models.JSONField(verbose_name="body", help_text="The event without t and sign, which each attempt adds.")
    status = models.CharField(
        verbose_name="status",
        max_length=10,
        choices=DeliveryStatus.choices,
        default=DeliveryStatus.PENDING,
        db_index=True,
    )
    attempts = models.PositiveIntegerField(verbose_name="attempts", default=0)
    next_attempt_at = models.DateTimeField(verbose_name="next attempt", null=True, blank=True, db_index=True)
    delivered_at = models.DateTimeField(verbose_name="delivered at", null=True, blank=True)
    last_error = models.CharField(verbose_name="last error", max_length=500, blank=True)
    lease_until = models.DateTimeField(
        verbose_name="attempt claimed until",
        null=True,
        blank=True,
        help_text="An attempt in progress holds the delivery until then, so two runs never POST it twice.",
    )
    file = models.ForeignKey(
        "recordings.RecordFile",
        verbose_name="file",
        related_name="callbacks",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    task = models.ForeignKey(
        "recordings.RecordTask",
        verbose_name="task",
        related_name="callbacks",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )

    class Meta:
        ordering = ["-created"]
        verbose_name = "callback delivery"
        verbose_name_plural = "callback deliveries"

    def __str__(self) -> str:
        return f"event {self.event_type} {self.event_id} → {self.url}"


class CallbackAttempt(models.Model):
    """One HTTP attempt of a delivery, as the receiver answered it."""

    delivery = models.ForeignKey(
        CallbackDelivery,
        verbose_name="delivery",
        related_name="attempt_log",
        on_delete=models.CASCADE,
    )
    at = models.DateTimeField(verbose_name="at", auto_now_add=True)
    status_code = models.PositiveSmallIntegerField(verbose_name="HTTP status", null=True, blank=True)
    ok = models.BooleanField(verbose_name="delivered")
    error = models.CharField(verbose_name="error", max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(verbose_name="duration (ms)")
    response_excerpt = models.CharField(verbose_name="response", max_length=500, blank=True)

    class Meta:
        ordering = ["at"]
        verbose_name = "callback attempt"

    def __str__(self) -> str:
        return f"{self.status_code or self.error} at {self.at:%H:%M:%S}"
