from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from liverecord.models import ApiKey, App
from templates_app.models import RecordTemplate
from tests.conftest import Tenant

URL = "/api/v1/record-templates/"


@pytest.mark.django_db
def test_create_app_prints_an_id_and_a_working_key() -> None:
    out = StringIO()
    call_command("create_app", "newsroom", stdout=out, stderr=StringIO())
    app_id = int(re.search(r"app_id: (\d+)", out.getvalue()).group(1))
    raw_key = re.search(r"api_key: (\S+)", out.getvalue()).group(1)
    assert App.objects.get(pk=app_id).name == "newsroom"
    key = ApiKey.objects.get(app_id=app_id)
    assert raw_key not in key.key_hash and len(key.key_hash) == 64
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert client.get(URL).status_code == 200


@pytest.mark.django_db
def test_create_app_refuses_a_duplicate_name() -> None:
    call_command("create_app", "dup", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(Exception, match="already exists"):
        call_command("create_app", "dup", stdout=StringIO(), stderr=StringIO())


def test_a_revoked_key_is_401(tenant: Tenant) -> None:
    ApiKey.objects.filter(app=tenant.app).update(revoked_at=timezone.now())
    response = tenant.client.get(URL)
    assert response.status_code == 401
    assert response.json() == {"code": "unauthenticated", "message": "invalid or revoked API key"}


def test_an_inactive_apps_key_is_401(tenant: Tenant) -> None:
    App.objects.filter(pk=tenant.app.pk).update(is_active=False)
    assert tenant.client.get(URL).status_code == 401


def test_a_key_with_a_wrong_secret_is_401(tenant: Tenant) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tenant.key[:-3]}xyz")
    assert client.get(URL).status_code == 401


@override_settings(LIVEREC_API_RATE="3/s")
def test_rate_limit_is_per_app_with_retry_after(tenant: Tenant, other_tenant: Tenant) -> None:
    statuses = [tenant.client.get(URL).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = tenant.client.get(URL)
    assert response.json()["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) >= 1
    assert other_tenant.client.get(URL).status_code == 200


def test_page_size_is_capped_at_500(tenant: Tenant) -> None:
    RecordTemplate.objects.bulk_create(RecordTemplate(app=tenant.app, name=f"t{i}") for i in range(501))
    body = tenant.client.get(URL, {"page_size": 1000}).json()
    assert body["count"] == 501 and len(body["results"]) == 500
    assert len(tenant.client.get(URL, {"page_size": 500, "page": 2}).json()["results"]) == 1


def test_malformed_json_is_400_in_the_error_shape(tenant: Tenant) -> None:
    response = tenant.client.generic("POST", URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_parameter"


def test_unknown_object_is_404_in_the_error_shape(tenant: Tenant) -> None:
    assert tenant.client.get(f"{URL}999999/").json() == {"code": "not_found", "message": "Not found."}


def test_schema_and_docs_are_served(anon: APIClient, db: None) -> None:
    schema = anon.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/domains/",
        "/api/v1/record-templates/",
        "/api/v1/record-rules/match/",
        "/api/v1/storage-targets/",
    ):
        assert path in paths
    assert schema.json()["components"]["securitySchemes"]["ApiKey"]["scheme"] == "bearer"
    assert anon.get("/api/docs/").status_code == 200
