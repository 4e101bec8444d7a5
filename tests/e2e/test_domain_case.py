"""Domain names are case-insensitive end to end: a domain and a scheduled task made over the API with mixed-case
names, a push whose URL spells the host in yet another case, and the window records the push (issue 16.3)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from liverecord.services import app_create
from recordings.choices import TaskStatus
from recordings.models import PublishSession, RecordTask
from tests.e2e.conftest import settled_files, wait_until
from tests.support.media import duration, push_generated

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_scheduled_task_for_a_mixed_case_domain_records_the_push(ingest: Any) -> None:
    _, key = app_create(name="case")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    assert client.post("/api/v1/domains/", {"name": "LocalHost"}, format="json").json()["name"] == "localhost"
    task = client.post(
        "/api/v1/record-tasks/",
        {
            "domain": "LOCALhost",
            "app_name": "live",
            "stream_name": "case",
            "formats": {"mp4": {"record_interval": 3600}},
            "end_time": (timezone.now() + timedelta(minutes=5)).isoformat(),
        },
        format="json",
    )
    assert task.status_code == 201, task.json()
    task_id = task.json()["id"]

    url = ingest.rtmp_url("case").replace("127.0.0.1", "LocalHost")
    publisher = push_generated(url, seconds=8, gop_frames=25)
    assert publisher.wait(timeout=60) == 0
    session = wait_until(lambda: PublishSession.objects.filter(stream_name="case").first(), 10, "the session")
    assert session.domain_name == "localhost"

    (mp4,) = settled_files(30, count=1, task__public_id=task_id, format="mp4")
    assert mp4.session_id == session.pk
    assert 7.0 <= duration(mp4.local_path) <= 9.0
    wait_until(
        lambda: RecordTask.objects.get(public_id=task_id).status == TaskStatus.WAITING, 20, "the window to wait on"
    )
