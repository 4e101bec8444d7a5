"""drf-spectacular extensions for the API's own plumbing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.views import SpectacularAPIView
from rest_framework.exceptions import NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "liverecord.api.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An App's API key: `Authorization: Bearer lr_...`"}


#: Operations that answer ``null`` when there is nothing to show (SPEC.md: ``match/`` answers the winner or null).
NULLABLE_RESPONSES = (("/api/v1/record-rules/match/", "get"),)


def nullable_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: mark those 200 bodies nullable (OpenAPI 3.0 ``nullable``)."""
    for path, method in NULLABLE_RESPONSES:
        content = result.get("paths", {}).get(path, {}).get(method, {}).get("responses", {}).get("200", {})
        body = content.get("content", {}).get("application/json")
        if body and "$ref" in body.get("schema", {}):
            body["schema"] = {"allOf": [body["schema"]], "nullable": True}
    return result


class SchemaContentNegotiation(DefaultContentNegotiation):
    """``?format=json`` or ``?format=yaml`` picks the schema's renderer. The API turns URL format overrides off
    (``?format=`` filters files by format), so the schema view reads the parameter itself."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        wanted = format_suffix or request.query_params.get("format")
        if wanted:
            for renderer in renderers:
                if renderer.format == wanted:
                    return renderer, renderer.media_type
            raise NotFound(f"no schema format {wanted!r}: use json or yaml")
        return super().select_renderer(request, renderers, format_suffix)


class SchemaView(SpectacularAPIView):
    """``/api/schema/``: YAML by default, JSON for ``?format=json`` or ``Accept: application/json``."""

    content_negotiation_class = SchemaContentNegotiation
