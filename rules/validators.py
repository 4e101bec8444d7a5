"""Checks shared by the models (admin forms) and the API serializers; each raises Django's ValidationError."""

from __future__ import annotations

import ipaddress
import re
import socket
import string
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from rules.constants import CATCH_ALL_DOMAIN, PREFIX_MAX, SOURCE_URL_PLACEHOLDERS, SOURCE_URL_SCHEMES
from templates_app.naming import validate_relative_name

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def validate_domain_name(value: str) -> None:
    """A host name or an IP address publishers push to, or ``*``: lower-case, no port, no scheme."""
    if value == CATCH_ALL_DOMAIN:
        return
    if value != value.lower():
        raise ValidationError("must be lower-case")
    try:
        ipaddress.ip_address(value)
        return
    except ValueError:
        pass
    if len(value) > 253 or not all(_LABEL.match(label) for label in value.split(".")):
        raise ValidationError("must be a host name (like push.example.com), an IP address, or '*'")


def validate_http_url(value: str) -> None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("must be an http or https URL")


def validate_source_url_template(value: str) -> None:
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(value) if field is not None}
    except ValueError as exc:
        raise ValidationError(f"is not a valid template: {exc}") from exc
    unknown = sorted(fields - SOURCE_URL_PLACEHOLDERS)
    if unknown:
        raise ValidationError(f"has unknown placeholders: {', '.join('{' + f + '}' for f in unknown)}")
    if urlsplit(value).scheme not in SOURCE_URL_SCHEMES:
        raise ValidationError(f"must start with one of {', '.join(s + '://' for s in SOURCE_URL_SCHEMES)}")


def validate_prefix(value: str) -> None:
    if not 1 <= len(value) <= PREFIX_MAX:
        raise ValidationError(f"must be 1–{PREFIX_MAX} characters")
    validate_relative_name(value)


def private_address_reason(url: str) -> str | None:
    """Why a callback URL points inside the service's own network (loopback, private, link-local...), or None.

    Callbacks are requests the service makes on a tenant's behalf: without this check a tenant could make it
    call internal services (SSRF). Names that do not resolve here are let through; delivery checks again.
    """
    host = urlsplit(url).hostname or ""
    try:
        addresses = {ipaddress.ip_address(host)}
    except ValueError:
        try:
            infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError):
            return None
        addresses = {ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos}
    for address in addresses:
        if not address.is_global or address.is_multicast:
            return f"{host} is a private, loopback or reserved address ({address})"
    return None


def validate_callback_url(value: str) -> None:
    validate_http_url(value)
    if not settings.LIVEREC_ALLOW_PRIVATE_CALLBACKS and (reason := private_address_reason(value)):
        raise ValidationError(f"must not point to a private network: {reason}")
