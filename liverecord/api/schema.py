"""drf-spectacular extensions for the API's own plumbing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
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


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error of the API (SPEC.md, Conventions).",
    "properties": {
        "code": {"type": "string", "example": "invalid_parameter"},
        "message": {"type": "string", "example": "record_interval must be between 60 and 43200"},
        "errors": {
            "type": "object",
            "description": "Field path → reasons; `{}` when no field is at fault.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["code", "message", "errors"],
}
ERROR_DESCRIPTIONS = {
    400: "invalid_parameter: a field or query parameter is wrong; `errors` names it and the reason.",
    401: "unauthenticated: no API key, or a bad or revoked one.",
    404: "not_found: no such object in this App (another App's object is not found either), or no such page.",
    409: "conflict: a duplicate, or an object in the wrong state (`already_stopped`, `stream_not_live`, in use).",
    429: "rate_limited: over the App's request rate; retry after `Retry-After` seconds.",
}
#: Operations that can answer 409 (the services raising ``ConflictError``), as (path prefix, methods).
CONFLICTS = (
    ("/api/v1/domains/", {"post", "put", "patch", "delete"}),
    ("/api/v1/storage-targets/", {"post", "put", "patch", "delete"}),
    ("/api/v1/record-templates/", {"post", "put", "patch", "delete"}),
    ("/api/v1/record-rules/", {"post", "put", "patch", "delete"}),
    ("/api/v1/record-tasks/", {"post", "delete"}),
    ("/api/v1/files/{id}/retry-upload/", {"post"}),
)
METHODS = ("get", "post", "put", "patch", "delete")


def operation_error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an operation of the API can answer."""
    statuses = [401, 429]
    parameters = {p.get("name") for p in operation.get("parameters", []) if p.get("in") == "query"}
    if "requestBody" in operation or parameters:
        statuses.append(400)
    if "{id}" in path or "page" in parameters:
        statuses.append(404)  # no such object, or a page past the last
    if any(path.startswith(prefix) and method in methods for prefix, methods in CONFLICTS):
        statuses.append(409)
    return sorted(statuses)


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular post-processing hook: document every error an operation answers, in the one shape."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, item in result.get("paths", {}).items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in operation_error_statuses(path, method, operation):
                response: dict[str, Any] = {"description": ERROR_DESCRIPTIONS[status], "content": body}
                if status == 429:
                    response["headers"] = {
                        "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait"}
                    }
                responses.setdefault(str(status), response)
    return result


#: A string the API takes as it is: no NUL (PostgreSQL text cannot hold one).
NO_NUL = "^[^\\u0000]*$"
#: The characters Python's ``\s`` matches in a str pattern, for use inside a character class.
PYTHON_WHITESPACE = "\\t\\n\\x0b\\x0c\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
#: What ``validate_http_url`` takes (the schema's form may be narrower than the check, never wider).
HTTP_URL_PATTERN = "^[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9._~-]+(:[0-9]{1,5})?([/?#][^\\u0000-\\u0020]*)?$"
_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: A push domain: ``*``, or a host name (lower-cased by the API); IPv4 addresses match it too.
DOMAIN_NAME_PATTERN = f"^(\\*|{_LABEL}(\\.{_LABEL})*)$"
_SEGMENT_CHAR = "[^\\u0000-\\u001f\\u007f/\\\\]"
_SEGMENT_START = "[^\\u0000-\\u001f\\u007f/\\\\.]"
_SEGMENT = f"({_SEGMENT_START}{_SEGMENT_CHAR}*|\\.{_SEGMENT_START}{_SEGMENT_CHAR}*|\\.\\.{_SEGMENT_CHAR}+)"
#: A relative name that stays in its folder: no control character, no leading slash, no ``.`` or ``..`` part.
RELATIVE_NAME_PATTERN = f"^{_SEGMENT}([/\\\\]{_SEGMENT}?)*$"


class ValidatedCharFieldExtension(OpenApiSerializerFieldExtension):
    """The checks a ``ValidatedCharField`` runs, as the schema's ``pattern``, so clients and fuzzers know them."""

    target_class = "liverecord.api.serializers.ValidatedCharField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        pattern = self.target.schema_pattern
        if pattern:
            # Python's \s is wider than ECMA-262's (it takes \x1c-\x1f too): spell it out (only used in
            # classes). DRF refuses NUL in every string: a negated class leaves it out too.
            pattern = pattern.replace("\\s", PYTHON_WHITESPACE).replace("[^", "[^\\u0000")
        schema["pattern"] = pattern or NO_NUL
        if self.target.allow_blank:
            # drf-spectacular then offers "" as a oneOf branch of its own: the pattern's branch must not take it.
            schema.setdefault("minLength", 1)
        return schema


class TenantPrimaryKeyExtension(OpenApiSerializerFieldExtension):
    """An id the database can hold."""

    target_class = "liverecord.api.fields.TenantPrimaryKeyRelatedField"

    def map_serializer_field(self, auto_schema: Any, direction: str) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        schema.update(minimum=1, maximum=2**63 - 1)
        return schema
