"""A recorder that no worker of its ingest's queue took within 5 s goes to the shared ``record`` queue, once,
and the session says so (the clock is injected: ``now=``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.utils import timezone

from recordings.choices import RecorderStatus, SessionStatus
from recordings.constants import NOT_RECORDED, TAKEN_OVER
from recordings.dispatch import RECORD_STREAM, ingest_queue, send_after_commit
from recordings.models import PublishSession
from recordings.services import recorder_claim, recorders_take_over
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent() -> Any:
    with mock.patch("recordings.dispatch.send_now") as send:
        yield send


def pending(tenant: Tenant, name: str, **fields: Any) -> PublishSession:
    session = PublishSession.objects.create(
        app=tenant.app,
        domain_name="push.tv",
        app_name="live",
        stream_name=name,
        started_at=timezone.now(),
        ingest="10.0.0.7:1935",
        source_url=f"rtmp://10.0.0.7:1935/live/{name}",
        **fields,
    )
    return session


def test_a_new_push_goes_to_its_ingest_queue(settings: Any, django_capture_on_commit_callbacks: Any) -> None:
    settings.LIVEREC_INGEST_HOST = "ingest-b"
    with (
        mock.patch("recordings.dispatch.app.send_task") as send_task,
        django_capture_on_commit_callbacks(execute=True),
    ):
        send_after_commit(RECORD_STREAM, 7)
    send_task.assert_called_once_with(RECORD_STREAM, args=(7,), countdown=None, queue="record.ingest-b")
    assert ingest_queue() == "record.ingest-b" and ingest_queue("a") == "record.a"


def test_only_recorders_waiting_5_s_for_their_first_worker_are_taken_over(tenant: Tenant, sent: Any) -> None:
    waited = pending(tenant, "waited")
    fresh = pending(tenant, "fresh")
    running = pending(tenant, "running", recorder_status=RecorderStatus.RUNNING)
    refused = pending(tenant, "refused", recorder_refusals=1)
    ended = pending(tenant, "ended", status=SessionStatus.ENDED)
    requeued = pending(tenant, "requeued", heartbeat_at=timezone.now() - timedelta(seconds=30))  # the watchdog's
    now = timezone.now()
    PublishSession.objects.exclude(pk=fresh.pk).update(updated=now - timedelta(seconds=5))
    PublishSession.objects.filter(pk=fresh.pk).update(updated=now - timedelta(seconds=4.9))

    assert recorders_take_over(now=now) == [waited.pk]
    sent.assert_called_once_with(RECORD_STREAM, waited.pk)  # no queue: the route, the shared "record"
    waited.refresh_from_db()
    assert waited.recorder_note.startswith(TAKEN_OVER) and "rtmp://10.0.0.7:1935" in waited.recorder_note
    assert "within 5 s" in waited.recorder_note
    for other in (fresh, running, refused, ended, requeued):
        other.refresh_from_db()
        assert other.recorder_note == "", other.stream_name

    # Taken over once: a later beat leaves it alone, however long it waits.
    assert recorders_take_over(now=now + timedelta(seconds=30)) == [fresh.pk]
    # The worker that takes it keeps the note: the session says it is pulled over RTMP.
    assert recorder_claim(session_id=waited.pk)
    waited.refresh_from_db()
    assert waited.recorder_status == RecorderStatus.RUNNING and waited.recorder_note.startswith(TAKEN_OVER)


def test_a_spool_only_recorder_keeps_why_nothing_is_recorded(tenant: Tenant, sent: Any) -> None:
    session = pending(tenant, "spool", recorder_note=f"{NOT_RECORDED}no rule matches push.tv/live/spool")
    now = timezone.now() + timedelta(seconds=6)
    assert recorders_take_over(now=now) == [session.pk]
    assert recorders_take_over(now=now + timedelta(seconds=6)) == []
    session.refresh_from_db()
    assert session.recorder_note.startswith(f"{NOT_RECORDED}no rule matches") and TAKEN_OVER in session.recorder_note


def test_two_beats_at_once_send_it_once(tenant: Tenant, sent: Any) -> None:
    session = pending(tenant, "twice")
    now = timezone.now() + timedelta(seconds=6)
    stale = PublishSession.objects.get(pk=session.pk).updated
    assert recorders_take_over(now=now) == [session.pk]
    # The second beat read the row before the first marked it: its conditional update finds it changed.
    assert PublishSession.objects.filter(pk=session.pk, updated=stale).update(recorder_note="x") == 0
    assert sent.call_count == 1
