"""A real push recorded to MP4, HLS and FLV really plays in the admin file page, in headless Chromium (Debian's)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

from liverecord.models import App
from recordings.choices import FileStatus, RecorderStatus
from recordings.models import PublishSession, RecordFile
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.e2e.conftest import wait_until
from tests.support.media import make_clip, push

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying Google's hosts, which this closed network refuses.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "e2e-admin-password"
PLAYED = 2.0
FORMATS = {"mp4", "hls", "flv"}


@pytest.fixture(scope="module")
def clip12(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip12.flv", seconds=12, gop_frames=25)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is missing (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
    # Playwright's sync API keeps an asyncio loop on this thread, and Django refuses ORM calls under a running loop.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def recorded_files(ingest: Any, clip: Path) -> dict[str, RecordFile]:
    app = App.objects.create(name="e2e")
    Domain.objects.create(app=app, name="127.0.0.1")
    template = RecordTemplate.objects.create(
        app=app, name="mp4+hls+flv", mp4_enabled=True, hls_enabled=True, flv_enabled=True
    )
    RecordRule.objects.create(app=app, template=template)

    publisher = push(ingest.rtmp_url("admin"), clip)
    assert publisher.wait(timeout=60) == 0
    session = wait_until(
        lambda: PublishSession.objects.filter(recorder_status__in=[RecorderStatus.DONE, RecorderStatus.FAILED]).first(),
        45,
        "the recorder to finish",
    )
    assert session.recorder_status == RecorderStatus.DONE, session.end_reason

    def all_stored() -> list[RecordFile] | None:
        rows = list(RecordFile.objects.order_by("-start_time"))
        done = {f.format for f in rows} == FORMATS and all(f.status == FileStatus.STORED for f in rows)
        return rows if done else None

    files = wait_until(all_stored, 30, "an MP4, an HLS playlist and an FLV stored")
    return {f.format: f for f in files}  # the first file of each format


def played_seconds(page: Any, url: str, timeout: float = 20) -> dict[str, Any]:
    """Open a file's admin page, start its player muted, and wait for playback to pass PLAYED seconds."""
    page.goto(url)
    page.locator("#recordfile-player").wait_for(state="attached")
    page.evaluate("() => { const v = document.getElementById('recordfile-player'); v.muted = true; v.play(); }")
    deadline = time.monotonic() + timeout
    while True:
        state: dict[str, Any] = page.evaluate(
            """() => {
                const v = document.getElementById('recordfile-player');
                return {currentTime: v.currentTime, player: v.dataset.player || null,
                        error: v.dataset.playerError || (v.error && v.error.code) || null,
                        readyState: v.readyState, duration: v.duration};
            }"""
        )
        if state["currentTime"] > PLAYED or state["error"] or time.monotonic() > deadline:
            return state
        page.wait_for_timeout(250)


def test_a_recorded_mp4_hls_playlist_and_flv_play_in_the_admin_file_page(
    browser: Any, ingest: Any, live_server: Any, clip12: Path
) -> None:
    files = recorded_files(ingest, clip12)
    User.objects.create_superuser("admin", "admin@example.com", PASSWORD)

    context = browser.new_context()
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")

    h264 = page.evaluate(
        """() => ({video: document.createElement('video').canPlayType('video/mp4; codecs="avc1.42E01E, mp4a.40.2"'),
                   mse: window.MediaSource ? MediaSource.isTypeSupported('video/mp4; codecs="avc1.42E01E"') : false})"""
    )
    assert h264["video"] and h264["mse"], f"this Chromium cannot decode H.264: {h264}"

    for fmt, how in (("mp4", "native"), ("hls", "hls.js"), ("flv", "mpegts.js")):
        page_url = reverse("admin:recordings_recordfile_change", args=[files[fmt].pk])
        state = played_seconds(page, f"{live_server.url}{page_url}")
        assert state["currentTime"] > PLAYED, (fmt, state, console)
        assert state["player"] == how, (fmt, state)
    # Issue 16 item 11: one correct AAC sequence header per FLV, so mpegts.js has nothing to reject.
    assert not [line for line in console if "Invalid AAC" in line], console
    context.close()
