"""A loopback COS endpoint for one bucket: checks COS request signatures, stores through moto.

moto's server cannot take COS requests as they are: its dispatcher parses the ``Authorization`` header as
AWS SigV4 and answers 500 to COS's ``q-sign-algorithm=sha1&q-ak=...`` header. This gateway sits in front:

1. it verifies every request's COS signature (header or presigned query string) with an implementation of
   Tencent's documented algorithm written here independently of the SDK (HMAC-SHA1 over method, path,
   sorted url-encoded parameters and headers, within the ``q-sign-time`` window) and answers 403 with a COS
   error body when it does not match;
2. it forwards the request to moto path-style (``/<bucket>/<key>``) with a placeholder SigV4 header so that
   moto routes it to S3 (moto does not check signatures), and relays moto's answer.

What this proves: the backend's requests are signed with the configured key in the COS scheme (at least as
we read Tencent's documentation), and their S3-shaped semantics (PUT with Content-MD5, HEAD, DELETE, the
multipart calls, presigned GET) round-trip through an S3 implementation. What it cannot prove: behaviour
specific to the real COS service (its exact error codes, ``x-cos-hash-crc64ecma`` header, redirects...).

One quirk taken as it is: the SDK signs the host name without the port, so the ``host`` header is compared
without its port here (real COS endpoints use default ports, where the two agree).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

__all__ = ["CosGateway", "GatewayRequest", "cos_signature_ok"]

_PLACEHOLDER_SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, "
    "SignedHeaders=host, Signature=0000000000000000000000000000000000000000000000000000000000000000"
)
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "server", "date"}


@dataclass
class GatewayRequest:
    method: str
    path: str
    params: dict[str, str]
    signed: bool
    reason: str
    headers: dict[str, str] = field(default_factory=dict)
    status: int | None = None


def _enc(value: str) -> str:
    return quote(value, safe="-_.~")


def cos_signature_ok(
    *,
    method: str,
    path: str,
    params: list[tuple[str, str]],
    headers: dict[str, str],
    secret_id: str,
    secret_key: str,
    now: float | None = None,
) -> tuple[bool, str]:
    """Check a COS request signature; path is the decoded path, headers have lower-case names."""
    now = time.time() if now is None else now
    auth_fields: dict[str, str] = {}
    if "authorization" in headers and headers["authorization"].startswith("q-sign-algorithm="):
        auth_fields = dict(parse_qsl(headers["authorization"], keep_blank_values=True))
    else:
        auth_fields = {k: v for k, v in params if k.startswith("q-")}
    if auth_fields.get("q-sign-algorithm") != "sha1":
        return False, "no COS signature"
    if auth_fields.get("q-ak") != secret_id:
        return False, f"wrong SecretId {auth_fields.get('q-ak')!r}"
    sign_time = auth_fields.get("q-sign-time", "")
    key_time = auth_fields.get("q-key-time", "")
    try:
        start, end = (int(x) for x in sign_time.split(";"))
    except ValueError:
        return False, f"bad q-sign-time {sign_time!r}"
    if not start <= now <= end:
        return False, "signature expired or not yet valid"

    plain_params = {k.lower(): v for k, v in params if not k.startswith("q-")}
    param_names = [n for n in auth_fields.get("q-url-param-list", "").split(";") if n]
    header_names = [n for n in auth_fields.get("q-header-list", "").split(";") if n]
    signed_params = []
    for name in param_names:
        if unquote(name) not in plain_params:
            return False, f"signed parameter {name!r} missing"
        signed_params.append(f"{name}={_enc(plain_params[unquote(name)])}")
    signed_headers = []
    for name in header_names:
        value = headers.get(unquote(name))
        if value is None:
            return False, f"signed header {name!r} missing"
        if name == "host":
            value = value.rsplit(":", 1)[0] if value.count(":") == 1 else value
        signed_headers.append(f"{name}={_enc(value)}")
    http_string = f"{method.lower()}\n{path}\n{'&'.join(signed_params)}\n{'&'.join(signed_headers)}\n"
    string_to_sign = f"sha1\n{sign_time}\n{hashlib.sha1(http_string.encode()).hexdigest()}\n"
    sign_key = hmac.new(secret_key.encode(), key_time.encode(), hashlib.sha1).hexdigest()
    expected = hmac.new(sign_key.encode(), string_to_sign.encode(), hashlib.sha1).hexdigest()
    if not hmac.compare_digest(expected, auth_fields.get("q-signature", "")):
        return False, "signature mismatch"
    return True, "ok"


class CosGateway:
    """Threaded HTTP server on 127.0.0.1 serving one bucket, backed by an S3 server at upstream_port."""

    def __init__(self, *, bucket: str, upstream_port: int, secret_id: str, secret_key: str) -> None:
        self.bucket = bucket
        self.upstream_port = upstream_port
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.requests: list[GatewayRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CosGateway:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                gateway._serve(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        parts = urlsplit(h.path)
        params = parse_qsl(parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in h.headers.items()}
        path = unquote(parts.path)
        ok, reason = cos_signature_ok(
            method=h.command,
            path=path,
            params=params,
            headers=headers,
            secret_id=self.secret_id,
            secret_key=self.secret_key,
        )
        record = GatewayRequest(
            method=h.command,
            path=path,
            params={k: v for k, v in params if not k.startswith("q-")},
            signed=ok,
            reason=reason,
            headers=headers,
        )
        with self._lock:
            self.requests.append(record)
        if not ok:
            payload = f"<Error><Code>SignatureDoesNotMatch</Code><Message>{reason}</Message></Error>".encode()
            record.status = 403
            self._answer(h, 403, [("Content-Type", "application/xml")], payload)
            return

        forward_headers = {
            k: v for k, v in h.headers.items() if k.lower() not in ("host", "authorization", "connection")
        }
        forward_headers["Authorization"] = _PLACEHOLDER_SIGV4
        query = urlencode([(k, v) for k, v in params if not k.startswith("q-")])
        target = f"/{self.bucket}{parts.path}" + (f"?{query}" if query else "")
        conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
        try:
            conn.request(h.command, target, body=body or None, headers=forward_headers)
            resp = conn.getresponse()
            data = resp.read()
            record.status = resp.status
            relay = [(k, v) for k, v in resp.getheaders() if k.lower() not in _HOP_BY_HOP | {"content-length"}]
            self._answer(h, resp.status, relay, data, head=h.command == "HEAD", length=resp.getheader("Content-Length"))
        finally:
            conn.close()

    @staticmethod
    def _answer(
        h: BaseHTTPRequestHandler,
        status: int,
        headers: list[tuple[str, str]],
        payload: bytes,
        *,
        head: bool = False,
        length: str | None = None,
    ) -> None:
        h.send_response(status)
        for k, v in headers:
            h.send_header(k, v)
        h.send_header("Content-Length", length if head and length is not None else str(len(payload)))
        h.end_headers()
        if not head:
            h.wfile.write(payload)

    def matching(self, method: str, *param_names: str) -> list[GatewayRequest]:
        with self._lock:
            return [r for r in self.requests if r.method == method and all(p in r.params for p in param_names)]
