"""The per-App rate limit, counted once for the whole service.

DRF's ``SimpleRateThrottle`` keeps a request history in the cache and rewrites it on every request (read,
append, write): two web processes that read it at once both write back their own copy, and one request is
lost. Here each App has one counter per time window, raised with the cache's atomic increment (Redis INCR in
production; diskcache's SQLite transaction in the embedded default), so every process and host counts into
the same number.
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle

from liverecord.api.authentication import ApiClient


def app_rate_wait(*, app_id: int, now: float) -> float | None:
    """Count one request of the App against ``LIVEREC_API_RATE``: None when allowed, else seconds to wait.

    The vendor facades count into the same per-App number as the API."""
    limit, period = SimpleRateThrottle.parse_rate(None, str(settings.LIVEREC_API_RATE))  # type: ignore[arg-type]
    assert limit is not None and period is not None
    window = math.floor(now / period)
    key = f"throttle:app:{app_id}:{window}"
    cache.add(key, 0, timeout=period * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # the counter expired between add and incr
        cache.add(key, 1, timeout=period * 2)
        count = 1
    return None if count <= limit else (window + 1) * period - now


class AppRateThrottle(BaseThrottle):
    """``LIVEREC_API_RATE`` (default ``50/s``) per App, shared by all its keys; a fixed window of the rate's
    period (a second for ``/s``)."""

    timer = staticmethod(time.time)

    def __init__(self) -> None:
        self.retry_after: float | None = None

    def allow_request(self, request: Request, view: Any) -> bool:
        if not isinstance(request.user, ApiClient):
            return True
        wait = app_rate_wait(app_id=request.user.app.pk, now=self.timer())
        self.retry_after = wait
        return wait is None

    def wait(self) -> float | None:
        return self.retry_after
