"""End-to-end fixtures: the web app (live server), a real Celery worker on the configured broker, nginx-rtmp."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_prerun
from django.conf import settings
from django.test import override_settings

from deploy.nginx_rtmp import NginxRtmp
from liverecord.celery import app as celery_app
from recordings.choices import FileStatus
from recordings.models import RecordFile
from tests.support.ports import free_port

HOOK_TOKEN = "e2e-hook-token"


@pytest.fixture
def e2e_settings(tmp_path: Path) -> Iterator[Path]:
    with override_settings(
        LIVEREC_HOOK_TOKEN=HOOK_TOKEN,
        LIVEREC_MIN_RECORD_INTERVAL=5,
        LIVEREC_MEDIA_DIR=tmp_path / "media",
        LIVEREC_SPOOL_DIR=tmp_path / "spool",
        LIVEREC_HEARTBEAT_SECONDS=1,
        LIVEREC_HLS_SYNC_SECONDS=2,
    ):
        yield tmp_path


@pytest.fixture
def recorder_worker(e2e_settings: Path, transactional_db: None) -> Iterator[Any]:
    """A real Celery worker (thread pool) consuming every queue of the configured broker, in this process."""
    celery_app.conf.task_queues  # noqa: B018 - make sure queues are declared before the worker starts
    with start_worker(
        celery_app, pool="threads", concurrency=8, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30
    ) as worker:
        yield worker


@pytest.fixture
def ingest(live_server: Any, recorder_worker: Any, tmp_path: Path) -> Iterator[NginxRtmp]:
    """nginx-rtmp as ``make run`` starts it: it records every push too, and the recorder follows that file."""
    port = free_port()
    hook = f"{live_server.url}/hooks/nginx-rtmp/?token={HOOK_TOKEN}&ingest=127.0.0.1:{port}"
    with NginxRtmp(tmp_path / "nginx", port, hook, record_dir=tmp_path / "nginx" / "record") as nginx:
        yield nginx


@pytest.fixture
def pull_ingest(live_server: Any, recorder_worker: Any, tmp_path: Path) -> Iterator[NginxRtmp]:
    """nginx-rtmp on "another host": no record folder the recorder can see, so it pulls over RTMP."""
    port = free_port()
    hook = f"{live_server.url}/hooks/nginx-rtmp/?token={HOOK_TOKEN}&ingest=127.0.0.1:{port}"
    with NginxRtmp(tmp_path / "nginx", port, hook) as nginx:
        yield nginx


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def settled_files(timeout: float = 20, *, count: int | None = None, **filters: Any) -> list[Any]:
    """The files matching filters once none of them is still uploading (their ``local_path`` is then final).

    Uploads run on the worker after the recorder is done: reading a file while it is moved from the staging
    folder to storage races with the upload.
    """

    def settled() -> list[Any] | None:
        rows = list(RecordFile.objects.filter(**filters).order_by("format", "start_time"))
        if not rows or any(f.status == FileStatus.UPLOADING for f in rows):
            return None
        return rows if count is None or len(rows) == count else None

    return wait_until(settled, timeout, f"files {filters or ''} to be stored")


@pytest.fixture
def beat(e2e_settings: Path, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``celery beat`` sending the project's schedule to the same broker (file scheduler: no database)."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "liverecord",
            "beat",
            "-l",
            "WARNING",
            "-S",
            "celery.beat:PersistentScheduler",
            "-s",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.fixture
def recorder_runs() -> Iterator[list[int]]:
    """Session ids of every recorder job the worker ran (Celery's task_prerun signal)."""
    runs: list[int] = []

    def seen(sender: Any = None, args: Any = None, **kwargs: Any) -> None:
        if sender is not None and sender.name == "liverecord.record_stream":
            runs.append(int(args[0]))

    task_prerun.connect(seen, weak=False)
    try:
        yield runs
    finally:
        task_prerun.disconnect(seen)
