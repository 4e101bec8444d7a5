"""The console's recordings pages: live sessions first, read-only pages without Save, the one action of a page as a
button, deliveries found by stream and event type, times to the second, and the product's sections first."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from liverecord.models import App
from recordings.choices import CallbackEvent, DeliveryStatus, SessionStatus, TaskStatus
from recordings.models import CallbackDelivery, PublishSession, RecordTask
from rules.models import Domain
from templates_app.models import RecordTemplate

pytestmark = pytest.mark.django_db

SAVE = re.compile(rb'name="_save"|name="_continue"|name="_addanother"')


@pytest.fixture
def console() -> Client:
    get_user_model().objects.create_superuser("root", "", "pw-for-tests-123")
    client = Client(raise_request_exception=True)
    client.login(username="root", password="pw-for-tests-123")
    return client


@pytest.fixture
def app() -> App:
    app = App.objects.create(name="acme")
    Domain.objects.create(app=app, name="push.tv")
    return app


def session(app: App, stream: str, *, status: str = SessionStatus.LIVE, **fields: Any) -> PublishSession:
    return PublishSession.objects.create(
        app=app,
        domain_name="push.tv",
        app_name="live",
        stream_name=stream,
        status=status,
        started_at=fields.pop("started_at", timezone.now()),
        ingest="127.0.0.1:1935",
        source_url=f"rtmp://x/live/{stream}",
        **fields,
    )


def delivery(app: App, stream: str, event: int) -> CallbackDelivery:
    return CallbackDelivery.objects.create(
        app=app,
        event_type=event,
        url="http://127.0.0.1:9/cb",
        body={"event_type": event, "stream_id": stream},
        status=DeliveryStatus.FAILED,
        attempts=6,
    )


def listed(response: Any) -> list[Any]:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


def test_live_sessions_shows_only_live_ones_until_asked(console: Client, app: App) -> None:
    live = session(app, "now")
    ended = session(app, "before", status=SessionStatus.ENDED)
    assert listed(console.get("/admin/recordings/publishsession/")) == [live]
    assert listed(console.get("/admin/recordings/publishsession/?status=ended")) == [ended]
    assert set(listed(console.get("/admin/recordings/publishsession/?status=all"))) == {live, ended}
    assert listed(console.get("/admin/recordings/publishsession/?status=all&stream=before")) == [ended]


def test_session_times_show_seconds(console: Client, app: App) -> None:
    session(app, "now", started_at=datetime(2026, 11, 21, 8, 0, 7, tzinfo=UTC))
    assert b"2026-11-21 08:00:07" in console.get("/admin/recordings/publishsession/").content


def test_a_session_that_nothing_records_says_so_in_the_list(console: Client, app: App) -> None:
    session(app, "demo", recorder_status="done", recorder_note="not recorded: no rule matches push.tv/live/demo")
    assert (
        b"not recorded: no rule matches push.tv/live/demo" in console.get("/admin/recordings/publishsession/").content
    )


def test_read_only_pages_have_no_save_button(console: Client, app: App) -> None:
    pushed = session(app, "demo")
    task = RecordTask.objects.create(
        app=app, kind="rule", status=TaskStatus.RECORDING, domain="push.tv", session=pushed
    )
    sent = delivery(app, "demo", CallbackEvent.PUSH_STARTED)
    for url in (
        f"/admin/recordings/publishsession/{pushed.pk}/change/",
        f"/admin/recordings/recordtask/{task.pk}/change/",
        f"/admin/recordings/callbackdelivery/{sent.pk}/change/",
    ):
        page = console.get(url)
        assert page.status_code == 200, url
        assert not SAVE.search(page.content), url
    assert b'id="object-action-stop"' in console.get(f"/admin/recordings/recordtask/{task.pk}/change/").content
    # The check sees a Save button where there is one: an editable page.
    assert SAVE.search(console.get(f"/admin/rules/domain/{Domain.objects.get().pk}/change/").content)


def test_a_delivery_page_redelivers(console: Client, app: App) -> None:
    sent = delivery(app, "demo", CallbackEvent.FILE_STORED)
    page = console.get(f"/admin/recordings/callbackdelivery/{sent.pk}/change/")
    assert b'id="object-action-redeliver"' in page.content
    with mock.patch("recordings.services.callbacks._dispatch") as dispatch:
        response = console.post(f"/admin/recordings/callbackdelivery/{sent.pk}/redeliver/")
    assert response.status_code == 302
    sent.refresh_from_db()
    assert (sent.status, sent.attempts) == (DeliveryStatus.PENDING, 0)
    dispatch.assert_called_once_with(sent.pk)
    assert console.get(f"/admin/recordings/callbackdelivery/{sent.pk}/redeliver/").status_code == 405


def test_deliveries_are_found_by_stream_and_event_type(console: Client, app: App) -> None:
    a_file = delivery(app, "demo", CallbackEvent.FILE_STORED)
    delivery(app, "demo", CallbackEvent.PUSH_STARTED)
    delivery(app, "other", CallbackEvent.FILE_STORED)
    assert listed(console.get("/admin/recordings/callbackdelivery/?stream=demo&event_type__exact=100")) == [a_file]
    assert len(listed(console.get("/admin/recordings/callbackdelivery/?q=other"))) == 1
    # The stream box keeps the other filters and the search when it is submitted.
    page = console.get("/admin/recordings/callbackdelivery/?event_type__exact=100&q=d").content.decode()
    assert '<input type="hidden" name="event_type__exact" value="100">' in page
    assert '<input type="hidden" name="q" value="d">' in page


def test_the_task_page_stops_the_task(console: Client, app: App) -> None:
    pushed = session(app, "demo")
    task = RecordTask.objects.create(
        app=app, kind="highlight", status=TaskStatus.RECORDING, domain="push.tv", session=pushed
    )
    assert console.post(f"/admin/recordings/recordtask/{task.pk}/stop/").status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.STOPPING


def test_a_running_task_is_not_deleted(console: Client, app: App) -> None:
    task = RecordTask.objects.create(app=app, kind="highlight", status=TaskStatus.RECORDING, domain="push.tv")
    response = console.post(f"/admin/recordings/recordtask/{task.pk}/delete/", {"post": "yes"}, follow=True)
    assert RecordTask.objects.filter(pk=task.pk).exists()
    assert any("stop it first" in str(m) for m in response.context["messages"])


def test_the_task_form_refuses_another_apps_template(console: Client, app: App) -> None:
    theirs = RecordTemplate.objects.create(app=App.objects.create(name="globex"), name="theirs", mp4_enabled=True)
    start = timezone.now() + timedelta(hours=1)
    response = console.post(
        "/admin/recordings/recordtask/add/",
        {
            "app": app.pk,
            "kind": "scheduled",
            "domain": "push.tv",
            "app_name": "live",
            "stream_name": "demo",
            "start_time": start.strftime("%Y-%m-%d %H:%M:%S"),
            "end_time": (start + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S"),
            "template": theirs.pk,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["template"] == ["does not exist in this app"]
    assert not RecordTask.objects.exists()


def test_the_product_sections_come_first_and_celery_beat_is_system(console: Client) -> None:
    names = [section["name"] for section in console.get("/admin/").context["app_list"]]
    assert names[:4] == ["Tenants and API keys", "Recording templates", "Push domains, storage and rules", "Recordings"]
    assert "System: periodic jobs (Celery beat)" in names[4:]
