"""``/healthz`` (the process serves) and ``/readyz`` (this host can record a push now), SPEC.md "Operations".

Readiness asks the database, the broker, the default storage (the local media folder) and whether a worker
consumes this ingest host's ``record.<host>`` queue; each answer is bounded by a short timeout, so a probe
called every few seconds costs a few milliseconds when all is well and never hangs when a server is down.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import Error as DatabaseError
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from liverecord.ops.queues import BROKER_ERRORS, broker_ping, queue_consumers

__all__ = ["healthz", "readiness_checks", "readyz"]


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        if not connection.in_atomic_block:
            connection.close()  # a server that restarted left this connection broken: the next probe reconnects
        return f"database: {_reason(exc)}"
    return ""


def _broker() -> str:
    try:
        broker_ping()
    except BROKER_ERRORS as exc:
        return f"broker: {_reason(exc)}"
    return ""


def _storage() -> str:
    folder = Path(settings.LIVEREC_MEDIA_DIR)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"storage: {folder}: {exc.strerror or exc}"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"storage: {folder} is not writable"
    return ""


def _workers() -> str:
    queue = f"record.{settings.LIVEREC_INGEST_HOST}"
    try:
        consumers = queue_consumers(queue)
    except Exception as exc:  # noqa: BLE001 - a cache backend raises its own errors (Redis, SQLite): all mean down
        return f"workers: cannot read who consumes {queue} from the cache: {_reason(exc)}"
    return "" if consumers else f"workers: no worker consumes {queue}"


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


#: name → check; a check returns "" when its part answers, else what failed.
CHECKS: dict[str, Callable[[], str]] = {
    "database": _database,
    "broker": _broker,
    "storage": _storage,
    "workers": _workers,
}


def readiness_checks() -> dict[str, str]:
    """Every check's answer: ``"ok"`` or what failed."""
    return {name: (check() or "ok") for name, check in CHECKS.items()}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 while the process serves: it touches nothing else."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 when every part answers; else 503 naming what failed (``failed``, and each check's answer)."""
    checks = readiness_checks()
    failed = sorted(name for name, answer in checks.items() if answer != "ok")
    if not failed:
        return JsonResponse({"status": "ready", "failed": [], "checks": checks})
    body = {
        "code": "not_ready",
        "message": "; ".join(checks[name] for name in failed),
        "errors": {name: [checks[name]] for name in failed},
        "status": "not ready",
        "failed": failed,
        "checks": checks,
    }
    return JsonResponse(body, status=503)
