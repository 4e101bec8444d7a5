"""``create_vendor_key``: a pair printed once, the secret stored encrypted, revocable in the admin, never shown."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from liverecord.models import App
from rules.models import Domain
from vendors.models import VendorKey


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("create_vendor_key", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_a_tencent_pair_is_printed_and_the_secret_stored_encrypted(db: None) -> None:
    App.objects.create(name="acme")
    printed = run("acme", "--vendor", "tencent")
    secret_id = re.search(r"SecretId: (AKID\w{32})", printed)
    secret_key = re.search(r"SecretKey: (\w{32})", printed)
    assert secret_id and secret_key
    key = VendorKey.objects.get(key_id=secret_id[1])
    assert key.secret == secret_key[1] and key.domain is None
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM vendors_vendorkey WHERE id = %s", [key.pk])
        (stored,) = cursor.fetchone()
    assert stored.startswith("fernet:") and secret_key[1] not in stored


def test_zego_and_agora_keys_are_tied_to_a_domain(db: None) -> None:
    app = App.objects.create(name="acme")
    with pytest.raises(CommandError, match="no push domain"):
        run("acme", "--vendor", "zego")
    Domain.objects.create(app=app, name="a.example.com")
    zego = run("acme", "--vendor", "zego")
    assert re.search(r"AppId: \d+\nServerSecret: [0-9a-f]{32}", zego)
    Domain.objects.create(app=app, name="b.example.com")
    with pytest.raises(CommandError, match="several push domains"):
        run("acme", "--vendor", "agora")
    agora = run("acme", "--vendor", "agora", "--domain", "B.example.com")
    assert re.search(r"App ID: [0-9a-f]{32}\nCustomer key: [0-9a-f]{32}\nCustomer secret: [0-9a-f]{32}", agora)
    assert VendorKey.objects.get(vendor="agora").domain.name == "b.example.com"
    with pytest.raises(CommandError, match="no App"):
        run("nobody", "--vendor", "tencent")


def test_the_admin_revokes_keys_and_never_shows_the_secret(admin_client: Any) -> None:
    App.objects.create(name="acme")
    secret = run("acme", "--vendor", "tencent").split("SecretKey: ")[1].strip()
    key = VendorKey.objects.get()
    page = admin_client.get(reverse("admin:vendors_vendorkey_change", args=[key.pk]))
    assert page.status_code == 200 and key.key_id in page.text and secret not in page.text
    listing = admin_client.post(
        reverse("admin:vendors_vendorkey_changelist"), {"action": "revoke", "_selected_action": [key.pk]}
    )
    assert listing.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None and key.is_revoked
