"""One error shape for the whole API (SPEC.md):

``{"code": "invalid_parameter", "message": "record_interval must be between 60 and 43200",
"errors": {"mp4.record_interval": ["must be between 60 and 43200"]}}``
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from liverecord.errors import ConflictError

STATUS_CODES = {
    400: "invalid_parameter",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def flatten_errors(detail: Any, path: str = "") -> dict[str, list[str]]:
    """Nested serializer errors as ``{"mp4.record_interval": [...]}``; list items get ``[i]``."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            child = f"{path}.{name}" if path and name else (name or path)
            for k, v in flatten_errors(value, child).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            flat.setdefault(path, []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                for k, v in flatten_errors(item, f"{path}[{index}]").items():
                    flat.setdefault(k, []).extend(v)
    else:
        flat.setdefault(path, []).append(str(detail))
    return flat


def summarize(errors: dict[str, list[str]]) -> str:
    """The first error as one sentence: ``record_interval must be between 60 and 43200``."""
    for path, messages in errors.items():
        if not messages:
            continue
        leaf = path.rsplit(".", 1)[-1]
        message = messages[0]
        if not leaf:
            return message
        if message[:1].isupper():
            return f"{leaf}: {message}"
        return f"{leaf} {message}"
    return "invalid parameter"


def error_response(
    status_code: int,
    message: str,
    errors: dict[str, list[str]] | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict[str, Any] = {
        "code": code or STATUS_CODES.get(status_code, "error"),
        "message": message,
        "errors": errors or {},
    }
    return Response(body, status=status_code, headers=headers)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ConflictError):
        return error_response(409, exc.message, {exc.field: [exc.message]} if exc.field else None, code=exc.code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    headers = {k: v for k, v in response.headers.items() if k in ("Retry-After", "WWW-Authenticate", "Allow")}
    if isinstance(exc, exceptions.ValidationError):
        errors = flatten_errors(exc.detail)
        return error_response(status.HTTP_400_BAD_REQUEST, summarize(errors), errors, headers=headers)
    code = getattr(exc.detail, "code", None) if not isinstance(exc.detail, (dict, list)) else None
    default_code = STATUS_CODES.get(response.status_code)
    message = str(exc.detail) if not isinstance(exc.detail, (dict, list)) else exc.default_detail
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        message = f"rate limit exceeded; retry in {max(1, int(wait + 0.999))} s"
    return error_response(
        response.status_code,
        str(message),
        code=default_code or (str(code) if code else None),
        headers=headers,
    )


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: a URL no route matches answers the API's error shape under ``/api/``, a page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "message": "Not found.", "errors": {}}, status=404)
    return page_not_found(request, exception)
