from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from liverecord.models import App
from recordings.choices import TaskStatus
from recordings.models import PublishSession, RecordTask
from rules.models import Domain

pytestmark = pytest.mark.django_db


@pytest.fixture
def console() -> Client:
    get_user_model().objects.create_superuser("root", "", "pw-for-tests-123")
    client = Client()
    client.login(username="root", password="pw-for-tests-123")
    return client


@pytest.fixture
def app() -> App:
    app = App.objects.create(name="acme")
    Domain.objects.create(app=app, name="push.tv")
    return app


def form(app: App, **fields: object) -> dict[str, object]:
    return {"app": app.pk, "domain": "push.tv", "app_name": "live", "stream_name": "s1", **fields}


def test_the_console_creates_a_scheduled_window(console: Client, app: App) -> None:
    start = timezone.now() + timedelta(hours=1)
    response = console.post(
        "/admin/recordings/recordtask/add/",
        form(
            app,
            kind="scheduled",
            start_time=start.strftime("%Y-%m-%d %H:%M:%S"),
            end_time=(start + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
        ),
        follow=True,
    )
    assert response.status_code == 200
    task = RecordTask.objects.get()
    assert (task.kind, task.status) == ("scheduled", TaskStatus.SCHEDULED)
    assert console.get("/admin/recordings/recordtask/").status_code == 200


def test_the_console_shows_why_a_task_is_refused(console: Client, app: App) -> None:
    response = console.post("/admin/recordings/recordtask/add/", form(app, kind="highlight"))
    assert b"the stream is not live" in response.content
    response = console.post("/admin/recordings/recordtask/add/", form(app, kind="scheduled"))
    assert b"is required for a scheduled task" in response.content
    assert not RecordTask.objects.exists()


def test_the_console_stops_a_task(console: Client, app: App) -> None:
    session = PublishSession.objects.create(
        app=app,
        domain_name="push.tv",
        app_name="live",
        stream_name="s1",
        started_at=timezone.now(),
        ingest="127.0.0.1:1935",
        source_url="rtmp://x/live/s1",
    )
    console.post("/admin/recordings/recordtask/add/", form(app, kind="highlight"))
    task = RecordTask.objects.get()
    assert (task.status, task.session) == (TaskStatus.RECORDING, session)
    console.post("/admin/recordings/recordtask/", {"action": "stop", "_selected_action": [task.pk]})
    task.refresh_from_db()
    assert task.status == TaskStatus.STOPPING
