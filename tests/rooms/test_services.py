"""Cloud recording services: streams of a room joining and leaving, limits, stop, subscription updates.

No media here (the recorder is mocked; tests/e2e/test_cloud_recordings.py pushes real RTMP); clocks are injected.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from liverecord.errors import ConflictError
from recordings.choices import CallbackEvent, TaskKind, TaskStatus
from recordings.models import CallbackDelivery, RecordTask
from recordings.services import session_close, session_recorder_finished
from rooms.choices import CloudStatus, EndReason
from rooms.models import CloudRecording
from rooms.services import (
    cloud_recording_create,
    cloud_recording_stop,
    cloud_recording_update_subscription,
    cloud_recordings_tick,
)
from rules.models import Domain
from tests.conftest import Tenant
from tests.rooms.conftest import push

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_recorder")]


def _events(event: int) -> list[dict[str, Any]]:
    return [d.body for d in CallbackDelivery.objects.filter(event_type=event).order_by("pk")]


def _create(tenant: Tenant, **kwargs: Any) -> CloudRecording:
    return cloud_recording_create(app=tenant.app, domain="push.example.com", room_id="class7", **kwargs)


def test_a_push_with_a_bad_room_is_in_no_room(domain: Domain) -> None:
    assert push("alice", "room=class 7&user=u1").room_id == ""
    assert push("bob", "room=" + "r" * 129).room_id == ""
    good = push("carol", "room=class7")
    assert (good.room_id, good.user_id) == ("class7", "carol")


def test_live_and_later_streams_of_the_room_get_their_own_task(tenant: Tenant, domain: Domain) -> None:
    push("alice", "room=class7&user=u1")
    push("outsider", "room=other")
    recording = _create(tenant)
    assert recording.status == CloudStatus.RECORDING
    bob = push("bob", "room=class7&user=u2")
    tasks = RecordTask.objects.filter(cloud_recording_id=recording.public_id).order_by("stream_name")
    assert [(t.stream_name, t.user_id, t.kind, t.status) for t in tasks] == [
        ("alice", "u1", TaskKind.CLOUD, TaskStatus.RECORDING),
        ("bob", "u2", TaskKind.CLOUD, TaskStatus.RECORDING),
    ]
    assert tasks[1].session_id == bob.pk
    assert tasks[0].file_name_template.startswith("{RoomID}_{UserID}_{StreamID}_")
    assert [s.stream_name for s in recording.streams.all()] == ["alice", "bob"]


def test_stream_type_and_lists_pick_each_streams_media(tenant: Tenant, domain: Domain) -> None:
    recording = _create(
        tenant,
        stream_type="audio_video_separate",
        subscribe_video=["alice"],
        unsubscribe_audio=["carol"],
        formats={"mp4": {"record_interval": 600}},
    )
    for name in ("alice", "bob", "carol"):
        push(name, "room=class7")
    rows = {row.stream_name: row for row in recording.streams.select_related("task")}
    assert (rows["alice"].audio, rows["alice"].video) == (True, True)
    assert rows["alice"].task.record_type == "noaudio"
    assert set(rows["alice"].task.formats) == {"mp4", "aac"}
    assert (rows["bob"].audio, rows["bob"].video) == (True, False)
    assert rows["bob"].task.record_type == "audio"
    assert (rows["carol"].audio, rows["carol"].video, rows["carol"].task) == (False, False, None)


def test_a_second_running_recording_of_the_room_is_a_conflict(tenant: Tenant, domain: Domain) -> None:
    first = _create(tenant)
    with pytest.raises(ConflictError):
        _create(tenant)
    cloud_recording_stop(recording=first)
    assert _create(tenant).status == CloudStatus.IDLE


def test_mixed_mode_and_unbuilt_options_are_refused(tenant: Tenant, domain: Domain) -> None:
    for kwargs, field in (({"mode": "mixed"}, "mode"), ({"fill_blank": True}, "fill_blank")):
        with pytest.raises(ValidationError) as refused:
            _create(tenant, **kwargs)
        assert field in refused.value.message_dict
    assert not CloudRecording.objects.exists()


def test_stop_ends_the_tasks_then_finishes_and_a_second_stop_is_409(tenant: Tenant, domain: Domain) -> None:
    session = push("alice", "room=class7")
    recording = _create(tenant)
    recording = cloud_recording_stop(recording=recording)
    assert recording.status == CloudStatus.STOPPING
    task = RecordTask.objects.get(cloud_recording_id=recording.public_id)
    assert task.status == TaskStatus.STOPPING
    with pytest.raises(ConflictError) as again:
        cloud_recording_stop(recording=recording)
    assert again.value.code == "already_stopped"
    session_recorder_finished(session_id=session.pk)
    cloud_recordings_tick()
    recording.refresh_from_db()
    assert (recording.status, recording.reason) == (CloudStatus.FINISHED, EndReason.STOPPED)
    assert [(b["status"], b["reason"]) for b in _events(CallbackEvent.CLOUD_RECORDING_STATUS)] == [
        ("idle", ""),
        ("recording", ""),
        ("stopping", "stopped"),
        ("finished", "stopped"),
    ]


def test_an_empty_room_sends_334s_then_ends_at_max_idle_time(tenant: Tenant, domain: Domain, settings: Any) -> None:
    settings.LIVEREC_ROOM_IDLE_CALLBACK_SECONDS = 30
    t0 = timezone.now()
    push("alice", "room=class7")
    recording = _create(tenant, max_idle_time=100, now=t0)
    session_close(host="push.example.com", app_name="live", stream_name="alice")
    left = recording.streams.get()
    assert left.left_at is not None
    for seconds in (2, 29, 31, 45, 61, 95):
        cloud_recordings_tick(now=left.left_at + timedelta(seconds=seconds))
    assert [b["idle_seconds"] for b in _events(CallbackEvent.ROOM_IDLE)] == [31, 61, 95]
    assert CloudRecording.objects.get().status == CloudStatus.RECORDING
    cloud_recordings_tick(now=left.left_at + timedelta(seconds=101))
    recording.refresh_from_db()
    assert (recording.status, recording.reason) == (CloudStatus.STOPPING, EndReason.MAX_IDLE_TIME)


def test_a_stream_coming_back_resets_the_idle_count(tenant: Tenant, domain: Domain) -> None:
    recording = _create(tenant, max_idle_time=5)
    cloud_recordings_tick(now=recording.created + timedelta(seconds=3))
    push("alice", "room=class7")
    cloud_recordings_tick(now=recording.created + timedelta(seconds=60))
    recording.refresh_from_db()
    assert recording.status == CloudStatus.RECORDING and recording.empty_since is None


def test_max_record_time_ends_a_recording_with_live_streams(tenant: Tenant, domain: Domain) -> None:
    push("alice", "room=class7")
    recording = _create(tenant, max_record_time=300)
    cloud_recordings_tick(now=recording.started_at + timedelta(seconds=299))
    assert CloudRecording.objects.get().status == CloudStatus.RECORDING
    cloud_recordings_tick(now=recording.started_at + timedelta(seconds=300))
    recording.refresh_from_db()
    assert (recording.status, recording.reason) == (CloudStatus.STOPPING, EndReason.MAX_RECORD_TIME)


def test_update_subscription_restarts_only_the_streams_whose_media_change(tenant: Tenant, domain: Domain) -> None:
    push("alice", "room=class7")
    push("bob", "room=class7")
    recording = _create(tenant)
    before = {row.stream_name: row.task_id for row in recording.streams.all()}
    cloud_recording_update_subscription(recording=recording, lists={"unsubscribe_video": ["bob"]})
    rows = {row.stream_name: row for row in recording.streams.select_related("task")}
    assert rows["alice"].task_id == before["alice"]
    assert rows["bob"].task_id != before["bob"]
    assert (rows["bob"].audio, rows["bob"].video, rows["bob"].task.record_type) == (True, False, "audio")
    assert RecordTask.objects.get(pk=before["bob"]).status == TaskStatus.STOPPING
    with pytest.raises(ValidationError):
        cloud_recording_update_subscription(
            recording=recording, lists={"subscribe_video": ["bob"], "unsubscribe_video": ["alice"]}
        )
    push("carol", "room=class7")
    assert recording.streams.get(stream_name="carol").video is True
    # A medium's new list replaces both of its lists; the other medium keeps its own.
    recording = cloud_recording_update_subscription(recording=recording, lists={"subscribe_video": ["carol"]})
    assert (recording.subscribe_video, recording.unsubscribe_video) == (["carol"], None)
    assert not recording.streams.get(stream_name="alice").video


def test_the_tasks_of_a_recording_with_snapshots_freeze_them(tenant: Tenant, domain: Domain) -> None:
    push("alice", "room=class7")
    recording = _create(tenant, snapshot={"interval": 10}, formats={})
    task = RecordTask.objects.get(cloud_recording_id=recording.public_id)
    assert (task.snapshot, task.formats) == ({"interval": 10, "storage_time": 0}, {})
    with pytest.raises(ValidationError) as refused:
        cloud_recording_create(app=tenant.app, domain="push.example.com", room_id="class8", formats={})
    assert "formats" in refused.value.message_dict


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"room_id": "class 7"}, "room_id"),
        ({"max_idle_time": 4}, "max_idle_time"),
        ({"max_record_time": 86401}, "max_record_time"),
        ({"subscribe_audio": [f"s{i}" for i in range(33)]}, "subscribe_audio"),
        ({"stream_type": "both"}, "stream_type"),
    ],
)
def test_the_service_checks_specs_bounds_whoever_calls(
    tenant: Tenant, domain: Domain, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        cloud_recording_create(app=tenant.app, domain="push.example.com", **{"room_id": "class7", **kwargs})
    assert field in refused.value.message_dict
