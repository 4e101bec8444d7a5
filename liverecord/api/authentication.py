"""``Authorization: Bearer <api key>``: the key decides the tenant of every API request."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework import authentication, exceptions
from rest_framework.request import Request

from liverecord.models import ApiKey, App
from liverecord.selectors import api_key_authenticate


@dataclass(frozen=True)
class ApiClient:
    """``request.user`` of an API request: the App a key belongs to."""

    app: App
    key: ApiKey
    is_authenticated: bool = True
    is_staff: bool = False
    is_active: bool = True

    @property
    def pk(self) -> int:
        return self.app.pk


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiKey] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("malformed Authorization header: use 'Bearer <api key>'")
        try:
            raw_key = header[1].decode()
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("malformed API key") from exc
        key = api_key_authenticate(raw_key=raw_key)
        if key is None:
            raise exceptions.AuthenticationFailed("invalid or revoked API key")
        return ApiClient(app=key.app, key=key), key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
