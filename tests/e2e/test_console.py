"""The console at 1366×768 in headless Chromium (Debian's), with real pushes live: what a user sees first fits the
screen and says what it should. Screenshots of each page are saved under the test's tmp folder."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from liverecord.models import App
from recordings.choices import CallbackEvent, DeliveryStatus, FileStatus, SessionStatus
from recordings.models import CallbackDelivery, PublishSession, RecordTask, Snapshot
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.e2e.conftest import wait_until
from tests.e2e.test_admin_player import browser  # noqa: F401 - the Chromium fixture
from tests.support.media import push_generated, stop_push

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "e2e-console-password"
WIDTH, HEIGHT = 1366, 768
NOTE = "not recorded: no rule matches 127.0.0.1/live/unruled"
SECONDS = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")

OVERFLOW = """() => {
    const results = document.querySelector('#changelist .results');
    return {page: document.documentElement.scrollWidth, view: window.innerWidth,
            table: results ? results.scrollWidth : 0, box: results ? results.clientWidth : 0};
}"""


def world() -> tuple[App, dict[str, Any]]:
    app = App.objects.create(name="acme")
    Domain.objects.create(app=app, name="127.0.0.1", callback_url="http://127.0.0.1:9/cb")
    mp4 = RecordTemplate.objects.create(
        app=app, name="mp4", mp4_enabled=True, mp4_record_interval=600, snapshot={"enabled": True, "interval": 2}
    )
    RecordRule.objects.create(app=app, stream_name="class", template=mp4)
    for n in range(3):
        PublishSession.objects.create(
            app=app,
            domain_name="127.0.0.1",
            app_name="live",
            stream_name=f"yesterday-{n}",
            status=SessionStatus.ENDED,
            started_at=timezone.now(),
            ended_at=timezone.now(),
            ingest="127.0.0.1:1935",
            source_url="rtmp://127.0.0.1/live/x",
        )
    deliveries = {
        (stream, event): CallbackDelivery.objects.create(
            app=app,
            event_type=event,
            url="http://127.0.0.1:9/cb",
            body={"event_type": event, "stream_id": stream},
            status=DeliveryStatus.FAILED,
            attempts=6,
            last_error="connection refused",
        )
        for stream in ("lecture-hall-2", "gym")
        for event in (CallbackEvent.PUSH_STARTED, CallbackEvent.FILE_STORED)
    }
    return app, deliveries


def fits(page: Any, what: str) -> None:
    sizes = page.evaluate(OVERFLOW)
    assert sizes["page"] <= sizes["view"], (what, sizes)
    assert sizes["table"] <= sizes["box"], (what, sizes)


def no_save(page: Any, what: str) -> None:
    assert page.locator("input[name=_save], input[name=_continue], input[name=_addanother]").count() == 0, what


def test_the_console_fits_1366x768_and_says_what_it_should(
    browser: Any,  # noqa: F811 - the fixture imported above
    ingest: Any,
    live_server: Any,
    tmp_path: Path,
) -> None:
    _, deliveries = world()
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    pushes = [push_generated(ingest.rtmp_url(name), seconds=None, gop_frames=25) for name in ("class", "unruled")]
    shots = tmp_path / "screenshots"
    shots.mkdir()
    try:
        wait_until(
            lambda: (
                PublishSession.objects.filter(stream_name="class", status="live", bitrate__isnull=False).exists()
                and PublishSession.objects.filter(stream_name="unruled", status="live").exists()
                and Snapshot.objects.filter(stream_name="class", status=FileStatus.STORED).exists()
            ),
            30,
            "both pushes live, the recorded one measured and snapshotted",
        )
        context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")
        page.screenshot(path=shots / "index.png", full_page=True)
        captions = "els => els.map(e => e.textContent.trim())"
        sections = page.eval_on_selector_all("#content-main div.module caption", captions)
        assert sections[:4] == [
            "Tenants and API keys",
            "Recording templates",
            "Push domains, storage and rules",
            "Recordings",
        ], sections
        assert any("System" in s and "Celery beat" in s for s in sections[4:]), sections

        page.goto(f"{live_server.url}/admin/recordings/publishsession/")
        page.screenshot(path=shots / "live-sessions.png", full_page=True)
        rows = page.locator("#result_list tbody tr")
        assert rows.count() == 2, page.inner_text("#result_list")
        fits(page, "live sessions")
        assert NOTE in page.inner_text("#result_list")
        measured = page.inner_text("#result_list tbody tr:has-text('live/class')")
        assert "kb/s" in measured and "h264" in measured and "aac" in measured, measured
        # The recorded stream's newest snapshot is its thumbnail, loaded by the browser at the pushed size.
        thumb = page.locator("#result_list tbody tr:has-text('live/class') img.snapshot-thumb")
        assert thumb.evaluate("img => img.complete && img.naturalWidth") == 320
        assert page.locator("#result_list tbody tr:has-text('live/unruled') img.snapshot-thumb").count() == 0
        assert SECONDS.search(page.inner_text("#result_list td.field-started_at")), "times show seconds"
        page.click("#changelist-filter a:text-is('all')")
        assert page.locator("#result_list tbody tr").count() == 5
        page.screenshot(path=shots / "all-sessions.png", full_page=True)
        fits(page, "all sessions")

        session = PublishSession.objects.get(stream_name="class")
        page.goto(f"{live_server.url}/admin/recordings/publishsession/{session.pk}/change/")
        page.screenshot(path=shots / "session.png", full_page=True)
        no_save(page, "a session")

        task = RecordTask.objects.get(session=session)
        page.goto(f"{live_server.url}/admin/recordings/recordtask/")
        fits(page, "record tasks")
        page.goto(f"{live_server.url}/admin/recordings/recordtask/{task.pk}/change/")
        page.screenshot(path=shots / "task.png", full_page=True)
        no_save(page, "a task")
        assert page.locator("#object-action-stop").is_visible()

        page.goto(f"{live_server.url}/admin/recordings/callbackdelivery/")
        fits(page, "callback deliveries")
        page.fill("#changelist-filter input[name=stream]", "gym")
        page.press("#changelist-filter input[name=stream]", "Enter")
        page.wait_for_url(re.compile(r".*stream=gym.*"))
        page.click("#changelist-filter a:text-is('file stored')")
        page.screenshot(path=shots / "deliveries-filtered.png", full_page=True)
        listed = page.locator("#result_list tbody tr")
        assert listed.count() == 1, page.inner_text("#result_list")
        assert "gym" in listed.inner_text() and "stream=gym" in page.url

        delivery = deliveries[("gym", CallbackEvent.FILE_STORED)]
        page.goto(f"{live_server.url}/admin/recordings/callbackdelivery/{delivery.pk}/change/")
        no_save(page, "a delivery")
        page.click("#object-action-redeliver")
        page.wait_for_selector("ul.messagelist")
        page.screenshot(path=shots / "delivery-redelivered.png", full_page=True)
        assert "Queued 1 callback(s) again." in page.inner_text("ul.messagelist")
        delivery.refresh_from_db()
        assert delivery.attempts < 6

        page.goto(f"{live_server.url}/admin/recordings/recordfile/")
        fits(page, "recorded files")
        context.close()
    finally:
        for push in pushes:
            stop_push(push)
    assert sorted(p.name for p in shots.iterdir()) == [
        "all-sessions.png",
        "deliveries-filtered.png",
        "delivery-redelivered.png",
        "index.png",
        "live-sessions.png",
        "session.png",
        "task.png",
    ]
