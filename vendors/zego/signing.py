"""ZEGO's server API signature: ``md5(AppId + SignatureNonce + ServerSecret + Timestamp)`` in the query string.

Checked in the order of ZEGO's gateway codes: the common parameters' presence and shape, the timestamp window
(±10 minutes), the AppId's ServerSecret, then the signature. No Django here: the view hands the query over.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from datetime import datetime

from vendors.zego import errors
from vendors.zego.errors import ZegoError

MAX_SKEW_SECONDS = 600
SIGNATURE_VERSION = "2.0"
UINT32_MAX = 2**32 - 1


def signature(app_id: str, nonce: str, server_secret: str, timestamp: str) -> str:
    return hashlib.md5(f"{app_id}{nonce}{server_secret}{timestamp}".encode()).hexdigest()  # noqa: S324 (ZEGO's)


def verify(query: Mapping[str, str], *, secret_for: Callable[[str], str | None], now: datetime) -> str:
    """Check the signed query; returns the AppId."""
    app_id = query.get("AppId", "")
    if not app_id.isdigit() or len(app_id) > 10 or int(app_id) > UINT32_MAX:
        raise ZegoError(errors.APP_ID_FORMAT, "AppId must be an unsigned 32-bit integer")
    raw_timestamp = query.get("Timestamp", "")
    if not raw_timestamp:
        raise ZegoError(errors.TIMESTAMP_MISSING, "Timestamp is required")
    if not raw_timestamp.isdigit() or len(raw_timestamp) > 12:
        raise ZegoError(errors.TIMESTAMP_FORMAT, "Timestamp must be a Unix time in seconds")
    nonce = query.get("SignatureNonce", "")
    if not nonce:
        raise ZegoError(errors.NONCE_MISSING, "SignatureNonce is required")
    given = query.get("Signature", "")
    if not given:
        raise ZegoError(errors.SIGNATURE_MISSING, "Signature is required")
    version = query.get("SignatureVersion", "")
    if not version:
        raise ZegoError(errors.SIGNATURE_VERSION_MISSING, "SignatureVersion is required")
    if version != SIGNATURE_VERSION:
        raise ZegoError(errors.SIGNATURE_VERSION_UNSUPPORTED, "SignatureVersion must be 2.0")
    skew = abs(now.timestamp() - int(raw_timestamp))
    if skew > MAX_SKEW_SECONDS:
        raise ZegoError(
            errors.SIGNATURE_EXPIRED,
            f"signature expired: Timestamp is {int(skew)} s away from the server time (at most {MAX_SKEW_SECONDS} s)",
        )
    secret = secret_for(app_id)
    if secret is None:
        raise ZegoError(errors.SERVER_SECRET_NOT_FOUND, "no ServerSecret for this AppId (unknown or revoked)")
    if not hmac.compare_digest(signature(app_id, nonce, secret, raw_timestamp), given.lower()):
        raise ZegoError(errors.SIGNATURE_INVALID, "invalid signature")
    return app_id
