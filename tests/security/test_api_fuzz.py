"""schemathesis against our own OpenAPI schema: generated requests never get a 5xx or a body that breaks the schema."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from liverecord.services import app_create
from liverecord.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

pytestmark = [pytest.mark.slow]


@pytest.fixture
def api_key(transactional_db: None, settings: Any) -> str:
    settings.LIVEREC_API_RATE = "100000/s"
    _, key = app_create(name="fuzz")
    return key


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_generated_requests_never_break_the_api(case: Any, api_key: str, live_server: Any) -> None:
    """Over real HTTP (the live server): the schema is read in-process, requests go through the network stack."""
    case.call_and_validate(
        base_url=live_server.url,
        headers={"Authorization": f"Bearer {api_key}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
