"""Whole-service faults, on the service as ``make run`` runs it (separate web, worker and beat processes, a real
broker and database of their own): the broker restarted, the database restarted, and everything stopped and
started again in the middle of a push. The test sees the service only through its REST API and its callbacks.

On the embedded default the stack runs on SQLite and the filesystem broker; in CI's PostgreSQL + Redis run it
gets a PostgreSQL cluster and a Redis of its own (the machine's are shared with the rest of the suite), which it
stops and starts. Redis runs without persistence, as on this machine: a restart forgets every queued message.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.hook_receiver import HookReceiver
from tests.support.media import push_generated
from tests.support.s3 import ACCESS_KEY, SECRET_KEY, start_s3_server
from tests.support.servers import PostgresServer, RedisServer, postgres_binaries
from tests.support.stack import Stack, wait_for
from workers.callbacks import SIGNATURE_HEADER, verify_signature

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith("postgres")
CALLBACK_KEY = "restart-callback-key"
FRAME = 1 / 25


@dataclass
class Backends:
    database_url: str
    broker_url: str
    cache_url: str
    postgres: PostgresServer | None
    redis: RedisServer | None


@contextlib.contextmanager
def backends(root: Path, *, postgres: bool = ON_POSTGRES, redis: bool = ON_POSTGRES) -> Iterator[Backends]:
    """SQLite and the filesystem broker (the embedded default), or a PostgreSQL and a Redis of the test's own."""
    with contextlib.ExitStack() as servers:
        pg = servers.enter_context(PostgresServer()) if postgres else None
        rd = servers.enter_context(RedisServer()) if redis else None
        yield Backends(
            database_url=pg.url if pg else f"sqlite:///{root / 'db.sqlite3'}",
            broker_url=rd.url(0) if rd else "filesystem://",
            cache_url=rd.url(1) if rd else "",
            postgres=pg,
            redis=rd,
        )


@contextlib.contextmanager
def running_stack(root: Path, found: Backends, **env: str) -> Iterator[tuple[Stack, HookReceiver]]:
    """The stack up, ingest included, recording every push into FLV and MP4 (8 s files) and HLS, callbacks on."""
    with (
        HookReceiver(status=200) as receiver,
        Stack(
            root, database_url=found.database_url, broker_url=found.broker_url, cache_url=found.cache_url, **env
        ) as stack,
    ):
        stack.setup()
        stack.start()
        stack.start_ingest()
        record_everything(stack, receiver.url("/cb"))
        yield stack, receiver


def record_everything(stack: Stack, callback_url: str, storage: int | None = None) -> None:
    stack.api(
        "POST",
        "domains/",
        json={"name": "127.0.0.1", "callback_url": callback_url, "callback_key": CALLBACK_KEY, "storage": storage},
    )
    template = stack.api(
        "POST",
        "record-templates/",
        json={"name": "t", "flv": {"record_interval": 8}, "mp4": {"record_interval": 8}, "hls": {}},
    )
    stack.api("POST", "record-rules/", json={"domain": "127.0.0.1", "template": template["id"]})


def stored_file_exists(stack: Stack) -> bool:
    return any(f["status"] == "stored" for f in stack.all("files/"))


def finished_files(stack: Stack, stream: str) -> list[dict[str, Any]]:
    """Once the push's recorder is done and no file is still uploading: every file of the stream."""

    def done() -> list[dict[str, Any]] | None:
        sessions = stack.all("sessions/", stream_name=stream)
        if not sessions or any(s["recorder_status"] not in ("done", "failed") for s in sessions):
            return None
        files = stack.all("files/", stream_name=stream)
        return files if files and all(f["status"] not in ("uploading", "backup") for f in files) else None

    return wait_for(done, 120, f"the recording of {stream} to finish", stack)


def seconds(files: list[dict[str, Any]], fmt: str) -> float:
    return sum(f["duration"] for f in files if f["format"] == fmt)


def assert_announced_once(stack: Stack, files: list[dict[str, Any]], *receivers: HookReceiver) -> None:
    """Every stored file gets exactly one signed 100 (a restart never makes the service announce it twice)."""
    stored = {f["id"] for f in files if f["status"] == "stored"}

    def announcements() -> list[Any]:
        return [r for rx in receivers for r in rx.requests if (r.json or {}).get("event_type") == 100]

    wait_for(lambda: {r.json["file_id"] for r in announcements()} >= stored, 120, "a 100 for every file", stack)
    time.sleep(2)  # a second 100, if one were coming, would come from the same retry sweep
    announced = Counter(r.json["file_id"] for r in announcements())
    assert set(announced) == stored
    assert max(announced.values()) == 1, announced.most_common(3)
    for request in announcements():
        signature = request.headers[SIGNATURE_HEADER.lower()]
        assert verify_signature(request.body, signature, key=CALLBACK_KEY, now=int(time.time()))


def assert_contiguous(files: list[dict[str, Any]], fmt: str, *, max_gap: float) -> list[float]:
    """Files of one format never overlap; returns the gaps between them (each at most ``max_gap``)."""
    series = sorted((f for f in files if f["format"] == fmt), key=lambda f: f["start_time"])
    gaps = []
    for earlier, later in itertools.pairwise(series):
        gap = (
            datetime.fromisoformat(later["start_time"]) - datetime.fromisoformat(earlier["end_time"])
        ).total_seconds()
        assert gap >= -FRAME, f"{fmt} files overlap by {-gap:.3f} s"
        gaps.append(round(gap, 3))
    assert all(g <= max_gap for g in gaps), gaps
    return gaps


def assert_spool_empty(stack: Stack) -> None:
    left = [p for p in stack.spool.rglob("*") if p.is_file()] if stack.spool.exists() else []
    assert not left, f"spool files left behind: {left[:5]}"


def restart_broker(found: Backends) -> None:
    assert found.redis is not None
    found.redis.stop(kill=True)
    time.sleep(5)
    found.redis.start()


def restart_database(found: Backends) -> None:
    assert found.postgres is not None
    found.postgres.stop("fast")
    time.sleep(10)  # longer than one 8 s file: a file closes while the database is away
    found.postgres.start()


@pytest.mark.parametrize(
    ("server", "restart"),
    [
        pytest.param(
            "redis",
            restart_broker,
            id="broker",
            marks=pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server"),
        ),
        pytest.param(
            "postgres",
            restart_database,
            id="database",
            marks=pytest.mark.skipif(postgres_binaries() is None, reason="needs PostgreSQL server binaries"),
        ),
    ],
)
def test_a_server_restarted_mid_push_loses_nothing(tmp_path: Path, server: str, restart: Any) -> None:
    """The broker carries jobs, not media; the database gets rows that can wait: the recorder goes on through
    either one's restart, and what was queued or written meanwhile is found again."""
    pushed = 30.0
    with backends(tmp_path, **{server: True}) as found, running_stack(tmp_path, found) as (stack, receiver):
        publisher = push_generated(stack.nginx.rtmp_url(server), seconds=pushed)  # type: ignore[union-attr]
        try:
            wait_for(lambda: stored_file_exists(stack), 30, "a first stored file", stack)
            restart(found)
            assert publisher.wait(timeout=60) == 0
        finally:
            publisher.kill()
        files = finished_files(stack, server)
        assert all(f["status"] == "stored" for f in files), [(f["format"], f["status"], f["error"]) for f in files]
        assert seconds(files, "flv") == pytest.approx(pushed, abs=2 * FRAME)
        assert seconds(files, "mp4") == pytest.approx(pushed, abs=2 * FRAME)
        assert_contiguous(files, "flv", max_gap=FRAME)
        assert_announced_once(stack, files, receiver)
        assert_spool_empty(stack)


def test_everything_stopped_and_started_mid_push_resumes_the_recording(tmp_path: Path) -> None:
    pushed = 45.0
    with backends(tmp_path) as found, running_stack(tmp_path, found) as (stack, receiver):
        publisher = push_generated(stack.nginx.rtmp_url("restart"), seconds=pushed)  # type: ignore[union-attr]
        try:
            wait_for(lambda: stored_file_exists(stack), 30, "a first stored file", stack)
            stopped_at = time.monotonic()
            stack.stop_all()  # web, workers and beat: SIGTERM, SIGKILL after 5 s, like honcho
            if found.redis is not None:
                found.redis.stop()
                found.redis.start()
            stack.start()
            outage = time.monotonic() - stopped_at
            assert publisher.wait(timeout=90) == 0
        finally:
            publisher.kill()
        files = finished_files(stack, "restart")
        assert all(f["status"] == "stored" for f in files), [(f["format"], f["status"], f["error"]) for f in files]
        recorded = seconds(files, "flv")
        gaps = assert_contiguous(files, "flv", max_gap=outage + 10)
        print(f"restart: outage {outage:.1f} s; recorded {recorded:.2f} of {pushed} s; gaps between files {gaps}")
        # What the push sent while nothing ran, and the watchdog's few seconds to notice, are all that is lost.
        assert recorded >= pushed - outage - 10
        assert {f["format"] for f in files} == {"flv", "mp4", "hls"}
        assert_announced_once(stack, files, receiver)
        assert_spool_empty(stack)
        sessions = stack.all("sessions/", stream_name="restart")
        tasks = stack.all("record-tasks/", stream_name="restart")
        assert all(s["status"] == "ended" for s in sessions), sessions
        assert tasks and all(t["status"] == "finished" for t in tasks), [(t["status"], t.get("error")) for t in tasks]


def test_storage_and_callback_receiver_down_mid_push_lose_nothing(tmp_path: Path) -> None:
    """S3 (moto on loopback) and the callback receiver both stop for 15 s in the middle of a push: files made
    meanwhile go to the local backup (101, sent once the receiver is back) and reach S3 when it is back (100)."""
    pushed = 36.0
    s3 = start_s3_server()
    s3.client().create_bucket(Bucket="faults")  # type: ignore[attr-defined]
    receiver = HookReceiver(status=200).start()
    later = HookReceiver(status=200, port=receiver.port)
    fast_retries = {
        "LIVEREC_UPLOAD_RETRY_DELAYS": "1,1",
        "LIVEREC_BACKUP_RETRY_SECONDS": "5",
        "LIVEREC_CALLBACK_RETRY_DELAYS": "3,3,3,3,3,3,3,3,3",
        "LIVEREC_CALLBACK_ATTEMPTS": "10",
    }
    try:
        with (
            backends(tmp_path) as found,
            Stack(
                tmp_path,
                database_url=found.database_url,
                broker_url=found.broker_url,
                cache_url=found.cache_url,
                **fast_retries,
            ) as stack,
        ):
            stack.setup()
            stack.start()
            stack.start_ingest()
            target = stack.api(
                "POST",
                "storage-targets/",
                json={
                    "name": "s3",
                    "provider": "s3",
                    "bucket": "faults",
                    "region": "us-east-1",
                    "endpoint_url": s3.endpoint_url,
                    "path_style": True,
                    "access_key_id": ACCESS_KEY,
                    "secret_access_key": SECRET_KEY,
                    "prefix": "live",
                },
            )
            record_everything(stack, receiver.url("/cb"), storage=target["id"])
            publisher = push_generated(stack.nginx.rtmp_url("outage"), seconds=pushed)  # type: ignore[union-attr]
            try:
                wait_for(lambda: stored_file_exists(stack), 30, "a first stored file", stack)
                s3.stop()
                receiver.stop()
                wait_for(
                    lambda: any(f["status"] == "backup" for f in stack.all("files/")), 30, "a file in backup", stack
                )
                time.sleep(5)
                s3 = start_s3_server(s3.port)  # moto starts empty: the bucket again, without its objects
                s3.client().create_bucket(Bucket="faults")  # type: ignore[attr-defined]
                later.start()
                back_at = time.time()
                assert publisher.wait(timeout=60) == 0
            finally:
                publisher.kill()
            files = finished_files(stack, "outage")
            assert all(f["status"] == "stored" for f in files), [(f["format"], f["status"], f["error"]) for f in files]
            assert seconds(files, "flv") == pytest.approx(pushed, abs=2 * FRAME)
            assert_contiguous(files, "flv", max_gap=FRAME)
            # What was stored after S3 came back is in the bucket, whole (moto restarted empty: not what came before).
            bucket = s3.client()
            after = [f for f in files if datetime.fromisoformat(f["stored_at"]).timestamp() > back_at]
            assert after, "files were held in backup and stored once S3 was back"
            for record in after:
                if record["format"] != "hls":
                    head = bucket.head_object(Bucket="faults", Key=record["object_key"])  # type: ignore[attr-defined]
                    assert head["ContentLength"] == record["size"]
            backup = [r for r in later.requests if (r.json or {}).get("event_type") == 101]
            assert backup, "the files that went to backup were announced with 101 once the receiver was back"
            assert_announced_once(stack, files, receiver, later)
            assert_spool_empty(stack)
    finally:
        receiver.stop()
        later.stop()
        s3.server.stop()
