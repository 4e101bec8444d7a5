"""Push signatures (SPEC.md): ``txSecret = md5(key + stream_name + txTime)``, ``txTime`` a hex unix expiry."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

from rules.models import Domain


def tx_secret(key: str, stream_name: str, tx_time: str) -> str:
    # MD5 because the wire format of the cloud services users migrate from says so.
    return hashlib.md5((key + stream_name + tx_time).encode()).hexdigest()  # noqa: S324


def sign_push(*, key: str, stream_name: str, expires_at: int) -> dict[str, str]:
    """The query arguments that sign a push of ``stream_name`` until ``expires_at`` (unix seconds)."""
    tx_time = f"{expires_at:X}"
    return {"txSecret": tx_secret(key, stream_name, tx_time), "txTime": tx_time}


def push_signature_error(
    *, domain: Domain, stream_name: str, params: Mapping[str, str], now: float | None = None
) -> str | None:
    """Why a push must be refused, or None when it is allowed (auth disabled, or a valid, unexpired signature)."""
    if not domain.push_auth_enabled:
        return None
    given, tx_time = params.get("txSecret", ""), params.get("txTime", "")
    if not given or not tx_time:
        return "missing txSecret or txTime"
    try:
        expires_at = int(tx_time, 16)
    except ValueError:
        return "txTime is not a hexadecimal unix time"
    if expires_at < (time.time() if now is None else now):
        return "push URL expired (txTime is in the past)"
    for key in (domain.push_auth_key, domain.push_auth_backup_key):
        if key and hmac.compare_digest(tx_secret(key, stream_name, tx_time), given):
            return None
    return "wrong txSecret"
