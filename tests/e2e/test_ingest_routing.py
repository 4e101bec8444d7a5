"""Per-host routing on the service as processes: a push's recorder goes to ``record.<ingest host>``; with no worker
of that host, beat hands it after 5 s to a worker of another "host" (another ``LIVEREC_INGEST_HOST``) through the
shared ``record`` queue, and the session says so. Both "hosts" run on this machine and share its filesystem, so
the other worker still finds the record file; tests with network namespaces show the RTMP pull itself.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.support.media import push_generated
from tests.support.servers import RedisServer
from tests.support.stack import Stack, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@contextlib.contextmanager
def broker() -> Iterator[str]:
    if shutil.which("redis-server") is None:
        yield "filesystem://"
        return
    with RedisServer() as redis:
        yield redis.url(0)


def start_worker_of(stack: Stack, host: str) -> None:
    """A worker process whose ingest host is ``host`` (the stack's other processes keep theirs)."""
    own = stack.env["LIVEREC_INGEST_HOST"]
    stack.env["LIVEREC_INGEST_HOST"] = host
    try:
        stack.start_worker(f"worker-{host}")
    finally:
        stack.env["LIVEREC_INGEST_HOST"] = own


def worker_ready(stack: Stack, worker: str) -> bool:
    return any("ready." in p.read_text(errors="replace") for p in stack.logs.glob(f"{worker}-*.log"))


def recorded(stack: Stack, stream: str) -> dict[str, Any] | None:
    sessions = stack.all("sessions/", stream_name=stream)
    files = stack.all("files/", stream_name=stream)
    if sessions and sessions[0]["recorder_status"] == "done" and files and all(f["status"] == "stored" for f in files):
        return sessions[0]
    return None


def recorder_runs(stack: Stack, worker: str) -> dict[int, float]:
    """Session pk → seconds, of the recorder jobs that ran to their end in that worker (its log lines)."""
    log = "".join(p.read_text(errors="replace") for p in stack.logs.glob(f"{worker}-*.log"))
    runs = re.findall(r"liverecord\.record_stream\[[^]]+\] succeeded in ([0-9.]+)s: None session=(\d+)", log)
    return {int(pk): float(seconds) for seconds, pk in runs}


def test_the_ingest_hosts_worker_records_and_another_host_takes_over_when_it_is_down(tmp_path: Path) -> None:
    with (
        broker() as broker_url,
        Stack(
            tmp_path,
            database_url=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            broker_url=broker_url,
            LIVEREC_INGEST_HOST="host-a",
            LIVEREC_CONSUMER_BEAT_SECONDS="1",
        ) as stack,
    ):
        stack.setup()
        stack.start_web()
        stack.start_beat()
        ingest = stack.start_ingest()
        stack.api("POST", "domains/", json={"name": "127.0.0.1"})
        template = stack.api("POST", "record-templates/", json={"name": "t", "flv": {"record_interval": 3600}})
        stack.api("POST", "record-rules/", json={"domain": "127.0.0.1", "template": template["id"]})

        # host-a's worker is down: only host-b's runs. The job waits on record.host-a, then is taken over.
        start_worker_of(stack, "host-b")
        wait_for(lambda: worker_ready(stack, "worker-host-b"), 60, "host-b's worker", stack)
        assert push_generated(ingest.rtmp_url("away"), seconds=10).wait(timeout=40) == 0
        session = wait_for(lambda: recorded(stack, "away"), 60, "host-b to record the push", stack)
        assert session["recorder_note"].startswith("taken over: no worker of the ingest's queue took it within 5 s")
        taken = recorder_runs(stack, "worker-host-b")
        assert list(taken) == [1] and taken[1] > 3, taken

        # host-a's worker is up: it takes its ingest's pushes itself, and nobody takes them over.
        start_worker_of(stack, "host-a")
        # The web is host-a's: it is ready once a worker consumes record.host-a.
        wait_for(lambda: requests.get(f"{stack.url}/readyz", timeout=5).status_code == 200, 60, "readyz", stack)
        assert push_generated(ingest.rtmp_url("home"), seconds=8).wait(timeout=40) == 0
        session = wait_for(lambda: recorded(stack, "home"), 60, "host-a to record the push", stack)
        assert session["recorder_note"] == ""
        home = recorder_runs(stack, "worker-host-a")
        assert home[2] > 5, home
        # The job left on record.host-a for the first push found it recorded and returned at once.
        assert home.get(1, 0.0) < 2, home
        assert list(recorder_runs(stack, "worker-host-b")) == [1], "host-b took nothing else over"
