"""Reads on vendor keys."""

from __future__ import annotations

from vendors.models import VendorKey


def vendor_key_active(*, vendor: str, key_id: str) -> VendorKey | None:
    """The usable key with this id: not revoked, of an active App."""
    key = VendorKey.objects.select_related("app", "domain").filter(vendor=vendor, key_id=key_id).first()
    if key is None or key.is_revoked or not key.app.is_active:
        return None
    return key
