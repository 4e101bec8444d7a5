"""TC3-HMAC-SHA256, the signature of Tencent Cloud API 3.0, verified as Tencent's gateway does.

The signer (the official SDKs) builds a canonical request from the method, the path, the query string, the
signed headers and the SHA-256 of the body, and signs it with a key derived from the SecretKey, the UTC date
and the service name. See Tencent's "Signature v3" documentation and ``tencentcloud.common.sign``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from vendors.tencent.errors import TencentError

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "live"
MAX_SKEW_SECONDS = 300
_AUTH = re.compile(
    r"^TC3-HMAC-SHA256 Credential=(?P<secret_id>[^/\s,]+)/(?P<date>\d{4}-\d{2}-\d{2})"
    r"/(?P<service>[a-z0-9]+)/tc3_request,"
    r"\s*SignedHeaders=(?P<headers>[a-z0-9;-]+),\s*Signature=(?P<signature>[0-9a-f]{64})$"
)


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers: taken from the HTTP request by the view, so this module needs no Django."""

    method: str
    path: str
    query: str
    headers: Mapping[str, str]  # lower-case names
    body: bytes


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signature(
    secret_key: str, *, date: str, service: str, timestamp: str, request: SignedRequest, signed: list[str]
) -> str:
    """The hex signature of ``request`` with ``secret_key``, over the headers named in ``signed``."""
    payload = request.headers.get("x-tc-content-sha256", "")
    payload_hash = hashlib.sha256(b"UNSIGNED-PAYLOAD" if payload == "UNSIGNED-PAYLOAD" else request.body).hexdigest()
    canonical_headers = "".join(f"{name}:{request.headers.get(name, '').strip()}\n" for name in signed)
    canonical = "\n".join(
        [request.method, request.path, request.query, canonical_headers, ";".join(signed), payload_hash]
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = "\n".join([ALGORITHM, timestamp, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def verify(request: SignedRequest, *, secret_for: Callable[[str], str | None], now: datetime) -> str:
    """Check the request's signature and freshness; returns the SecretId it was signed with.

    Order as Tencent's gateway: the header's shape, the timestamp window, the SecretId, then the signature.
    """
    authorization = request.headers.get("authorization", "")
    if not authorization:
        raise TencentError(
            "AuthFailure.SignatureFailure", "The request is not signed: the Authorization header is missing."
        )
    match = _AUTH.match(authorization)
    if match is None:
        raise TencentError(
            "AuthFailure.InvalidAuthorization", "The Authorization header is not a TC3-HMAC-SHA256 signature."
        )
    raw_timestamp = request.headers.get("x-tc-timestamp", "")
    if not raw_timestamp:
        raise TencentError("MissingParameter", "The request is missing a required parameter `X-TC-Timestamp`.")
    if not raw_timestamp.isdigit() or len(raw_timestamp) > 12:
        raise TencentError("InvalidParameter", "The parameter `X-TC-Timestamp` must be a Unix time in seconds.")
    timestamp = int(raw_timestamp)
    skew = abs(now.timestamp() - timestamp)
    if skew > MAX_SKEW_SECONDS:
        raise TencentError(
            "AuthFailure.SignatureExpire",
            f"Signature expired: the timestamp {timestamp} is {int(skew)} s away from the server time "
            f"{int(now.timestamp())} (at most {MAX_SKEW_SECONDS} s).",
        )
    secret_id = match["secret_id"]
    secret_key = secret_for(secret_id)
    if secret_key is None:
        raise TencentError("AuthFailure.SecretIdNotFound", "The SecretId is not found or has been revoked.")
    signed = match["headers"].split(";")
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    expected = signature(
        secret_key,
        date=match["date"],
        service=match["service"],
        timestamp=raw_timestamp,
        request=request,
        signed=signed,
    )
    if (
        match["service"] != SERVICE
        or match["date"] != date
        or not {"content-type", "host"} <= set(signed)
        or not hmac.compare_digest(expected, match["signature"])
    ):
        raise TencentError(
            "AuthFailure.SignatureFailure",
            "The provided credentials could not be validated. Please check your signature.",
        )
    return secret_id
