"""A room recorded in single mode through nginx-rtmp: three ffmpeg publishers with different subscriptions and
media types (one joining late), an update-subscription mid-push, and the end at max_idle_time, with 333 / 334 /
100 callbacks received and verified by a real receiver."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from recordings.choices import CallbackEvent
from recordings.models import CallbackDelivery, RecordFile
from rooms.models import CloudRecording
from rules.models import Domain
from tests.conftest import make_tenant
from tests.e2e.conftest import settled_files, wait_until
from tests.support.hook_receiver import HookReceiver
from tests.support.media import make_clip, probe, push, push_generated
from workers.callbacks import SIGNATURE_HEADER, verify_signature

pytestmark = [pytest.mark.e2e, pytest.mark.slow]
KEY = "room-callback-key"
ROOM = "class7"


@pytest.fixture
def fast_idle_callbacks() -> Iterator[None]:
    with override_settings(LIVEREC_ROOM_IDLE_CALLBACK_SECONDS=2):
        yield


def _kinds(path: str) -> list[str]:
    return sorted(s["codec_type"] for s in probe(path)["streams"])


def _duration(path: str) -> float:
    return float(probe(path)["format"]["duration"])


def _events(receiver: HookReceiver) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = {}
    for request in receiver.requests:
        header = request.headers[SIGNATURE_HEADER.lower()]
        assert verify_signature(request.body, header, key=KEY, now=int(time.time())), "every callback is signed"
        body = json.loads(request.body)
        found.setdefault(body["event_type"], []).append(body)
    return found


@pytest.mark.usefixtures("fast_idle_callbacks", "beat")
def test_a_room_in_single_mode_with_subscriptions_a_late_joiner_an_update_and_an_idle_end(ingest: Any) -> None:
    tenant = make_tenant("rooms-e2e")
    with HookReceiver(status=200) as receiver:
        Domain.objects.create(app=tenant.app, name="127.0.0.1", callback_url=receiver.url("/cb"), callback_key=KEY)
        made = tenant.client.post(
            "/api/v1/cloud-recordings/",
            {
                "domain": "127.0.0.1",
                "room_id": ROOM,
                "mode": "single",
                "subscribe_audio": ["alice", "carol"],  # bob: video only
                "unsubscribe_video": ["carol"],  # carol: audio only
                "formats": {"mp4": {"record_interval": 3600}},
                "max_idle_time": 5,
                "snapshot": {"interval": 4},
            },
            format="json",
        )
        assert made.status_code == 201, made.content
        rec_id = made.json()["id"]
        assert made.json()["status"] == "idle"
        alice = push_generated(ingest.rtmp_url("alice", query=f"room={ROOM}&user=u1"), seconds=12)
        bob = push_generated(ingest.rtmp_url("bob", query=f"room={ROOM}&user=u2"), seconds=12)
        time.sleep(4)
        carol = push_generated(ingest.rtmp_url("carol", query=f"room={ROOM}&user=u3"), seconds=7)
        time.sleep(3)
        # Alice's video is dropped from now: her first file ends here, an audio-only one follows.
        updated = tenant.client.post(
            f"/api/v1/cloud-recordings/{rec_id}/update-subscription/",
            {"unsubscribe_video": ["carol", "alice"]},
            format="json",
        )
        assert updated.status_code == 200, updated.content
        for publisher in (alice, bob, carol):
            assert publisher.wait(timeout=30) == 0
        ended = time.monotonic()
        recording = wait_until(
            lambda: (r := CloudRecording.objects.get(public_id=rec_id)).status == "finished" and r, 30, "the idle end"
        )
        assert recording.reason == "max_idle_time"
        assert 4.0 <= time.monotonic() - ended <= 16.0
        files = settled_files(30, count=4, task__cloud_recording_id=rec_id, format="mp4")
        # The 333s of the end are delivered in parallel with the files' 100s: wait for both.
        got = wait_until(
            lambda: (
                (e := _events(receiver))
                and len(e.get(CallbackEvent.FILE_STORED, [])) == 4
                and len(e.get(CallbackEvent.CLOUD_RECORDING_STATUS, [])) == 4
                and e
            ),
            30,
            "callbacks",
        )

    by_user: dict[str, list[RecordFile]] = {}
    for f in sorted(files, key=lambda f: f.start_time):
        by_user.setdefault(f.task.user_id, []).append(f)
    assert sorted(by_user) == ["u1", "u2", "u3"]
    first, second = by_user["u1"]
    assert _kinds(first.local_path) == ["audio", "video"]
    assert _kinds(second.local_path) == ["audio"], "after the update alice's video is no longer recorded"
    assert 10.0 <= _duration(first.local_path) + _duration(second.local_path) <= 13.0
    assert 2.0 <= _duration(first.local_path) <= 9.0
    (bob_file,) = by_user["u2"]
    assert _kinds(bob_file.local_path) == ["video"], "bob is not in subscribe_audio"
    assert 11.0 <= _duration(bob_file.local_path) <= 13.0
    (carol_file,) = by_user["u3"]
    assert _kinds(carol_file.local_path) == ["audio"], "carol's video is unsubscribed"
    assert 6.0 <= _duration(carol_file.local_path) <= 8.0, "the late joiner is recorded from when she joined"
    assert carol_file.name.startswith(f"{ROOM}_u3_carol_")

    # Deliveries run in parallel, so they may arrive in any order: the order is that of the events (rows).
    expected = [("idle", ""), ("recording", ""), ("stopping", "max_idle_time"), ("finished", "max_idle_time")]
    received = [(b["status"], b["reason"]) for b in got[CallbackEvent.CLOUD_RECORDING_STATUS]]
    assert sorted(received) == sorted(expected)
    sent = CallbackDelivery.objects.filter(event_type=CallbackEvent.CLOUD_RECORDING_STATUS).order_by("pk")
    assert [(d.body["status"], d.body["reason"]) for d in sent] == expected
    idle = got[CallbackEvent.ROOM_IDLE]
    assert idle and all(b["cloud_recording_id"] == rec_id and b["room_id"] == ROOM for b in idle)
    assert [b["idle_seconds"] for b in idle] == sorted(b["idle_seconds"] for b in idle) and idle[0]["idle_seconds"] >= 2
    for body in got[CallbackEvent.FILE_STORED]:
        assert (body["cloud_recording_id"], body["room_id"]) == (rec_id, ROOM)
        assert body["user_id"] == RecordFile.objects.get(public_id=body["file_id"]).task.user_id

    described = tenant.client.get(f"/api/v1/cloud-recordings/{rec_id}/").json()
    streams = {s["user_id"]: s for s in described["streams"]}
    assert (streams["u2"]["audio"], streams["u2"]["video"]) == (False, True)
    assert all(s["left_at"] for s in described["streams"]) and len(described["files"]) == 4
    # Snapshots every 4 s of each recorded stream (bob's video, alice's until the update), announced by 200s.
    shots = got.get(CallbackEvent.SNAPSHOT_STORED, [])
    assert described["snapshot_count"] >= 3 and len(shots) <= described["snapshot_count"]
    assert shots and all((b["cloud_recording_id"], b["room_id"]) == (rec_id, ROOM) for b in shots)
    assert {b["user_id"] for b in shots} <= {"u1", "u2", "u3"} and "u2" in {b["user_id"] for b in shots}


def test_a_stream_live_before_the_start_is_recorded_from_then_and_a_return_gets_new_files(
    ingest: Any, beat: Any
) -> None:
    tenant = make_tenant("rooms-e2e-return")
    Domain.objects.create(app=tenant.app, name="127.0.0.1")
    url = ingest.rtmp_url("alice", query=f"room={ROOM}&user=u1")
    first = push_generated(url, seconds=7)
    time.sleep(3)
    made = tenant.client.post(
        "/api/v1/cloud-recordings/",
        {"domain": "127.0.0.1", "room_id": ROOM, "mode": "single", "formats": {"mp4": {}}, "max_idle_time": 5},
        format="json",
    )
    assert made.status_code == 201 and made.json()["status"] == "recording", made.content
    rec_id = made.json()["id"]
    assert first.wait(timeout=30) == 0
    time.sleep(1)
    second = push_generated(url, seconds=5)
    assert second.wait(timeout=30) == 0
    wait_until(lambda: CloudRecording.objects.get(public_id=rec_id).status == "finished", 30, "the idle end")
    files = settled_files(30, count=2, task__cloud_recording_id=rec_id, format="mp4")
    before, after = sorted(files, key=lambda f: f.start_time)
    assert before.session_id != after.session_id and before.task_id != after.task_id
    assert 2.5 <= _duration(before.local_path) <= 5.5, "recorded from the start request, not from the push's start"
    assert 4.0 <= _duration(after.local_path) <= 6.0
    assert all(_kinds(f.local_path) == ["audio", "video"] for f in files)
    streams = tenant.client.get(f"/api/v1/cloud-recordings/{rec_id}/").json()["streams"]
    assert [s["stream_name"] for s in streams] == ["alice", "alice"] and all(s["left_at"] for s in streams)


def test_mute_split_of_an_audio_room_through_the_ingest(ingest: Any, beat: Any, tmp_path: Path) -> None:
    """A tone with silences (2-5 s, 7-7.5 s, 9-10.5 s) pushed into a room recorded as audio MP3 with mute_audio:
    the 3 s silence splits (two files), the 1.5 s one is dropped, the 0.5 s one kept."""
    silent = "volume=enable='between(t,2,5)+between(t,7,7.5)+between(t,9,10.5)':volume=0"
    clip = make_clip(tmp_path / "tone.flv", seconds=12, vcodec=None, extra_args=["-af", silent])
    tenant = make_tenant("rooms-e2e-mute")
    Domain.objects.create(app=tenant.app, name="127.0.0.1")
    made = tenant.client.post(
        "/api/v1/cloud-recordings/",
        {
            "domain": "127.0.0.1",
            "room_id": ROOM,
            "mode": "single",
            "stream_type": "audio",
            "formats": {"mp3": {"record_interval": 3600}},
            "mute_audio": {"skip": True, "split_after": 2},
            "max_idle_time": 5,
        },
        format="json",
    )
    assert made.status_code == 201, made.content
    rec_id = made.json()["id"]
    assert push(ingest.rtmp_url("speaker", query=f"room={ROOM}"), clip).wait(timeout=30) == 0
    wait_until(lambda: CloudRecording.objects.get(public_id=rec_id).status == "finished", 30, "the idle end")
    first, second = sorted(settled_files(30, count=2, task__cloud_recording_id=rec_id), key=lambda f: f.start_time)
    assert _kinds(first.local_path) == ["audio"] and probe(first.local_path)["streams"][0]["codec_name"] == "mp3"
    assert abs(_duration(first.local_path) - 2.0) < 0.35
    assert abs(_duration(second.local_path) - 5.5) < 0.45
