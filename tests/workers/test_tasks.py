"""Celery task wrappers: a database that is locked or restarting delays a file's upload, never drops it."""

from __future__ import annotations

from unittest import mock

from django.conf import settings
from django.db import OperationalError

from liverecord.celery import app as celery_app
from recordings.dispatch import DISPATCHED
from recordings.services.files import UploadOutcome
from workers.tasks import close_hls_playlist, deliver_callback, upload_file


def test_an_upload_retries_while_the_database_does_not_answer() -> None:
    # Fault injection (a mock, named as such): the service raises what Django raises while PostgreSQL restarts
    # or SQLite is locked, twice, then the database is back.
    answers = [OperationalError("database is locked"), OperationalError("server closed the connection"), None]

    def service(*, file_id: int) -> UploadOutcome:
        answer = answers.pop(0)
        if answer is not None:
            raise answer
        return UploadOutcome(stored=True)

    with mock.patch("workers.tasks.record_file_upload", side_effect=service) as upload:
        result = upload_file.apply(args=[42])
    assert result.successful(), result.traceback
    assert upload.call_count == 3 and answers == []


def test_every_task_that_must_not_lose_a_file_retries_database_errors() -> None:
    for task in (upload_file, close_hls_playlist, deliver_callback):
        assert OperationalError in task.autoretry_for, task.name
        assert task.max_retries is not None and task.max_retries >= 10


def test_every_dispatched_name_is_a_registered_task_with_a_queue() -> None:
    # Services enqueue by name (recordings/dispatch.py): a typo or a renamed task would be lost silently.
    registered = {name for name in celery_app.tasks if name.startswith("liverecord.")}
    assert set(DISPATCHED) <= registered, set(DISPATCHED) - registered
    assert registered == set(settings.CELERY_TASK_ROUTES), registered ^ set(settings.CELERY_TASK_ROUTES)
    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert beat <= registered, beat - registered
    queues = {queue.name for queue in celery_app.conf.task_queues}
    assert {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()} <= queues
