"""drf-spectacular extensions for the API's own plumbing."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


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
