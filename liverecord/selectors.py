"""Reads on tenants and their API keys."""

from __future__ import annotations

import hmac

from django.utils import timezone

from liverecord.models import API_KEY_PREFIX, ApiKey, hash_api_key


def api_key_authenticate(*, raw_key: str) -> ApiKey | None:
    """The live key matching ``raw_key``, or None: unknown, malformed, revoked, or its App inactive."""
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX:
        return None
    key = ApiKey.objects.select_related("app").filter(prefix=parts[1]).first()
    if key is None or not hmac.compare_digest(key.key_hash, hash_api_key(raw_key)):
        return None
    if key.is_revoked or not key.app.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key
