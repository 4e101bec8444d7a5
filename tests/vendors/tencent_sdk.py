"""Tencent's own SDK pointed at the service under test."""

from __future__ import annotations

from typing import Any

from tencentcloud.common import credential
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.live.v20180801 import live_client, models


def live_client_for(live_server: Any, secret_id: str, secret_key: str) -> live_client.LiveClient:
    """A ``LiveClient`` exactly as a user configures it for a self-hosted endpoint."""
    endpoint = live_server.url.split("://", 1)[1]
    profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=endpoint))
    return live_client.LiveClient(credential.Credential(secret_id, secret_key), "ap-guangzhou", profile)


def request(name: str, **fields: Any) -> Any:
    """An SDK request model filled from keyword arguments (nested structs as dicts)."""
    req = getattr(models, f"{name}Request")()
    req._deserialize(fields)
    return req
