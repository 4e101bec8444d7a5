"""The console's *Cloud recordings* at 1366×768 in headless Chromium, with real pushes into a room: Live sessions
show each push's room, a recording's page plays its files and shows its snapshots as a strip, and the
update-subscription and stop actions change the recording. Screenshots are saved under the test's tmp folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User

from liverecord.models import App
from recordings.choices import FINAL_TASK_STATUSES, FileStatus, SessionStatus
from recordings.models import PublishSession, RecordTask, Snapshot
from rooms.models import CloudRecordingStream
from rooms.services import cloud_recording_create
from rules.models import Domain
from tests.e2e.conftest import settled_files, wait_until
from tests.e2e.test_admin_player import browser  # noqa: F401 - the Chromium fixture
from tests.support.media import push_generated, stop_push

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PASSWORD = "e2e-rooms-console-password"
WIDTH, HEIGHT = 1366, 768
ROOM = "class7"
PUSHED_WIDTH = 320  # push_generated's default size is 320x240
PAGE_FITS = "() => ({page: document.documentElement.scrollWidth, view: window.innerWidth})"
STRIP = """() => [...document.querySelectorAll('#cloud-recording-snapshots .snapshot-strip img')].map(
    img => ({complete: img.complete, width: img.naturalWidth}))"""
PLAYERS = """() => [...document.querySelectorAll('#cloud-recording-files .recordfile-player')].map(
    el => ({player: el.dataset.player || '', error: el.dataset.playerError || '', ready: el.readyState,
            duration: el.duration}))"""


def fits(page: Any, what: str) -> None:
    sizes = page.evaluate(PAGE_FITS)
    assert sizes["page"] <= sizes["view"], (what, sizes)


def messages(page: Any) -> str:
    page.wait_for_selector("ul.messagelist")
    return str(page.inner_text("ul.messagelist"))


def test_cloud_recordings_in_the_console_with_a_live_room(
    browser: Any,  # noqa: F811 - the fixture imported above
    ingest: Any,
    live_server: Any,
    tmp_path: Path,
) -> None:
    app = App.objects.create(name="acme")
    Domain.objects.create(app=app, name="127.0.0.1")
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)
    recording = cloud_recording_create(
        app=app,
        domain="127.0.0.1",
        room_id=ROOM,
        formats={"mp4": {"record_interval": 3600}},
        snapshot={"interval": 2},
        max_idle_time=300,
    )
    detail = f"{live_server.url}/admin/rooms/cloudrecording/{recording.pk}/change/"
    shots = tmp_path / "screenshots"
    shots.mkdir()
    pushes = [
        push_generated(ingest.rtmp_url(name, query=f"room={ROOM}&user={user}"), seconds=12, gop_frames=25)
        for name, user in (("alice", "u1"), ("bob", "u2"))
    ]
    try:
        wait_until(
            lambda: (
                PublishSession.objects.filter(room_id=ROOM, status=SessionStatus.LIVE).count() == 2
                and CloudRecordingStream.objects.filter(recording=recording, task__isnull=False).count() == 2
                and Snapshot.objects.filter(task__cloud_recording_id=recording.public_id, status=FileStatus.STORED)
                .values("stream_name")
                .distinct()
                .count()
                == 2
            ),
            20,
            "both pushes live in the room, each recorded and snapshotted",
        )
        context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
        page = context.new_page()
        page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        page.fill("#id_username", "admin")
        page.fill("#id_password", PASSWORD)
        page.click("input[type=submit]")
        page.wait_for_url(f"{live_server.url}/admin/")

        # Live sessions: each push shows its room and user, the room links to the room's cloud recordings.
        page.goto(f"{live_server.url}/admin/recordings/publishsession/")
        page.screenshot(path=shots / "live-sessions.png", full_page=True)
        fits(page, "live sessions")
        rooms = page.eval_on_selector_all("#result_list td.field-room", "els => els.map(e => e.textContent.trim())")
        assert sorted(rooms) == [f"{ROOM} (u1)", f"{ROOM} (u2)"], rooms
        thumbs = page.eval_on_selector_all(
            "#result_list img.snapshot-thumb", "els => els.map(img => img.complete && img.naturalWidth)"
        )
        assert thumbs == [PUSHED_WIDTH, PUSHED_WIDTH], "each live stream's newest snapshot is its thumbnail"
        page.click("#result_list tr:has-text('live/alice') a.session-room")
        page.wait_for_url(f"**/admin/rooms/cloudrecording/?room_id={ROOM}")
        assert page.locator("#result_list tbody tr").count() == 1
        assert recording.public_id in page.inner_text("#result_list")

        # Update subscription while both are live: a refused one changes nothing, then bob's video is dropped.
        page.goto(detail)
        assert page.locator("input[name=_save]").count() == 0, "the page is read-only"
        page.fill("#id_subscribe_video", "alice")
        page.fill("#id_unsubscribe_video", "bob")
        page.click("#update-subscription")
        assert "unsubscribe_video: give subscribe_video or unsubscribe_video, not both" in messages(page)
        recording.refresh_from_db()
        assert (recording.subscribe_video, recording.unsubscribe_video) == (None, None)
        page.fill("#id_subscribe_video", "")
        page.fill("#id_unsubscribe_video", "bob")
        page.click("#update-subscription")
        assert "subscription updated" in messages(page)
        recording.refresh_from_db()
        assert recording.unsubscribe_video == ["bob"] and recording.status == "recording"
        assert page.input_value("#id_unsubscribe_video") == "bob", "the form shows the stored lists"
        bob = wait_until(
            lambda: (
                CloudRecordingStream.objects.filter(recording=recording, stream_name="bob", left_at__isnull=True)
                .filter(video=False, task__isnull=False)
                .first()
            ),
            10,
            "bob recorded again without video",
        )
        assert bob.audio

        for push in pushes:
            assert push.wait(timeout=30) == 0
        wait_until(
            lambda: (
                not RecordTask.objects.filter(cloud_recording_id=recording.public_id)
                .exclude(status__in=FINAL_TASK_STATUSES)
                .exists()
            ),
            30,
            "the room's tasks to end with the pushes",
        )
        files = settled_files(30, count=3, task__cloud_recording_id=recording.public_id, format="mp4")
        assert all(f.status == FileStatus.STORED for f in files)
        snapshots = Snapshot.objects.filter(task__cloud_recording_id=recording.public_id, status=FileStatus.STORED)
        assert snapshots.count() >= 4, "alice's and bob's video every 2 s"

        # The recording's page: every file with its player (metadata loaded), the snapshots as a strip.
        page.goto(detail)
        page.wait_for_function(
            "() => [...document.querySelectorAll('#cloud-recording-files .recordfile-player')]"
            ".every(el => el.readyState >= 1)",
            timeout=15000,
        )
        page.wait_for_function(
            "() => [...document.querySelectorAll('.snapshot-strip img')].every(img => img.complete)", timeout=15000
        )
        page.screenshot(path=shots / "cloud-recording.png", full_page=True)
        fits(page, "a cloud recording")
        players = page.evaluate(PLAYERS)
        assert len(players) == 3, players
        assert all(p["player"] == "native" and not p["error"] and p["duration"] > 1 for p in players), players
        assert page.locator("#cloud-recording-files video#recordfile-player-" + files[0].public_id).count() == 1
        strip = page.evaluate(STRIP)
        assert len(strip) == snapshots.count(), strip
        assert all(s["complete"] and s["width"] == PUSHED_WIDTH for s in strip), strip
        box = page.evaluate("() => document.querySelector('.snapshot-strip').getBoundingClientRect().right")
        assert box <= WIDTH, "the strip scrolls inside the page"
        streams = page.locator("#streams-group tbody tr.has_original")
        rows = [streams.nth(i).inner_text() for i in range(streams.count())]
        # Both pushes start together: either may have joined first (rows are in order of joining).
        assert sorted("u1" if "u1" in row else "u2" if "u2" in row else row for row in rows) == ["u1", "u2"], rows

        # Stop: the streams are gone, so the recording is finished at once; a second stop is refused.
        page.click("#object-action-stop")
        assert f"Cloud recording {recording.public_id}: finished." in messages(page)
        recording.refresh_from_db()
        assert (recording.status, recording.reason) == ("finished", "stopped")
        page.screenshot(path=shots / "cloud-recording-stopped.png", full_page=True)
        assert page.locator("#update-subscription").count() == 0, "no update once finished"
        page.click("#object-action-stop")
        assert "already finished" in messages(page)

        page.goto(f"{live_server.url}/admin/rooms/cloudrecording/")
        page.screenshot(path=shots / "cloud-recordings.png", full_page=True)
        fits(page, "cloud recordings")
        assert "finished" in page.inner_text("#result_list")
        context.close()
    finally:
        for push in pushes:
            stop_push(push)
    assert sorted(p.name for p in shots.iterdir()) == [
        "cloud-recording-stopped.png",
        "cloud-recording.png",
        "cloud-recordings.png",
        "live-sessions.png",
    ]
