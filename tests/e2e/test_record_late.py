"""Recorders that start late into a push nothing recorded (issue 16 items 1 and 2), through nginx-rtmp's record file.

Every packet's wallclock is when the ingest received it (the push's start plus its media timestamps), so a
highlight or a window that starts mid-push holds its own time range, not the backlog before it; and a push that
nothing records keeps only a few seconds of FLV on the ingest's disk.
"""

from __future__ import annotations

import json
import subprocess
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from recordings.models import PublishSession, RecordFile
from rules.models import Domain
from tests.e2e.conftest import settled_files, wait_until
from tests.e2e.test_record_tasks import api_client
from tests.support.media import push_generated

pytestmark = [pytest.mark.e2e]

FPS = 25
WHERE = {"domain": "127.0.0.1", "app_name": "live"}
FORMATS = {"mp4": {"record_interval": 3600}}


def video_frames(record: RecordFile) -> int:
    out = subprocess.run(
        [
            "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames",
            "-show_entries", "stream=nb_read_frames", "-of", "json", record.local_path,
        ],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return int(json.loads(out.stdout)["streams"][0]["nb_read_frames"])


def sleep_until(moment: Any) -> None:
    time.sleep(max(0.0, (moment - timezone.now()).total_seconds()))


def test_a_highlight_asked_mid_push_holds_its_own_seconds_only(ingest: Any) -> None:
    app, client = api_client()
    Domain.objects.create(app=app, name="127.0.0.1", lookback_seconds=0)
    publisher = push_generated(ingest.rtmp_url("late"), seconds=20, gop_frames=FPS)
    try:
        session = wait_until(lambda: PublishSession.objects.filter(stream_name="late").first(), 10, "the session")
        t0 = session.started_at
        sleep_until(t0 + timedelta(seconds=8))
        created = client.post(
            "/api/v1/record-tasks/",
            {**WHERE, "stream_name": "late", "highlight": True, "formats": FORMATS},
            format="json",
        )
        assert created.status_code == 201, created.json()
        sleep_until(t0 + timedelta(seconds=14))
        assert client.post(f"/api/v1/record-tasks/{created.json()['id']}/stop/").status_code == 200
        assert publisher.wait(timeout=30) == 0
    finally:
        publisher.kill()
    (clip,) = settled_files(count=1, task__public_id=created.json()["id"], format="mp4")
    frames = video_frames(clip)
    # About 6 s: from the first keyframe at or after the request (a 1 s GOP) to the stop; never the 8 s before.
    assert 5 * FPS - 2 <= frames <= 6 * FPS + 8, frames
    assert abs(clip.start_time.timestamp() - (t0 + timedelta(seconds=8)).timestamp()) < 1.5


def record_folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in folder.glob("*.flv"))


def test_a_push_nothing_records_keeps_a_few_seconds_on_the_ingest_disk(ingest: Any) -> None:
    app, _client = api_client()
    Domain.objects.create(app=app, name="127.0.0.1", lookback_seconds=0)
    assert ingest.record_dir is not None
    publisher = push_generated(
        ingest.rtmp_url("nobody"), seconds=40, gop_frames=FPS, bitrate="2500k", preset="ultrafast"
    )
    peak = 0
    try:
        wait_until(lambda: list(ingest.record_dir.glob("*.flv")), 10, "nginx's record file")
        while publisher.poll() is None:
            peak = max(peak, record_folder_bytes(ingest.record_dir))
            time.sleep(0.5)
        assert publisher.returncode == 0
    finally:
        publisher.kill()
    pushed = sum(p.stat().st_size for p in ingest.record_dir.glob("*.flv"))
    assert pushed > 8_000_000, pushed  # the push really was ~2.5 Mb/s for 40 s
    assert peak < 4_000_000, peak


@pytest.mark.slow
def test_a_window_opening_90_s_into_an_unrecorded_push_holds_its_window(ingest: Any, beat: Any) -> None:
    app, client = api_client()
    Domain.objects.create(app=app, name="127.0.0.1", lookback_seconds=0)
    publisher = push_generated(ingest.rtmp_url("window"), seconds=104, gop_frames=FPS)
    try:
        session = wait_until(lambda: PublishSession.objects.filter(stream_name="window").first(), 10, "the session")
        t0 = session.started_at
        created = client.post(
            "/api/v1/record-tasks/",
            {
                **WHERE,
                "stream_name": "window",
                "formats": FORMATS,
                "start_time": (t0 + timedelta(seconds=90)).isoformat(),
                "end_time": (t0 + timedelta(seconds=98)).isoformat(),
            },
            format="json",
        )
        assert created.status_code == 201, created.json()
        assert publisher.wait(timeout=130) == 0
    finally:
        publisher.kill()
    (record,) = settled_files(count=1, timeout=40, task__public_id=created.json()["id"], format="mp4")
    frames = video_frames(record)
    assert 7 * FPS - 2 <= frames <= 8 * FPS + 2, frames
