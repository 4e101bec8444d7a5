"""A real Celery worker consumes the configured broker (filesystem by default, Redis in CI)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings

from workers.tasks import ping


def test_a_worker_runs_a_task_sent_through_the_broker() -> None:
    token = secrets.token_hex(8)
    marker = Path(settings.VAR_DIR) / "health" / token
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "liverecord",
            "worker",
            "-Q",
            "default",
            "-P",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test-{token}@%h",
            "-l",
            "WARNING",
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        ping.delay(token)
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.2)
        assert marker.exists(), (
            worker.stderr.read().decode() if worker.poll() is not None else "worker never ran the task"
        )
        assert marker.read_text() == token
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait()
        marker.unlink(missing_ok=True)
