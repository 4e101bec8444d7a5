"""``/readyz`` on the service as ``make run`` runs it (separate gunicorn and Celery worker processes), on a
PostgreSQL and a Redis of the test's own, which it stops and brings back; ``/healthz`` answers throughout.

The machine's own servers are shared with the rest of the suite: this test never touches them.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.servers import PostgresServer, RedisServer, postgres_binaries
from tests.support.stack import Stack, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("redis-server") is None, reason="no redis-server on this machine"),
    pytest.mark.skipif(postgres_binaries() is None, reason="no PostgreSQL server binaries (initdb, pg_ctl)"),
]

INGEST_HOST = "ingest-a"


def probe(stack: Stack, path: str) -> tuple[int, dict[str, Any]]:
    response = requests.get(f"{stack.url}{path}", timeout=10)
    return response.status_code, response.json()


def metrics(stack: Stack) -> list[str]:
    response = requests.get(f"{stack.url}/metrics", timeout=10)
    assert response.status_code == 200
    return response.text.splitlines()


def ready(stack: Stack) -> bool:
    return probe(stack, "/readyz")[0] == 200


def failing(stack: Stack, *parts: str) -> dict[str, Any] | None:
    """The 503 body once readiness names exactly these parts as failed."""
    status, body = probe(stack, "/readyz")
    return body if status == 503 and body["failed"] == sorted(parts) else None


def test_readiness_follows_the_database_the_broker_and_the_worker(tmp_path: Path) -> None:
    with (
        PostgresServer() as postgres,
        RedisServer() as redis,
        Stack(
            tmp_path,
            database_url=postgres.url,
            broker_url=redis.url(0),
            cache_url=redis.url(1),
            LIVEREC_INGEST_HOST=INGEST_HOST,
            LIVEREC_CONSUMER_BEAT_SECONDS="1",
        ) as stack,
    ):
        stack.setup()
        stack.start_web()
        assert probe(stack, "/healthz") == (200, {"status": "ok"})
        body = wait_for(lambda: failing(stack, "workers"), 20, "readyz to miss the worker", stack)
        assert body["checks"]["workers"] == f"workers: no worker consumes record.{INGEST_HOST}"
        assert body["code"] == "not_ready" and body["errors"] == {"workers": [body["checks"]["workers"]]}

        stack.start_worker()
        wait_for(lambda: ready(stack), 60, "readyz once the worker consumes record.ingest-a", stack)
        assert probe(stack, "/readyz")[1]["checks"] == {
            "database": "ok",
            "broker": "ok",
            "storage": "ok",
            "workers": "ok",
        }

        # The broker (and the cache on the same Redis) goes away: 503 naming the broker.
        redis.stop(kill=True)
        body = wait_for(lambda: probe(stack, "/readyz")[1] if not ready(stack) else None, 20, "readyz 503", stack)
        assert "broker" in body["failed"] and body["checks"]["broker"].startswith("broker: ")
        assert "database" not in body["failed"] and "storage" not in body["failed"]
        assert probe(stack, "/healthz")[0] == 200
        redis.start()
        # Redis came back empty (no persistence): the worker's next beat says again what it consumes.
        wait_for(lambda: ready(stack), 60, "readyz once Redis is back", stack)

        # The database goes away: 503 naming the database only.
        postgres.stop("fast")
        body = wait_for(lambda: failing(stack, "database"), 20, "readyz to name the database", stack)
        assert body["checks"]["database"].startswith("database: ")
        assert probe(stack, "/healthz")[0] == 200
        postgres.start()
        wait_for(lambda: ready(stack), 30, "readyz once PostgreSQL is back", stack)

        # The worker stops (warm shutdown): it leaves, and readiness says no worker consumes this ingest's queue.
        stack.stop("worker", grace=15)
        wait_for(lambda: failing(stack, "workers"), 20, "readyz to miss the stopped worker", stack)
