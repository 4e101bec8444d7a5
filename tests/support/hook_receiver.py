"""A tiny threaded HTTP server that records every request: a fake hook endpoint / callback receiver.

>>> with HookReceiver(status=200) as hooks:
...     url = hooks.url("/hooks/nginx-rtmp/?token=t")
...     ...                                   # something POSTs to url
...     req = hooks.wait_for(lambda r: r.form.get("call") == "publish", timeout=10)
...     req.form["name"], req.query["token"], req.json, req.headers["content-type"]

The answer is configurable: ``status`` (int), ``body`` (bytes/str/dict -> JSON), ``delay`` (seconds),
or ``handler(req) -> int | (status, body)`` deciding per request. Change them at any time
(``hooks.status = 403``). Form and query values are flattened to their last value (``form``/``query``);
``form_lists``/``query_lists`` keep every value.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

__all__ = ["HookReceiver", "RecordedRequest"]

Body = bytes | str | dict | list | None
Answer = int | tuple[int, Body]


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the query string
    raw_path: str  # as sent, query string included
    query_lists: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    received_at: float  # time.time()
    received_monotonic: float  # time.monotonic()
    client: tuple[str, int]
    form_lists: dict[str, list[str]] = field(default_factory=dict)
    json: Any = None
    status: int | None = None  # what the receiver answered (None while still answering)

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in self.query_lists.items()}

    @property
    def form(self) -> dict[str, str]:
        return {k: v[-1] for k, v in self.form_lists.items()}

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def _encode(body: Body) -> tuple[bytes, str]:
    if body is None:
        return b"", "text/plain"
    if isinstance(body, bytes):
        return body, "application/octet-stream"
    if isinstance(body, str):
        return body.encode(), "text/plain; charset=utf-8"
    return json.dumps(body).encode(), "application/json"


class HookReceiver:
    """Threaded HTTP server on 127.0.0.1 (free port unless given) recording all requests."""

    def __init__(
        self,
        status: int = 200,
        body: Body = None,
        *,
        delay: float = 0.0,
        handler: Callable[[RecordedRequest], Answer] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.status = status
        self.body = body
        self.delay = delay
        self.handler = handler
        self.host = host
        self._port = port
        self.requests: list[RecordedRequest] = []
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- server ---------------------------------------------------------------------------------
    def start(self) -> HookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection, like nginx-rtmp's netcall

            def _handle(self) -> None:
                receiver._serve(self)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((self.host, self._port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"HookReceiver:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> HookReceiver:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("HookReceiver not started")
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        """Absolute URL of path on this receiver (path may carry a query string)."""
        if not path.startswith("/"):
            path = "/" + path
        return f"http://{self.host}:{self.port}{path}"

    # -- recording ------------------------------------------------------------------------------
    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        parts = urlsplit(h.path)
        headers = {k.lower(): v for k, v in h.headers.items()}
        req = RecordedRequest(
            method=h.command,
            path=parts.path,
            raw_path=h.path,
            query_lists=parse_qs(parts.query, keep_blank_values=True),
            headers=headers,
            body=raw,
            received_at=time.time(),
            received_monotonic=time.monotonic(),
            client=(h.client_address[0], int(h.client_address[1])),
        )
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded":
            req.form_lists = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
        elif ctype == "application/json" or (raw[:1] in (b"{", b"[")):
            with contextlib.suppress(ValueError):
                req.json = json.loads(raw)

        # recorded on arrival (before the handler, the delay and the answer): wait_for() wakes up
        # while the caller (e.g. nginx) is still waiting for the answer.
        with self._cond:
            self.requests.append(req)
            self._cond.notify_all()

        status, body = self.status, self.body
        try:
            if self.handler is not None:
                answer = self.handler(req)
                if isinstance(answer, tuple):
                    status, body = answer
                else:
                    status = answer
        except Exception as exc:  # noqa: BLE001 - a broken handler answers 500, the test sees it in .requests
            status, body = 500, f"handler error: {exc!r}"
        if self.delay:
            time.sleep(self.delay)
        req.status = status

        payload, ctype_out = _encode(body)
        try:
            h.send_response(status)
            h.send_header("Content-Type", ctype_out)
            h.send_header("Content-Length", str(len(payload)))
            h.send_header("Connection", "close")
            h.end_headers()
            if h.command != "HEAD":
                h.wfile.write(payload)
        except OSError:
            pass

    def clear(self) -> None:
        with self._cond:
            self.requests.clear()

    def matching(self, predicate: Callable[[RecordedRequest], bool]) -> list[RecordedRequest]:
        with self._cond:
            return [r for r in self.requests if predicate(r)]

    def calls(self, call: str) -> list[RecordedRequest]:
        """Requests whose form field ``call`` equals call (nginx-rtmp hooks)."""
        return self.matching(lambda r: r.form.get("call") == call)

    def wait_for(self, predicate: Callable[[RecordedRequest], bool], timeout: float = 10.0) -> RecordedRequest:
        """First recorded request matching predicate, waiting up to timeout (TimeoutError)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.requests:
                    if predicate(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(r.method, r.raw_path, r.form.get("call")) for r in self.requests]
                    raise TimeoutError(f"no matching request within {timeout}s; got {seen}")
                self._cond.wait(left)

    def wait_for_call(self, call: str, timeout: float = 10.0) -> RecordedRequest:
        return self.wait_for(lambda r: r.form.get("call") == call, timeout)
