"""How services enqueue Celery work: by task name, after the transaction commits, to the queue settings route it to.

Services never import ``workers.tasks`` (which imports the services): they name the task here, and Celery's
``send_task`` routes it by ``CELERY_TASK_ROUTES`` (liverecord/settings.py). ``tests/workers/test_tasks.py``
checks that every name below is a registered task with a route.
"""

from __future__ import annotations

from django.db import transaction

from liverecord.celery import app

RECORD_STREAM = "liverecord.record_stream"
UPLOAD_FILE = "liverecord.upload_file"
DELIVER_CALLBACK = "liverecord.deliver_callback"
CLOSE_HLS_PLAYLIST = "liverecord.close_hls_playlist"
SYNC_HLS = "liverecord.sync_hls"

#: Every task a service or the recorder glue enqueues.
DISPATCHED = (RECORD_STREAM, UPLOAD_FILE, DELIVER_CALLBACK, CLOSE_HLS_PLAYLIST, SYNC_HLS)


def send_now(name: str, *args: object, countdown: float | None = None) -> None:
    """Send a task at once (no transaction to wait for: the recorder's threads, the beat watchdog)."""
    app.send_task(name, args=args, countdown=countdown)


def send_after_commit(name: str, *args: object, countdown: float | None = None) -> None:
    """Send a task once the current transaction commits (at once outside one): the worker then sees the rows."""
    transaction.on_commit(lambda: send_now(name, *args, countdown=countdown))
