"""How services enqueue Celery work: by task name, after the transaction commits, to the queue settings route it to.

Services never import ``workers.tasks`` (which imports the services): they name the task here, and Celery's
``send_task`` routes it by ``CELERY_TASK_ROUTES`` (liverecord/settings.py). ``tests/workers/test_tasks.py``
checks that every name below is a registered task with a route.

One exception to the routes: a new push's recorder (``send_after_commit(RECORD_STREAM, ...)``, from the hook) goes
to ``record.<LIVEREC_INGEST_HOST>``, the queue of the ingest that received it, whose worker follows that ingest's
own record file from the first packet (SPEC.md "Operations"). When no worker takes it within
``TAKEOVER_SECONDS``, beat sends it to the shared ``record`` queue (``recordings.services.takeover``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from liverecord.celery import app

RECORD_STREAM = "liverecord.record_stream"
UPLOAD_FILE = "liverecord.upload_file"
DELIVER_CALLBACK = "liverecord.deliver_callback"
CLOSE_HLS_PLAYLIST = "liverecord.close_hls_playlist"
SYNC_HLS = "liverecord.sync_hls"

#: Every task a service or the recorder glue enqueues.
DISPATCHED = (RECORD_STREAM, UPLOAD_FILE, DELIVER_CALLBACK, CLOSE_HLS_PLAYLIST, SYNC_HLS)


#: Tasks that ``send_after_commit`` sends to this host's ingest queue rather than their route.
INGEST_ROUTED = frozenset({RECORD_STREAM})
#: A recorder job no worker of its ingest's queue took this long is taken over from the shared ``record`` queue.
TAKEOVER_SECONDS = 5.0


def ingest_queue(host: str | None = None) -> str:
    """``record.<host>``: the recorders of the pushes that ingest received (this host's when not named)."""
    return f"record.{host or settings.LIVEREC_INGEST_HOST}"


def send_now(name: str, *args: object, countdown: float | None = None, queue: str | None = None) -> None:
    """Send a task at once (no transaction to wait for: the recorder's threads, the beat watchdog); ``queue``
    overrides its route."""
    if queue is None:
        app.send_task(name, args=args, countdown=countdown)
    else:
        app.send_task(name, args=args, countdown=countdown, queue=queue)


def send_after_commit(name: str, *args: object, countdown: float | None = None) -> None:
    """Send a task once the current transaction commits (at once outside one): the worker then sees the rows."""
    if name in INGEST_ROUTED:
        queue = ingest_queue()
        transaction.on_commit(lambda: send_now(name, *args, countdown=countdown, queue=queue))
    else:
        transaction.on_commit(lambda: send_now(name, *args, countdown=countdown))
