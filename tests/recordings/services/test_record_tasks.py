"""``session_tasks_attach``: which waiting tasks a new push of their stream feeds, and what each of them becomes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest

from recordings.choices import CallbackEvent, RecorderStatus, TaskKind, TaskStatus
from recordings.dispatch import RECORD_STREAM, ingest_queue
from recordings.models import CallbackDelivery, PublishSession, RecordTask
from recordings.services.record_tasks import session_tasks_attach
from rules.models import Domain
from tests.conftest import Tenant, make_tenant

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def sent() -> Iterator[mock.MagicMock]:
    """What the services hand to the broker (the seam of ``recordings.dispatch``; the e2e tests run the jobs)."""
    with mock.patch("recordings.dispatch.send_now") as send:
        yield send


def push(tenant: Tenant, stream: str = "s1", **fields: Any) -> PublishSession:
    return PublishSession.objects.create(
        app=tenant.app,
        domain_name="push.tv",
        app_name="live",
        stream_name=stream,
        started_at=NOW,
        ingest="127.0.0.1:1935",
        source_url=f"rtmp://127.0.0.1:1935/live/{stream}",
        **fields,
    )


def task(tenant: Tenant, kind: str, status: str, stream: str = "s1", **fields: Any) -> RecordTask:
    return RecordTask.objects.create(
        app=tenant.app, kind=kind, status=status, domain="push.tv", app_name="live", stream_name=stream, **fields
    )


def waiting_rule_task(tenant: Tenant, until: datetime, stream: str = "s1") -> RecordTask:
    return task(
        tenant,
        TaskKind.RULE,
        TaskStatus.WAITING,
        stream,
        continue_until=until,
        hls_continue_duration=60,
        hls_pending={"path": "/spool/tasks/x/s1.m3u8", "start": NOW.timestamp() - 120},
    )


def window(tenant: Tenant, start: datetime, end: datetime, status: str = TaskStatus.WAITING) -> RecordTask:
    return task(tenant, TaskKind.SCHEDULED, status, start_time=start, end_time=end)


def test_a_push_inside_the_reconnect_window_continues_the_rule_task(tenant: Tenant, sent: mock.MagicMock) -> None:
    waiting = waiting_rule_task(tenant, until=NOW + timedelta(seconds=30))
    session = push(tenant)
    continued, scheduled = session_tasks_attach(session=session, now=NOW)
    assert continued == waiting and scheduled == []
    waiting.refresh_from_db()
    assert (waiting.status, waiting.session, waiting.continue_until) == (TaskStatus.RECORDING, session, None)
    assert waiting.hls_pending is not None, "its playlist stays open: the recorder appends to it"


def test_a_push_after_the_reconnect_window_continues_nothing(tenant: Tenant, sent: mock.MagicMock) -> None:
    late = waiting_rule_task(tenant, until=NOW)  # the window ends at the push: over
    assert session_tasks_attach(session=push(tenant), now=NOW) == (None, [])
    late.refresh_from_db()
    assert (late.status, late.session) == (TaskStatus.WAITING, None)


def test_of_two_rule_tasks_waiting_the_one_waiting_longest_continues(tenant: Tenant, sent: mock.MagicMock) -> None:
    waiting_rule_task(tenant, until=NOW + timedelta(seconds=10))
    longest = waiting_rule_task(tenant, until=NOW + timedelta(seconds=50))
    continued, _ = session_tasks_attach(session=push(tenant), now=NOW)
    assert continued == longest
    assert RecordTask.objects.filter(kind=TaskKind.RULE, status=TaskStatus.WAITING).count() == 1


def test_scheduled_windows_that_cover_now_record_the_push_and_others_do_not(
    tenant: Tenant, sent: mock.MagicMock
) -> None:
    open_waiting = window(tenant, NOW - timedelta(minutes=5), NOW + timedelta(minutes=5))
    open_scheduled = window(tenant, NOW, NOW + timedelta(minutes=5), status=TaskStatus.SCHEDULED)
    later = window(tenant, NOW + timedelta(minutes=1), NOW + timedelta(minutes=5), status=TaskStatus.SCHEDULED)
    over = window(tenant, NOW - timedelta(minutes=5), NOW)
    session = push(tenant)
    continued, scheduled = session_tasks_attach(session=session, now=NOW)
    assert continued is None and {t.pk for t in scheduled} == {open_waiting.pk, open_scheduled.pk}
    for t in (open_waiting, open_scheduled):
        t.refresh_from_db()
        assert (t.status, t.session) == (TaskStatus.RECORDING, session)
    for t, status in ((later, TaskStatus.SCHEDULED), (over, TaskStatus.WAITING)):
        t.refresh_from_db()
        assert (t.status, t.session) == (status, None)


def test_another_stream_or_app_keeps_its_tasks(tenant: Tenant, sent: mock.MagicMock) -> None:
    other_stream = waiting_rule_task(tenant, until=NOW + timedelta(seconds=30), stream="s2")
    globex = make_tenant("globex")
    other_app = waiting_rule_task(globex, until=NOW + timedelta(seconds=30))
    assert session_tasks_attach(session=push(tenant), now=NOW) == (None, [])
    assert RecordTask.objects.filter(pk__in=[other_stream.pk, other_app.pk], status=TaskStatus.WAITING).count() == 2


def test_each_attached_task_announces_its_status(tenant: Tenant, sent: mock.MagicMock) -> None:
    Domain.objects.create(app=tenant.app, name="push.tv", callback_url="http://127.0.0.1:9/cb")
    waiting_rule_task(tenant, until=NOW + timedelta(seconds=30))
    window(tenant, NOW - timedelta(minutes=1), NOW + timedelta(minutes=1))
    session_tasks_attach(session=push(tenant), now=NOW)
    bodies = CallbackDelivery.objects.filter(event_type=CallbackEvent.TASK_STATUS).values_list("body", flat=True)
    assert sorted(b["status"] for b in bodies) == ["recording", "recording"]


def test_a_session_whose_recorder_is_done_gets_one_again(
    tenant: Tenant, sent: mock.MagicMock, django_capture_on_commit_callbacks: Any
) -> None:
    """A push that nothing recorded (its recorder ended at once) starts one when a window opens on it."""
    window(tenant, NOW - timedelta(minutes=1), NOW + timedelta(minutes=1))
    session = push(tenant, recorder_status=RecorderStatus.DONE)
    with django_capture_on_commit_callbacks(execute=True):
        session_tasks_attach(session=session, now=NOW)
    session.refresh_from_db()
    assert session.recorder_status == RecorderStatus.PENDING
    sent.assert_called_once_with(RECORD_STREAM, session.pk, countdown=None, queue=ingest_queue())


def test_a_session_whose_recorder_runs_gets_no_second_one(
    tenant: Tenant, sent: mock.MagicMock, django_capture_on_commit_callbacks: Any
) -> None:
    window(tenant, NOW - timedelta(minutes=1), NOW + timedelta(minutes=1))
    waiting_rule_task(tenant, until=NOW + timedelta(seconds=30))
    session = push(tenant, recorder_status=RecorderStatus.RUNNING)
    with django_capture_on_commit_callbacks(execute=True):
        session_tasks_attach(session=session, now=NOW)
    assert sent.call_count == 0, "the running recorder picks the new recordings up on its next heartbeat"
