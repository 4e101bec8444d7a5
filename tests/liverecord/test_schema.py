"""The OpenAPI schema and the browsable docs: JSON or YAML as asked, Swagger UI and ReDoc served by the service."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playwright.sync_api import sync_playwright
from rest_framework.test import APIClient

from liverecord.api.schema import DOMAIN_NAME_PATTERN, HTTP_URL_PATTERN, RELATIVE_NAME_PATTERN
from rules.api.serializers import SOURCE_URL_TEMPLATE_PATTERN
from rules.validators import validate_domain_name, validate_http_url, validate_prefix, validate_source_url_template
from templates_app.api.serializers import FILE_NAME_TEMPLATE_PATTERN
from templates_app.naming import validate_file_name_template

OPERATION_METHODS = ("get", "post", "put", "patch", "delete")
# ReDoc's sidebar badge links Redocly's logo from their CDN; offline the image hides itself (onError).
REDOC_BADGE = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def test_schema_is_yaml_by_default(anon: APIClient, db: None) -> None:
    response = anon.get("/api/schema/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.oai.openapi")
    assert "/api/v1/domains/" in yaml.safe_load(response.content)["paths"]


@pytest.mark.parametrize(
    ("query", "headers"),
    [({"format": "json"}, {}), ({}, {"HTTP_ACCEPT": "application/json"})],
    ids=["format-json", "accept-json"],
)
def test_schema_is_json_when_asked(anon: APIClient, db: None, query: dict[str, str], headers: dict[str, str]) -> None:
    response = anon.get("/api/schema/", query, **headers)
    assert response.status_code == 200
    assert "json" in response["Content-Type"]
    assert "/api/v1/record-tasks/" in json.loads(response.content)["paths"]


@pytest.mark.parametrize("page", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_their_assets_from_the_service(anon: APIClient, db: None, page: str) -> None:
    html = anon.get(page).content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    for url in ("cdn.jsdelivr.net", "unpkg.com", "cdnjs"):
        assert url not in html


@pytest.mark.slow
def test_swagger_ui_lists_the_operations_with_no_network(live_server: Any, transactional_db: None) -> None:
    """Chromium with every request off the live server refused: the pages still render every operation."""

    schema = json.loads(APIClient().get("/api/schema/", {"format": "json"}).content)
    operations = sum(1 for item in schema["paths"].values() for method in item if method in OPERATION_METHODS)
    own = urlsplit(live_server.url).netloc
    refused: dict[str, list[str]] = {"/api/docs/": [], "/api/redoc/": []}

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--no-proxy-server",
            ],
        )
        try:
            page = browser.new_page()
            current = ["/api/docs/"]

            def only_loopback(route: Any) -> None:
                if urlsplit(route.request.url).netloc == own:
                    route.continue_()
                else:
                    refused[current[0]].append(route.request.url)
                    route.abort("internetdisconnected")

            page.route("**/*", only_loopback)
            page.goto(f"{live_server.url}/api/docs/")
            page.wait_for_selector(".opblock", timeout=30_000)
            swagger_shown = page.locator(".opblock").count()
            swagger_paths = [p.replace("\u200b", "") for p in page.locator(".opblock-summary-path").all_inner_texts()]
            current[0] = "/api/redoc/"
            page.goto(f"{live_server.url}/api/redoc/")
            page.wait_for_selector("[data-section-id^='operation/']", timeout=30_000)
            redoc_shown = page.locator("[data-section-id^='operation/']").count()
        finally:
            browser.close()

    assert refused["/api/docs/"] == []
    assert set(refused["/api/redoc/"]) <= {REDOC_BADGE}
    assert swagger_shown == operations
    assert "/api/v1/record-tasks/{id}/stop/" in swagger_paths
    assert redoc_shown == operations


def _validators() -> list[tuple[str, str, Any]]:

    return [
        ("domain", DOMAIN_NAME_PATTERN, lambda v: validate_domain_name(v.lower())),
        ("http_url", HTTP_URL_PATTERN, validate_http_url),
        ("prefix", RELATIVE_NAME_PATTERN, validate_prefix),
        ("source_url_template", SOURCE_URL_TEMPLATE_PATTERN, validate_source_url_template),
        ("file_name_template", FILE_NAME_TEMPLATE_PATTERN, validate_file_name_template),
    ]


@pytest.mark.parametrize(("name", "pattern", "check"), _validators(), ids=lambda x: x if isinstance(x, str) else "")
def test_a_schema_pattern_allows_only_what_the_check_takes(name: str, pattern: str, check: Any) -> None:
    """The schema may be narrower than a check, never wider: a client that follows it is never refused."""

    limits = {"domain": 253, "prefix": 128, "source_url_template": 512, "file_name_template": 256}

    @settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(pattern, fullmatch=True))
    def run(value: str) -> None:
        if len(value) <= limits.get(name, 1024):
            check(value)

    run()


def test_every_operation_documents_its_errors_in_the_one_shape(anon: APIClient, db: None) -> None:
    schema = json.loads(anon.get("/api/schema/", {"format": "json"}).content)
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message", "errors"]
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in OPERATION_METHODS:
                continue
            responses = operation["responses"]
            for status in ("401", "429"):
                assert responses[status]["content"]["application/json"]["schema"] == {
                    "$ref": "#/components/schemas/Error"
                }, (method, path, status)
            assert "Retry-After" in responses["429"]["headers"]
            if "{id}" in path:
                assert "404" in responses, (method, path)
            if method in ("post", "put", "patch") and "requestBody" in operation:
                assert "400" in responses, (method, path)
    stop = schema["paths"]["/api/v1/record-tasks/{id}/stop/"]["post"]["responses"]
    assert {"200", "401", "404", "409", "429"} <= set(stop)


def test_the_schema_carries_specs_bounds(anon: APIClient, db: None) -> None:
    components = json.loads(anon.get("/api/schema/", {"format": "json"}).content)["components"]["schemas"]
    interval = {fmt: components[f"{fmt}SettingsRequest"]["properties"]["record_interval"] for fmt in ("Flv", "Aac")}
    assert (interval["Flv"]["minimum"], interval["Flv"]["maximum"]) == (60, 43200)
    assert (interval["Aac"]["minimum"], interval["Aac"]["maximum"]) == (60, 7200)
    target = components["StorageTargetRequest"]["properties"]
    assert target["name"]["pattern"] == "^[A-Za-z0-9_-]{1,64}$"
    assert (target["presign_seconds"]["minimum"], target["presign_seconds"]["maximum"]) == (60, 604800)
    assert components["ProviderEnum"]["enum"] == ["local", "s3", "cos"]


def test_an_unrouted_api_path_is_404_in_the_error_shape(anon: APIClient, db: None) -> None:
    response = anon.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "Not found.", "errors": {}}
