from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from liverecord.api.authentication import ApiClient


class AppRateThrottle(SimpleRateThrottle):
    """Per-App request rate, ``LIVEREC_API_RATE`` (default ``50/s``), shared by all the App's keys."""

    scope = "app"

    def get_rate(self) -> str:
        return str(settings.LIVEREC_API_RATE)

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.user, ApiClient):
            return None
        return f"throttle_app_{request.user.app.pk}"
