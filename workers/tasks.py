"""Celery tasks: thin wrappers that load ids and call one service. Their queues: ``CELERY_TASK_ROUTES``."""

from __future__ import annotations

import logging
import random
from pathlib import Path

from celery import Task, shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from recordings.models import RecordTask
from recordings.services import (
    callback_attempt,
    callbacks_resend_due,
    record_file_backup,
    record_file_upload,
    record_files_expire,
    record_files_retry_backups,
    recorders_reclaim,
    recorders_take_over,
    task_hls_sync,
    task_windows_tick,
)
from rooms.services import cloud_recordings_tick as rooms_tick
from workers import ops_hooks  # noqa: F401 - connects the workers' operations signals
from workers.session_recorder import close_task_playlist, run_session_recorder
from workers.storage import StorageError

logger = logging.getLogger(__name__)


class DatabaseRetryTask(Task):  # type: ignore[type-arg]
    """A database that is locked (SQLite under load) or restarting (PostgreSQL) must not drop a file's upload,
    its playlist's closing or its callback: these tasks retry with backoff until it answers (about 10 min)."""

    autoretry_for = (OperationalError, InterfaceError)
    retry_backoff = 2
    retry_backoff_max = 60
    max_retries = 15


@shared_task(name="liverecord.ping", acks_late=True)
def ping(token: str) -> str:
    """Leave ``var/health/<token>``: proves a worker consumes the broker (``make run`` and tests wait for it)."""
    folder = settings.VAR_DIR / "health"
    folder.mkdir(parents=True, exist_ok=True)
    safe = "".join(ch for ch in token if ch.isalnum() or ch in "-_")[:64]
    (folder / safe).write_text(token)
    return token


@shared_task(name="liverecord.record_stream", acks_late=True)
def record_stream(session_id: int) -> None:
    """Pull one live stream once and make every recording attached to its session."""
    requeue_after = run_session_recorder(session_id)
    if requeue_after is not None:
        # This worker is full: back to the queue, for another worker (the reason is on the session and tasks).
        record_stream.apply_async((session_id,), countdown=requeue_after)


@shared_task(name="liverecord.task_windows", acks_late=True, ignore_result=True)
def task_windows() -> dict[str, int]:
    """Beat tick: open and close scheduled recording windows. Idempotent."""
    return task_windows_tick()


@shared_task(name="liverecord.cloud_recordings_tick", acks_late=True, ignore_result=True)
def cloud_recordings_tick() -> dict[str, int]:
    """Beat tick: cloud recordings' time limits, idle callbacks and catch-up. Idempotent."""
    return rooms_tick()


@shared_task(
    name="liverecord.close_hls_playlist",
    acks_late=True,
    ignore_result=True,
    base=DatabaseRetryTask,
)
def close_hls_playlist(task_id: int) -> None:
    """A task's reconnect window is over: end its HLS playlist, store it, announce it. Idempotent."""
    close_task_playlist(task_id)


@shared_task(
    name="liverecord.upload_file",
    acks_late=True,
    ignore_result=True,
    bind=True,
    base=DatabaseRetryTask,
)
def upload_file(self: Task, file_id: int) -> None:
    """Upload and verify one file; quick retries with backoff and jitter, then the backup spool (101)."""
    outcome = record_file_upload(file_id=file_id)
    if outcome.stored or not outcome.error:
        return
    delays = settings.LIVEREC_UPLOAD_RETRY_DELAYS
    if outcome.retryable and self.request.retries < len(delays):
        raise self.retry(countdown=delays[self.request.retries] * random.uniform(0.8, 1.2), max_retries=len(delays))
    record_file_backup(file_id=file_id, error=outcome.error)


@shared_task(name="liverecord.retry_backups", ignore_result=True)
def retry_backups() -> dict[str, int]:
    return record_files_retry_backups()


@shared_task(name="liverecord.expire_files", ignore_result=True)
def expire_files() -> int:
    return record_files_expire()


@shared_task(
    name="liverecord.deliver_callback",
    acks_late=True,
    ignore_result=True,
    base=DatabaseRetryTask,
)
def deliver_callback(delivery_id: int) -> None:
    """One signed attempt; a failure schedules the next one (SPEC.md: about an hour of retries)."""
    delay = callback_attempt(delivery_id=delivery_id)
    if delay is not None:
        deliver_callback.apply_async((delivery_id,), countdown=delay)


@shared_task(name="liverecord.resend_callbacks", ignore_result=True)
def resend_callbacks() -> int:
    return callbacks_resend_due()


@shared_task(name="liverecord.watchdog", ignore_result=True)
def watchdog() -> list[int]:
    """Beat: queue again the recorders whose heartbeat is stale (their worker died)."""
    return recorders_reclaim()


@shared_task(name="liverecord.recorder_takeover", ignore_result=True)
def recorder_takeover() -> list[int]:
    """Beat: recorders no worker of their ingest's queue took within 5 s go to the shared ``record`` queue."""
    return recorders_take_over()


@shared_task(name="liverecord.sync_hls", ignore_result=True)
def sync_hls(task_id: int, playlist: str) -> None:
    """Upload what a live HLS recording has made so far. A failure is retried by the next sync or the final upload."""
    task = RecordTask.objects.select_related("session__domain__storage").filter(pk=task_id).first()
    if task is None:
        return
    try:
        task_hls_sync(task=task, playlist=Path(playlist))
    except StorageError as exc:
        logger.warning("live HLS upload of task %s: %s", task_id, exc)
