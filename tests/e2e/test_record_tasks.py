"""Record tasks end to end: scheduled windows, highlights (with look-back), stop, reconnects; one pull per stream."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import av
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from liverecord.services import app_create
from recordings.choices import RecorderStatus, TaskStatus
from recordings.models import PublishSession, RecordFile, RecordTask
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.e2e.conftest import settled_files, wait_until
from tests.support.media import push_generated

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

GOP = 1.0
FRAME = 1 / 25


def api_client() -> tuple[Any, APIClient]:
    app, key = app_create(name=f"e2e-{time.monotonic_ns()}")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return app, client


def mp4_duration(record: RecordFile) -> float:
    with av.open(record.local_path) as container:
        return float(container.duration or 0) / av.time_base


def files_of(task_id: str, fmt: str = "mp4", count: int = 1) -> list[RecordFile]:
    return settled_files(count=count, task__public_id=task_id, format=fmt)


def test_windows_highlights_and_a_rule_share_one_pull(ingest: Any, beat: Any, recorder_runs: list[int]) -> None:
    app, client = api_client()
    Domain.objects.create(app=app, name="127.0.0.1", lookback_seconds=20)
    mp4_only = RecordTemplate.objects.create(app=app, name="mp4", mp4_enabled=True, mp4_record_interval=3600)
    RecordRule.objects.create(app=app, stream_name="class", template=mp4_only)
    formats = {"mp4": {"record_interval": 3600}}
    where = {"domain": "127.0.0.1", "app_name": "live", "stream_name": "class"}

    t0 = timezone.now()
    window_a = client.post(
        "/api/v1/record-tasks/",
        {
            **where,
            "formats": formats,
            "start_time": (t0 + timedelta(seconds=5)).isoformat(),
            "end_time": (t0 + timedelta(seconds=13)).isoformat(),
        },
        format="json",
    )
    window_b = client.post(
        "/api/v1/record-tasks/",
        {
            **where,
            "formats": formats,
            "start_time": (t0 + timedelta(seconds=9)).isoformat(),
            "end_time": (t0 + timedelta(seconds=17)).isoformat(),
        },
        format="json",
    )
    assert window_a.status_code == window_b.status_code == 201
    assert window_a.json()["status"] == "scheduled"

    publisher = push_generated(ingest.rtmp_url("class"), seconds=26, gop_frames=25)
    try:
        session = wait_until(lambda: PublishSession.objects.filter(stream_name="class").first(), 10, "the session")
        time.sleep(max(0.0, (t0 + timedelta(seconds=7) - timezone.now()).total_seconds()))
        highlight = client.post(
            "/api/v1/record-tasks/", {**where, "highlight": True, "formats": formats}, format="json"
        )
        assert highlight.status_code == 201, highlight.json()
        time.sleep(8)
        stopped = client.post(f"/api/v1/record-tasks/{highlight.json()['id']}/stop/")
        assert stopped.json()["status"] == "stopping"
        time.sleep(max(0.0, (t0 + timedelta(seconds=19) - timezone.now()).total_seconds()))
        lookback = client.post(
            "/api/v1/record-tasks/",
            {**where, "highlight": True, "formats": formats, "lookback_seconds": 10},
            format="json",
        )
        assert lookback.status_code == 201, lookback.json()
        time.sleep(3)
        client.post(f"/api/v1/record-tasks/{lookback.json()['id']}/stop/")
        assert publisher.wait(timeout=40) == 0
    finally:
        publisher.kill()

    wait_until(
        lambda: PublishSession.objects.get(pk=session.pk).recorder_status == RecorderStatus.DONE, 30, "the recorder"
    )
    assert recorder_runs == [session.pk], "the stream must be pulled once"
    tasks = {t.public_id: t for t in RecordTask.objects.filter(app=app)}
    assert {t.kind for t in tasks.values()} == {"rule", "scheduled", "highlight"}
    assert all(t.status == TaskStatus.FINISHED for t in tasks.values()), [
        (t.kind, t.status, t.error) for t in tasks.values()
    ]

    for window in (window_a, window_b):
        (record,) = files_of(window.json()["id"])
        # From the first keyframe at or after the start to the last packet before the end: the window within a GOP.
        assert 8 - GOP - FRAME <= mp4_duration(record) <= 8 + FRAME, mp4_duration(record)
    (clip,) = files_of(highlight.json()["id"])
    assert 8 - GOP - FRAME <= mp4_duration(clip) <= 8 + FRAME + 0.3, mp4_duration(clip)
    (past,) = files_of(lookback.json()["id"])
    assert 13 - GOP - FRAME <= mp4_duration(past) <= 13 + FRAME + 0.3, mp4_duration(past)
    (whole,) = settled_files(task__kind="rule", app=app)
    assert mp4_duration(whole) > 24


def test_a_window_records_every_push_inside_it(ingest: Any, beat: Any) -> None:
    app, client = api_client()
    Domain.objects.create(app=app, name="127.0.0.1")
    where = {"domain": "127.0.0.1", "app_name": "live", "stream_name": "drop"}
    created = client.post(
        "/api/v1/record-tasks/",
        {
            **where,
            "formats": {"flv": {"record_interval": 3600}},
            "end_time": (timezone.now() + timedelta(seconds=60)).isoformat(),
        },
        format="json",
    )
    task_id = created.json()["id"]
    assert created.json()["status"] == "waiting"
    for _ in range(2):
        publisher = push_generated(ingest.rtmp_url("drop"), seconds=6)
        assert publisher.wait(timeout=30) == 0
        wait_until(
            lambda: (
                RecordTask.objects.get(public_id=task_id).status == TaskStatus.WAITING
                and PublishSession.objects.filter(stream_name="drop", recorder_status=RecorderStatus.DONE).exists()
            ),
            20,
            "the push's files",
        )
    records = files_of(task_id, "flv", count=2)
    assert len({r.session_id for r in records}) == 2
    for record in records:
        with av.open(record.local_path) as container:
            assert 5 - GOP <= float(container.duration) / av.time_base <= 6 + FRAME
    assert client.post(f"/api/v1/record-tasks/{task_id}/stop/").json()["status"] == "finished"
