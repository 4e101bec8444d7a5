"""Signed callbacks to the customer (SPEC.md, "Callbacks"): signing, verifying, one delivery attempt, backoff.

Plain Python (no Django): the Celery task on queue ``io`` builds the body, calls :func:`sign_body` and
:func:`deliver`, logs each :class:`DeliveryAttempt` as a ``CallbackDelivery`` row, and schedules the next try
after :func:`backoff_delays`.

Every body carries ``t`` (unix seconds when the signature expires: now + 600) and
``sign = md5(callback_key + str(t))`` (Tencent-compatible), and the header
``X-Liverecord-Signature: t=<t>,v1=<hex HMAC-SHA256("<t>." + raw body, callback_key)>`` signs the body
itself. A receiver verifies the header (and may check ``sign`` as Tencent receivers do)::

    import hashlib, hmac, json, time
    from flask import Flask, request

    app, KEY = Flask(__name__), b"my-callback-key"

    @app.post("/liverecord")
    def liverecord():
        fields = dict(p.split("=", 1) for p in request.headers["X-Liverecord-Signature"].split(","))
        mac = hmac.new(KEY, fields["t"].encode() + b"." + request.get_data(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, fields.get("v1", "")) or int(fields["t"]) < time.time():
            return "bad signature", 401
        event = json.loads(request.get_data())  # de-duplicate on event["event_id"]
        return "", 204

(``t`` is an expiry, so a receiver refuses when ``t`` is in the past; :func:`verify_signature` also allows for
clock skew.)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNATURE_TTL",
    "DeliveryAttempt",
    "backoff_delays",
    "deliver",
    "legacy_sign",
    "sign_body",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Liverecord-Signature"
SIGNATURE_TTL = 600  # seconds: t = now + 600
_EXCERPT_CHARS = 500


def legacy_sign(key: str, t: int) -> str:
    """Tencent-compatible ``sign``: lower-case hex MD5 of key + str(t) (MD5 because receivers expect it)."""
    return hashlib.md5(f"{key}{t}".encode(), usedforsecurity=False).hexdigest()


def _hmac_hex(key: str, t: int | str, raw_body: bytes) -> str:
    return hmac.new(key.encode(), f"{t}.".encode() + raw_body, hashlib.sha256).hexdigest()


def sign_body(body: Mapping[str, Any], *, key: str, appid: int, now: int) -> tuple[bytes, dict[str, str]]:
    """Add ``t``, ``sign`` (and ``appid`` when missing) to body; return the raw JSON bytes and the headers.

    The raw bytes are what must be sent: the HMAC covers them byte for byte.
    """
    t = int(now) + SIGNATURE_TTL
    signed = dict(body)
    signed.setdefault("appid", appid)
    signed["t"] = t
    signed["sign"] = legacy_sign(key, t)
    raw = json.dumps(signed, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: f"t={t},v1={_hmac_hex(key, t, raw)}",
    }
    return raw, headers


def verify_signature(raw_body: bytes, header: str, *, key: str, now: int, tolerance: int = 600) -> bool:
    """True if header signs raw_body with key and has not expired.

    ``t`` in the header is the expiry (sender's now + 600): it is refused once ``now > t``, and also when it
    lies more than ``SIGNATURE_TTL + tolerance`` seconds ahead (a forged far-future expiry or a badly skewed
    clock). Several ``v1=`` values are accepted (any may match), which allows rotating keys on the sender.
    """
    t_value: str | None = None
    candidates: list[str] = []
    for part in (header or "").split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            t_value = value
        elif name == "v1":
            candidates.append(value)
    if t_value is None or not t_value.isdigit() or not candidates:
        return False
    t = int(t_value)
    if now > t or t - now > SIGNATURE_TTL + tolerance:
        return False
    expected = _hmac_hex(key, t_value, raw_body)
    return any(hmac.compare_digest(expected, c) for c in candidates)


@dataclass(frozen=True)
class DeliveryAttempt:
    """One POST: what a ``CallbackDelivery`` row records."""

    status_code: int | None  # None when no HTTP answer came back
    ok: bool
    error: str  # "" when ok
    duration_ms: int
    response_excerpt: str  # the first 500 characters of the answer


def deliver(
    url: str,
    raw_body: bytes,
    headers: Mapping[str, str],
    *,
    timeout: float = 10.0,
    clock: Callable[[], float] = time.monotonic,
) -> DeliveryAttempt:
    """POST raw_body to url once. A 2xx answer within timeout is ok; never raises for network errors.

    Redirects are not followed (a 3xx is a failure: the signed body must not be replayed elsewhere).
    ``timeout`` bounds the whole exchange, not only each socket read: a receiver trickling bytes fails too.
    ``clock`` (seconds, monotonic) times the exchange; tests inject one.
    """
    started = clock()
    status: int | None = None
    excerpt = ""
    error = ""
    try:
        with requests.post(
            url,
            data=raw_body,
            headers=dict(headers),
            timeout=(min(timeout, 5.0), timeout),
            allow_redirects=False,
            stream=True,
        ) as resp:
            status = resp.status_code
            chunks: list[bytes] = []
            got = 0
            for chunk in resp.iter_content(chunk_size=1024):
                if got < 4 * _EXCERPT_CHARS:
                    chunks.append(chunk)
                    got += len(chunk)
                if clock() - started > timeout:
                    raise requests.Timeout(f"answer not complete within {timeout:g}s")
            excerpt = b"".join(chunks).decode(resp.encoding or "utf-8", "replace")[:_EXCERPT_CHARS]
    except requests.Timeout as exc:
        error = f"timeout after {timeout:g}s: {exc}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    except (OSError, ValueError) as exc:  # e.g. an invalid URL that requests does not wrap
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((clock() - started) * 1000)
    if not error and duration_ms > timeout * 1000:
        error = f"answer took {duration_ms} ms, longer than {timeout:g}s"
    if not error and status is not None and not 200 <= status < 300:
        error = f"HTTP {status}"
    return DeliveryAttempt(
        status_code=status,
        ok=not error,
        error=error[:1000],
        duration_ms=duration_ms,
        response_excerpt=excerpt,
    )


def backoff_delays(
    attempts: int = 6,
    first: float = 30,
    factor: float = 2.5,
    jitter: float = 0.2,
    cap: float = 1800,
    *,
    rng: random.Random | None = None,
) -> list[float]:
    """Seconds to wait before each retry: ``delays[i]`` is the wait after the (i+1)-th failed try.

    ``attempts`` is the number of retries (one delay each) after the first, immediate try. The defaults give
    30, 75, 187.5, 468.75, 1171.875 and 1800 (capped) seconds, 3733 s (about 62 minutes) in all; with the
    ±20 % jitter (the cap applies after it) the sum lies between 2986 s and 4120 s (50 to 69 minutes). For
    six tries in all instead of six retries, use the first five delays (1933 s, about 32 minutes).
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    if not 0 <= jitter < 1:
        raise ValueError("jitter must be in [0, 1)")
    rng = rng or random.Random()
    delays = []
    for i in range(attempts):
        base = min(cap, first * factor**i)
        delays.append(min(cap, base * (1 + rng.uniform(-jitter, jitter))))
    return delays
