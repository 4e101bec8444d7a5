"""Snapshots end to end: a rule whose template takes a JPEG every 3 s, a 14 s ffmpeg push through nginx-rtmp;
the JPEGs are stored, decode at the pushed size, are spaced by the interval, are announced by signed 200s to a
real receiver, and are listed (and filtered) at /api/v1/snapshots/."""

from __future__ import annotations

import json
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import av
import pytest
import requests

from recordings.choices import CallbackEvent, FileStatus, TaskStatus
from recordings.models import RecordFile, RecordTask, Snapshot
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.conftest import make_tenant
from tests.e2e.conftest import wait_until
from tests.support.hook_receiver import HookReceiver
from tests.support.media import push_generated
from workers.callbacks import SIGNATURE_HEADER, verify_signature

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
KEY = "e2e-snapshot-key"
INTERVAL = 3
PUSH_SECONDS = 14
CHUNK = 2.0  # the spool's chunk length: a snapshot is the first frame of the chunk nearest its due time


def signed_events(receiver: HookReceiver, event_type: int) -> list[dict[str, Any]]:
    found = []
    for request in receiver.requests:
        assert verify_signature(request.body, request.headers[SIGNATURE_HEADER.lower()], key=KEY, now=int(time.time()))
        body = json.loads(request.body)
        if body["event_type"] == event_type:
            found.append(body)
    return found


def test_a_push_makes_stored_signed_listed_snapshots(
    ingest: Any, live_server: Any, settings: Any, tmp_path: Path
) -> None:
    settings.LIVEREC_PUBLIC_URL = live_server.url  # pic_url points at this service's signed download
    tenant = make_tenant("e2e-snaps")
    with HookReceiver(status=200) as receiver:
        Domain.objects.create(app=tenant.app, name="127.0.0.1", callback_url=receiver.url("/cb"), callback_key=KEY)
        template = RecordTemplate.objects.create(
            app=tenant.app, name="snaps", snapshot={"enabled": True, "interval": INTERVAL, "storage_time": 3600}
        )
        RecordRule.objects.create(app=tenant.app, template=template)
        publisher = push_generated(ingest.rtmp_url("cam1"), seconds=PUSH_SECONDS, size="320x180", gop_frames=25)
        # The first one is stored and announced while the push is still live.
        first = wait_until(lambda: signed_events(receiver, CallbackEvent.SNAPSHOT_STORED), 10, "a first 200")
        assert publisher.poll() is None, "the first snapshot came only after the push"
        assert publisher.wait(timeout=30) == 0
        expected = PUSH_SECONDS // INTERVAL  # 4 or 5: due at 0, 3, 6, 9, 12 s, the last may fall past the end
        wait_until(lambda: RecordTask.objects.filter(status=TaskStatus.FINISHED).exists(), 30, "the recording's end")
        wait_until(lambda: not Snapshot.objects.exclude(status=FileStatus.STORED).exists(), 20, "every JPEG stored")
        wait_until(
            lambda: len(signed_events(receiver, CallbackEvent.SNAPSHOT_STORED)) == Snapshot.objects.count(),
            20,
            "one 200 per snapshot",
        )
        bodies = signed_events(receiver, CallbackEvent.SNAPSHOT_STORED)
    shots = list(Snapshot.objects.order_by("start_time"))
    assert expected <= len(shots) <= expected + 1
    assert first[0]["snapshot_id"] == shots[0].public_id
    assert not RecordFile.objects.exclude(format="jpg").exists()  # snapshots only: the template records no format
    for shot in shots:
        assert shot.status == FileStatus.STORED and shot.name.startswith("cam1_")
        assert shot.object_key.endswith(f"{shot.start_time:%Y%m%d%H%M%S}.jpg")
        assert shot.expire_at is not None  # its own storage_time
    by_id = {b["snapshot_id"]: b for b in bodies}
    decoded = []
    for shot in shots:
        body = by_id[shot.public_id]
        assert (body["width"], body["height"], body["file_size"]) == (320, 180, shot.size)
        assert body["task_id"] == shot.task.public_id and body["create_time"] == int(shot.start_time.timestamp())
        assert body["cloud_recording_id"] is None and body["room_id"] is None
        data = requests.get(body["pic_url"], timeout=10).content
        assert len(data) == shot.size and data[:2] == b"\xff\xd8"
        path = tmp_path / f"{shot.public_id}.jpg"
        path.write_bytes(data)
        with av.open(str(path)) as jpeg:
            frame = next(jpeg.decode(video=0))
        decoded.append((frame.width, frame.height))
    assert set(decoded) == {(320, 180)}
    gaps = [(b.start_time - a.start_time).total_seconds() for a, b in pairwise(shots)]
    assert all(abs(g - INTERVAL) <= CHUNK / 2 + 0.2 for g in gaps), gaps
    assert sum(gaps) / len(gaps) == pytest.approx(INTERVAL, abs=0.6)

    api = tenant.client
    listed = api.get("/api/v1/snapshots/", {"stream_name": "cam1"}).json()
    assert listed["count"] == len(shots)
    row = listed["results"][0]
    assert set(row) >= {
        "id",
        "task",
        "cloud_recording",
        "domain",
        "app_name",
        "stream_name",
        "room_id",
        "user_id",
        "time",
        "width",
        "height",
        "size",
        "status",
        "url",
        "object_key",
    }
    since = int(shots[len(shots) // 2].start_time.timestamp())  # unix seconds, as the filters take them
    after = api.get("/api/v1/snapshots/", {"time_after": since}).json()
    assert 0 < after["count"] == sum(1 for s in shots if s.start_time.timestamp() >= since) < len(shots)
    assert api.get("/api/v1/snapshots/", {"task": shots[0].task.public_id}).json()["count"] == len(shots)
    assert api.get("/api/v1/snapshots/", {"stream_name": "other"}).json()["count"] == 0
    assert api.get("/api/v1/files/").json()["count"] == 0  # snapshots are not files in the API
    assert api.delete(f"/api/v1/snapshots/{shots[0].public_id}/").status_code == 204
    assert not Snapshot.objects.filter(pk=shots[0].pk).exists()
