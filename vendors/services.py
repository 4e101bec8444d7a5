"""Writes on vendor keys."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from liverecord.models import App
from rules.models import Domain
from rules.services import domain_name_normalize
from vendors.choices import Vendor
from vendors.models import VendorKey

_ALNUM = string.ascii_letters + string.digits


def _token(length: int, alphabet: str = _ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


@dataclass(frozen=True)
class NewVendorKey:
    """A key just made, with its secret: the only moment the secret is available in the clear."""

    key: VendorKey
    secret: str

    def lines(self) -> list[str]:
        """What to print, in the vendor's own words."""
        key = self.key
        if key.vendor == Vendor.TENCENT:
            return [f"SecretId: {key.key_id}", f"SecretKey: {self.secret}"]
        if key.vendor == Vendor.ZEGO:
            return [f"AppId: {key.key_id}", f"ServerSecret: {self.secret}"]
        return [f"App ID: {key.vendor_app_id}", f"Customer key: {key.key_id}", f"Customer secret: {self.secret}"]


def _key_domain(app: App, vendor: str, domain: str | None) -> Domain | None:
    """The domain a key is tied to: the one named, else the App's only one (Tencent keys may have none)."""
    domains = Domain.objects.filter(app=app)
    if domain:
        found = domains.filter(name=domain_name_normalize(domain)).first()
        if found is None:
            raise ValidationError({"domain": f"{domain!r} is not a push domain of app {app.name!r}"})
        return found
    count = domains.count()
    if count == 1:
        return domains.get()
    if count > 1:
        raise ValidationError({"domain": "is required: the app has several push domains"})
    if vendor != Vendor.TENCENT:
        raise ValidationError({"domain": f"the app has no push domain; {vendor} rooms need one"})
    return None


def _unique_key_id(vendor: str) -> str:
    while True:
        if vendor == Vendor.TENCENT:
            key_id = "AKID" + _token(32)
        elif vendor == Vendor.ZEGO:
            key_id = str(secrets.randbelow(2**32 - 10**6) + 10**6)  # a uint32 AppId, as ZEGO's are
        else:
            key_id = secrets.token_hex(16)
        if not VendorKey.objects.filter(vendor=vendor, key_id=key_id).exists():
            return key_id


@transaction.atomic
def vendor_key_create(*, app: App, vendor: str, domain: str | None = None, description: str = "") -> NewVendorKey:
    """Make a vendor credential of ``app``; the returned secret is never available again."""
    if vendor not in Vendor.values:
        raise ValidationError({"vendor": f"must be one of {', '.join(Vendor.values)}"})
    domain_row = _key_domain(app, vendor, domain)
    secret = _token(32) if vendor == Vendor.TENCENT else secrets.token_hex(16)
    key = VendorKey.objects.create(
        app=app,
        vendor=vendor,
        key_id=_unique_key_id(vendor),
        vendor_app_id=secrets.token_hex(16) if vendor == Vendor.AGORA else "",
        secret=secret,
        domain=domain_row,
        description=description,
    )
    return NewVendorKey(key=key, secret=secret)


def vendor_key_revoke(*, key: VendorKey, now: datetime | None = None) -> VendorKey:
    if key.revoked_at is None:
        key.revoked_at = now or timezone.now()
        key.save(update_fields=["revoked_at", "updated"])
    return key


def vendor_key_update(*, key: VendorKey, description: str) -> VendorKey:
    key.description = description
    key.full_clean(validate_unique=False)
    key.save(update_fields=["description", "updated"])
    return key


def vendor_key_used(*, key: VendorKey, now: datetime) -> None:
    """Note the use, at most once a minute per key (every signed request would otherwise write)."""
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        VendorKey.objects.filter(pk=key.pk).update(last_used_at=now)
