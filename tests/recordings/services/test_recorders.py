"""Recorder job services: a full worker's refusal of a recorder job backs off; a claim starts the count again."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from deploy.record_wait import awaited_files, record_wait_clear
from recordings.choices import RecorderStatus
from recordings.models import PublishSession
from recordings.services import recorder_claim, recorder_redispatch, recorder_refused
from recordings.services.recorders import REFUSED_REQUEUE_MAX, recorder_requeue_delay
from tests.conftest import Tenant

pytestmark = pytest.mark.django_db


def waiting_session(tenant: Tenant) -> PublishSession:
    return PublishSession.objects.create(
        app=tenant.app,
        domain_name="push.tv",
        app_name="live",
        stream_name="s1",
        started_at=datetime(2026, 11, 21, 8, 0, tzinfo=UTC),
        ingest="127.0.0.1:1935",
        source_url="rtmp://127.0.0.1:1935/live/s1",
    )


def test_refusals_in_a_row_are_offered_again_every_second_then_ever_later_up_to_ten_seconds(tenant: Tenant) -> None:
    session = waiting_session(tenant)
    delays = [recorder_refused(session_id=session.pk, reason="worker w/1 is full") for _ in range(25)]
    for delay, base in zip(delays, [1] * 20 + [2, 4, 8, 10, 10], strict=True):
        assert delay is not None and 0.8 * base <= delay <= 1.2 * base
    session.refresh_from_db()
    assert (session.recorder_refusals, session.recorder_note) == (25, "worker w/1 is full")

    assert recorder_claim(session_id=session.pk)
    session.refresh_from_db()
    assert (session.recorder_refusals, session.recorder_note) == (0, ""), "a worker took it: the next wait is short"


def test_a_refusal_of_a_session_that_no_longer_waits_queues_nothing(tenant: Tenant) -> None:
    session = waiting_session(tenant)
    PublishSession.objects.filter(pk=session.pk).update(recorder_status=RecorderStatus.RUNNING)
    assert recorder_refused(session_id=session.pk, reason="full") is None, "a duplicate job: not queued again"
    session.refresh_from_db()
    assert (session.recorder_refusals, session.recorder_note) == (0, "")


def test_the_requeue_delay_never_exceeds_its_cap_with_jitter() -> None:
    rng = random.Random(7)
    for refusals in range(0, 40):
        delay = recorder_requeue_delay(refusals=refusals, rng=rng)
        assert 0.8 <= delay <= REFUSED_REQUEUE_MAX * 1.2


def test_a_recorder_queued_for_a_push_keeps_its_record_file_whole(tenant: Tenant, tmp_path: Path) -> None:
    """A worker that turns the job down, and a recorder queued again for a new recording, mark the push's
    record file as awaited: the ingest's janitor leaves it whole until the recorder comes (issue 17)."""
    session = waiting_session(tenant)
    PublishSession.objects.filter(pk=session.pk).update(ingest_record_dir=str(tmp_path))
    recorder_refused(session_id=session.pk, reason="worker w/1 is full")
    hook = int(session.started_at.timestamp())
    assert awaited_files(tmp_path) >= {f"s1-{hook}.flv", f"s1-{hook + 5}.flv"}
    record_wait_clear(record_dir=tmp_path, stream_name="s1", hook_time=session.started_at.timestamp())
    assert awaited_files(tmp_path) == set()

    PublishSession.objects.filter(pk=session.pk).update(recorder_status=RecorderStatus.DONE, status="live")
    assert recorder_redispatch(session_id=session.pk)
    assert f"s1-{hook}.flv" in awaited_files(tmp_path)
