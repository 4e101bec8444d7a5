"""Secrets never come back: not in an API answer, an admin page or a log line, and they are ciphertext at rest."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client

from rules.models import Domain, StorageTarget
from tests.conftest import Tenant

SECRETS = {
    "push_auth_key": "push-secret-111",
    "push_auth_backup_key": "push-secret-222",
    "callback_key": "callback-secret-333",
}
ACCESS_SECRET = "storage-secret-444"

pytestmark = pytest.mark.django_db


def test_secrets_never_come_back(tenant: Tenant, caplog: Any) -> None:
    caplog.set_level(logging.DEBUG)
    target = tenant.client.post(
        "/api/v1/storage-targets/",
        {"name": "s3", "provider": "s3", "bucket": "bucket-1", "secret_access_key": ACCESS_SECRET},
        format="json",
    ).json()
    domain = tenant.client.post(
        "/api/v1/domains/",
        {"name": "push.tv", "push_auth_enabled": True, "storage": target["id"], **SECRETS},
        format="json",
    ).json()
    bad = tenant.client.post("/api/v1/domains/", {"name": "bad name", **SECRETS}, format="json")
    assert bad.status_code == 400
    answers = [
        tenant.client.get(f"/api/v1/domains/{domain['id']}/").content,
        tenant.client.get("/api/v1/domains/").content,
        tenant.client.get(f"/api/v1/storage-targets/{target['id']}/").content,
        tenant.client.patch(f"/api/v1/domains/{domain['id']}/", {"lookback_seconds": 5}, format="json").content,
        bad.content,
    ]
    get_user_model().objects.create_superuser("root", "", "pw-for-tests-123")
    console = Client()
    console.login(username="root", password="pw-for-tests-123")
    pages = [
        console.get(f"/admin/rules/domain/{domain['id']}/change/").content,
        console.get("/admin/rules/domain/").content,
        console.get(f"/admin/rules/storagetarget/{target['id']}/change/").content,
    ]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in [*SECRETS.values(), ACCESS_SECRET]:
        for answer in answers + pages:
            assert secret.encode() not in answer
        assert secret not in logged

    with connection.cursor() as cursor:
        cursor.execute("SELECT push_auth_key, push_auth_backup_key, callback_key FROM rules_domain")
        raw = cursor.fetchone()
        cursor.execute("SELECT secret_access_key FROM rules_storagetarget")
        raw += cursor.fetchone()
    assert all(value.startswith("fernet:") for value in raw)
    assert not any(secret in "".join(raw) for secret in [*SECRETS.values(), ACCESS_SECRET])
    assert Domain.objects.get().push_auth_backup_key == SECRETS["push_auth_backup_key"]
    assert StorageTarget.objects.get().secret_access_key == ACCESS_SECRET


def test_an_admin_edit_without_the_secret_keeps_it(tenant: Tenant) -> None:
    domain = Domain.objects.create(app=tenant.app, name="keep.tv", push_auth_key="keep-this-key-1")
    get_user_model().objects.create_superuser("root", "", "pw-for-tests-123")
    console = Client()
    console.login(username="root", password="pw-for-tests-123")
    response = console.post(
        f"/admin/rules/domain/{domain.pk}/change/",
        {
            "app": tenant.app.pk,
            "name": "keep.tv",
            "source_url_template": "rtmp://{ingest}/{app}/{stream}",
            "lookback_seconds": 10,
            "push_auth_key": "",
            "push_auth_backup_key": "",
            "callback_key": "",
        },
    )
    assert response.status_code == 302, response.content[:500]
    domain.refresh_from_db()
    assert (domain.push_auth_key, domain.lookback_seconds) == ("keep-this-key-1", 10)
