"""Fault fixtures: Celery workers as real processes (to kill -9) sharing the test database and the broker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.e2e.conftest import HOOK_TOKEN, beat, e2e_settings, ingest, recorder_worker  # noqa: F401 - shared fixtures


def test_database_url() -> str:
    """The URL of the database this test run uses, for processes started by the test."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgres://{auth}{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}/{db['NAME']}"


@pytest.fixture
def worker_processes(
    e2e_settings: Path,  # noqa: F811 - the e2e fixture, imported above
    transactional_db: None,
) -> Iterator[Callable[..., subprocess.Popen[bytes]]]:
    """Start ``celery worker`` processes (all queues, thread pool) on the test database; all stopped at the end."""
    started: list[subprocess.Popen[bytes]] = []
    env: dict[str, str] = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "LIVEREC_SPOOL_DIR": str(settings.LIVEREC_SPOOL_DIR),
        "LIVEREC_MEDIA_DIR": str(settings.LIVEREC_MEDIA_DIR),
        "LIVEREC_MIN_RECORD_INTERVAL": str(settings.LIVEREC_MIN_RECORD_INTERVAL),
        "LIVEREC_HEARTBEAT_SECONDS": str(settings.LIVEREC_HEARTBEAT_SECONDS),
        "LIVEREC_RECORDER_STALE_SECONDS": "4",
        "LIVEREC_HOOK_TOKEN": HOOK_TOKEN,
    }

    def start(**extra_env: str) -> subprocess.Popen[bytes]:
        log = open(Path(settings.LIVEREC_SPOOL_DIR).parent / f"worker-{len(started)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "liverecord",
                "worker",
                "-Q",
                "record,io,default",
                "-P",
                "threads",
                "-c",
                "8",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-l",
                "INFO",
                "-n",
                f"fault{len(started)}-{os.getpid()}@%h",
            ],
            cwd=settings.BASE_DIR,
            env={**env, **extra_env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def kill_hard(process: subprocess.Popen[Any]) -> None:
    """kill -9 the worker and everything it started."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
