from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from liverecord.models import App
from liverecord.services import app_create


@dataclass
class Tenant:
    app: App
    key: str
    client: APIClient


def make_tenant(name: str) -> Tenant:
    app, key = app_create(name=name)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return Tenant(app=app, key=key, client=client)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _loopback_callbacks(settings: Any) -> None:
    """Test receivers listen on loopback; the tests of the private-address refusal turn this off."""
    settings.LIVEREC_ALLOW_PRIVATE_CALLBACKS = True


@pytest.fixture
def tenant(db: None) -> Tenant:
    return make_tenant("acme")


@pytest.fixture
def other_tenant(db: None) -> Tenant:
    return make_tenant("globex")


@pytest.fixture
def anon() -> APIClient:
    return APIClient()
