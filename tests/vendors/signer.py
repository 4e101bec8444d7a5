"""Requests signed as Tencent's "Signature v3" documentation describes, for tests that bypass the SDK."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from tencentcloud.common.sign import Sign

HOST = "testserver"
CONTENT_TYPE = "application/json"


def signed_headers(secret_id: str, secret_key: str, action: str, body: bytes, *, timestamp: int) -> dict[str, str]:
    """Django test-client headers (``HTTP_*``) of a TC3-HMAC-SHA256-signed POST / with this body."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            f"content-type:{CONTENT_TYPE}\nhost:{HOST}\n",
            "content-type;host",
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = "\n".join(
        ["TC3-HMAC-SHA256", str(timestamp), f"{date}/live/tc3_request", hashlib.sha256(canonical.encode()).hexdigest()]
    )
    signature = Sign.sign_tc3(secret_key, date, "live", to_sign)
    return {
        "HTTP_AUTHORIZATION": (
            f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/live/tc3_request, "
            f"SignedHeaders=content-type;host, Signature={signature}"
        ),
        "HTTP_X_TC_ACTION": action,
        "HTTP_X_TC_VERSION": "2018-08-01",
        "HTTP_X_TC_TIMESTAMP": str(timestamp),
        "HTTP_HOST": HOST,
    }


def post(client: Any, secret_id: str, secret_key: str, action: str, params: Any, *, timestamp: int) -> Any:
    """POST / signed; returns the test client's response."""
    body = params if isinstance(params, bytes) else json.dumps(params).encode()
    headers = signed_headers(secret_id, secret_key, action, body, timestamp=timestamp)
    return client.post("/", data=body, content_type=CONTENT_TYPE, **headers)
