"""Writes on tenants and their API keys."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from liverecord.errors import ConflictError
from liverecord.models import ApiKey, App, hash_api_key


def api_key_create(*, app: App, description: str = "") -> tuple[ApiKey, str]:
    """Make a key for ``app``; returns the row and the raw key, which is never available again."""
    prefix, raw_key = ApiKey.generate()
    key = ApiKey.objects.create(app=app, prefix=prefix, key_hash=hash_api_key(raw_key), description=description)
    return key, raw_key


@transaction.atomic
def app_create(*, name: str) -> tuple[App, str]:
    """Create a tenant and its first API key."""
    if App.objects.filter(name=name).exists():
        raise ConflictError(f"an app named {name!r} already exists", field="name")
    app = App.objects.create(name=name)
    _, raw_key = api_key_create(app=app, description="first key")
    return app, raw_key


def api_key_revoke(*, key: ApiKey) -> ApiKey:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at", "updated"])
    return key


def app_update(*, app: App, **fields: object) -> App:
    """Rename a tenant or switch it off (an inactive App's keys are refused)."""
    if "name" in fields and App.objects.filter(name=fields["name"]).exclude(pk=app.pk).exists():
        raise ConflictError(f"an app named {fields['name']!r} already exists", field="name")
    for key, value in fields.items():
        setattr(app, key, value)
    app.full_clean(validate_unique=False)
    app.save()
    return app


def api_key_update(*, key: ApiKey, description: str) -> ApiKey:
    key.description = description
    key.full_clean(validate_unique=False)
    key.save(update_fields=["description", "updated"])
    return key
