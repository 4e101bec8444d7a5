"""A generic API test base (after NetBox's APIViewTestCase): every resource gets the same checks.

A resource's test class sets ``basename``, ``create_data``, ``update_data``, ``secret_fields`` and
``make(tenant)``; it inherits list, get, create, PUT, PATCH, delete, 401 without a key, 404 for another
App's object, and "secrets are never answered".
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

import pytest
from django.db import models
from django.urls import reverse

from tests.conftest import Tenant


class APIResourceTests:
    basename: ClassVar[str]
    namespace: ClassVar[str]
    create_data: ClassVar[dict[str, Any]]
    update_data: ClassVar[dict[str, Any]]
    secret_fields: ClassVar[tuple[str, ...]] = ()

    def make(self, tenant: Tenant, index: int = 0) -> models.Model:
        raise NotImplementedError

    def list_url(self) -> str:
        return reverse(f"{self.namespace}:{self.basename}-list")

    def detail_url(self, pk: Any) -> str:
        return reverse(f"{self.namespace}:{self.basename}-detail", args=[pk])

    def create_payload(self, tenant: Tenant) -> dict[str, Any]:
        return dict(self.create_data)

    def assert_no_secrets(self, body: Any) -> None:
        text = json.dumps(body)
        for field in self.secret_fields:
            assert f'"{field}"' not in text, f"{field} answered"
        for value in self._secret_values():
            assert value not in text, "a secret value was answered"

    def _secret_values(self) -> list[str]:
        data = {**self.create_data, **self.update_data}
        return [str(data[f]) for f in self.secret_fields if data.get(f)]

    def test_list_shows_only_own_objects(self, tenant: Tenant, other_tenant: Tenant) -> None:
        own = self.make(tenant, 0)
        self.make(other_tenant, 1)
        response = tenant.client.get(self.list_url())
        assert response.status_code == 200
        assert [row["id"] for row in response.json()["results"]] == [own.pk]
        assert response.json()["count"] == 1
        self.assert_no_secrets(response.json())

    def test_get_answers_the_object(self, tenant: Tenant) -> None:
        obj = self.make(tenant)
        response = tenant.client.get(self.detail_url(obj.pk))
        assert response.status_code == 200
        assert response.json()["id"] == obj.pk
        self.assert_no_secrets(response.json())

    def test_create_answers_201_without_secrets(self, tenant: Tenant) -> None:
        response = tenant.client.post(self.list_url(), self.create_payload(tenant), format="json")
        assert response.status_code == 201, response.json()
        body = response.json()
        for key, value in self.create_data.items():
            if key not in self.secret_fields and not isinstance(value, dict):
                assert body[key] == value, key
        self.assert_no_secrets(body)

    def test_put_replaces_the_object(self, tenant: Tenant) -> None:
        obj = self.make(tenant)
        payload = {**self.create_payload(tenant), **self.update_data}
        response = tenant.client.put(self.detail_url(obj.pk), payload, format="json")
        assert response.status_code == 200, response.json()
        for key, value in self.update_data.items():
            if key not in self.secret_fields and not isinstance(value, dict):
                assert response.json()[key] == value, key
        self.assert_no_secrets(response.json())

    def test_patch_changes_given_fields(self, tenant: Tenant) -> None:
        obj = self.make(tenant)
        response = tenant.client.patch(self.detail_url(obj.pk), self.update_data, format="json")
        assert response.status_code == 200, response.json()
        fresh = tenant.client.get(self.detail_url(obj.pk)).json()
        for key, value in self.update_data.items():
            if key not in self.secret_fields and not isinstance(value, dict):
                assert fresh[key] == value, key

    def test_delete_removes_the_object(self, tenant: Tenant) -> None:
        obj = self.make(tenant)
        assert tenant.client.delete(self.detail_url(obj.pk)).status_code == 204
        assert tenant.client.get(self.detail_url(obj.pk)).status_code == 404
        assert not type(obj).objects.filter(pk=obj.pk).exists()

    @pytest.mark.parametrize("method", ["get_list", "get", "post", "put", "patch", "delete"])
    def test_without_a_key_is_401(self, tenant: Tenant, anon: Any, method: str) -> None:
        obj = self.make(tenant)
        if method == "get_list":
            response = anon.get(self.list_url())
        elif method == "post":
            response = anon.post(self.list_url(), self.create_payload(tenant), format="json")
        else:
            response = getattr(anon, method)(self.detail_url(obj.pk), self.update_data, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert type(obj).objects.filter(pk=obj.pk).exists()

    def test_a_bad_key_is_401(self, tenant: Tenant, anon: Any) -> None:
        anon.credentials(HTTP_AUTHORIZATION="Bearer lr_000000000000_not-a-key")
        assert anon.get(self.list_url()).status_code == 401

    @pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
    def test_another_apps_object_is_404(self, tenant: Tenant, other_tenant: Tenant, method: str) -> None:
        obj = self.make(other_tenant)
        response = getattr(tenant.client, method)(self.detail_url(obj.pk), self.update_data, format="json")
        assert response.status_code == 404
        assert response.json() == {"code": "not_found", "message": "Not found.", "errors": {}}
        assert type(obj).objects.filter(pk=obj.pk).exists()
