from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from liverecord.api.authentication import ApiClient


class IsAppClient(BasePermission):
    """Only requests authenticated by an App's API key."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, ApiClient)
