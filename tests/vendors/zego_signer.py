"""Requests signed as ZEGO's server API documentation describes (ZEGO ships no Python server SDK)."""

from __future__ import annotations

import hashlib
import json
import secrets
from typing import Any
from urllib.parse import urlencode


def signed_query(app_id: str, server_secret: str, action: str, *, timestamp: int, nonce: str | None = None) -> str:
    """``?Action=...&AppId=...&SignatureNonce=...&Timestamp=...&Signature=...&SignatureVersion=2.0``."""
    nonce = nonce or secrets.token_hex(8)
    signature = hashlib.md5(f"{app_id}{nonce}{server_secret}{timestamp}".encode()).hexdigest()
    return urlencode(
        {
            "Action": action,
            "AppId": app_id,
            "SignatureNonce": nonce,
            "Timestamp": timestamp,
            "Signature": signature,
            "SignatureVersion": "2.0",
        }
    )


def post(client: Any, app_id: str, secret: str, action: str, body: Any, *, timestamp: int) -> Any:
    """POST /zego/ with the signed query and the JSON body, through a Django test client."""
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(
        f"/zego/?{signed_query(app_id, secret, action, timestamp=timestamp)}", data, content_type="application/json"
    )
