"""Snapshots as files of format jpg: stored to S3 (moto) and verified, a 200 to a real receiver, backup without
a 101, retention by their own storage_time, the snapshots API (fields, filters, tenancy, DELETE), and the files
API, the file browser and a dead worker's resume point leaving them out."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.utils import timezone

from recordings.choices import CallbackEvent, FileStatus
from recordings.models import RecordFile, RecordTask, Snapshot
from recordings.services import (
    SnapshotResult,
    record_file_backup,
    record_file_store,
    record_file_upload,
    record_files_expire,
    snapshot_store,
    task_resume_point,
)
from tests.conftest import Tenant
from tests.recordings import test_uploads as uploads
from tests.recordings.test_uploads import T0, bodies, bucket_name, deliver_all, make_world, packaged
from tests.support.hook_receiver import HookReceiver
from tests.support.s3 import S3Server

pytestmark = pytest.mark.django_db
SAVE = re.compile(rb'name="_save"|name="_continue"')
dirs, s3, receiver = uploads.dirs, uploads.s3, uploads.receiver  # the upload tests' fixtures
JPEG = b"\xff\xd8\xff\xe0" + b"x" * 2000 + b"\xff\xd9"


def snap(dirs: Path, task: RecordTask, seconds: float, name: str | None = None) -> Snapshot:
    when = T0 + timedelta(seconds=seconds)
    name = name or f"s1_{when:%Y%m%d%H%M%S}"
    path = dirs / "engine-out" / f"{name}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(JPEG)
    row = snapshot_store(
        task=task, result=SnapshotResult(path=path, time=when, size=len(JPEG), width=640, height=360), name=name
    )
    return Snapshot.objects.get(pk=row.pk)


def with_snapshots(task: RecordTask, storage_time: int = 600) -> RecordTask:
    task.snapshot = {"interval": 10, "storage_time": storage_time}
    task.save()
    return task


def test_a_snapshot_is_stored_verified_and_announced_by_a_200(
    tenant: Tenant, dirs: Path, s3: S3Server, receiver: HookReceiver
) -> None:
    task = with_snapshots(make_world(tenant, receiver, s3))
    shot = snap(dirs, task, 0)
    assert (shot.format, shot.status, shot.storage_time) == ("jpg", FileStatus.UPLOADING, 600)
    assert record_file_upload(file_id=shot.pk).stored
    shot.refresh_from_db()
    assert shot.object_key == "live/s1_20261121080000.jpg" and shot.expire_at == shot.stored_at + timedelta(seconds=600)
    stored = s3.client().get_object(Bucket=bucket_name(), Key=shot.object_key)  # type: ignore[attr-defined]
    assert stored["Body"].read() == JPEG and stored["ContentType"] == "image/jpeg"
    deliver_all()
    assert bodies(receiver, CallbackEvent.FILE_STORED) == []
    (body,) = bodies(receiver, CallbackEvent.SNAPSHOT_STORED)
    assert {k: body[k] for k in ("snapshot_id", "create_time", "width", "height", "file_size", "task_id")} == {
        "snapshot_id": shot.public_id,
        "create_time": int(T0.timestamp()),
        "width": 640,
        "height": 360,
        "file_size": len(JPEG),
        "task_id": task.public_id,
    }
    assert body["cloud_recording_id"] is None and body["room_id"] is None
    assert (body["app"], body["appname"], body["stream_id"]) == ("push.tv", "live", "s1")
    assert requests.get(body["pic_url"], timeout=10).content == JPEG


def test_a_snapshot_in_backup_sends_no_101_and_expires_by_its_own_storage_time(
    tenant: Tenant, dirs: Path, receiver: HookReceiver
) -> None:
    task = with_snapshots(make_world(tenant, receiver, None), storage_time=60)
    shot = snap(dirs, task, 0)
    record_file_backup(file_id=shot.pk, error="storage unavailable: test")
    deliver_all()
    assert bodies(receiver, CallbackEvent.FILE_BACKUP) == [] and bodies(receiver, CallbackEvent.SNAPSHOT_STORED) == []
    assert record_file_upload(file_id=shot.pk).stored
    shot.refresh_from_db()
    assert Path(shot.local_path).read_bytes() == JPEG
    assert record_files_expire(now=timezone.now() + timedelta(seconds=61)) == 1
    shot.refresh_from_db()
    assert shot.status == FileStatus.EXPIRED and not list((dirs / "media").rglob("*.jpg"))


def test_the_snapshots_api_lists_filters_and_deletes(
    tenant: Tenant, other_tenant: Tenant, dirs: Path, receiver: HookReceiver
) -> None:
    task = with_snapshots(make_world(tenant, receiver, None))
    shots = [snap(dirs, task, s) for s in (0, 10, 20)]
    for shot in shots:
        record_file_upload(file_id=shot.pk)
    mp4 = record_file_store(task=task, result=packaged(dirs, b"mp4" * 100), name="s1_take")
    api = tenant.client
    body = api.get("/api/v1/snapshots/").json()
    assert [r["id"] for r in body["results"]] == [s.public_id for s in reversed(shots)]  # newest first
    row = body["results"][-1]
    assert {k: row[k] for k in ("task", "domain", "app_name", "stream_name", "width", "height", "size", "status")} == {
        "task": task.public_id,
        "domain": "push.tv",
        "app_name": "live",
        "stream_name": "s1",
        "width": 640,
        "height": 360,
        "size": len(JPEG),
        "status": "stored",
    }
    assert row["time"] == "2026-11-21T08:00:00Z" and row["url"] and row["object_key"].endswith(".jpg")
    assert (row["cloud_recording"], row["room_id"], row["user_id"]) == (None, None, None)

    def ids(**query: object) -> list[str]:
        response = api.get("/api/v1/snapshots/", query)
        assert response.status_code == 200, response.json()
        return sorted(r["id"] for r in response.json()["results"])

    assert ids(time_after=int(T0.timestamp()) + 5) == sorted(s.public_id for s in shots[1:])
    assert ids(time_before="2026-11-21T08:00:15Z", time_after="2026-11-21T08:00:05Z") == [shots[1].public_id]
    assert ids(task=task.public_id, domain="PUSH.tv", app_name="live", stream_name="s1") == sorted(
        s.public_id for s in shots
    )
    assert ids(stream_name="s2") == [] and ids(task="nope") == []
    bad = api.get("/api/v1/snapshots/", {"time_after": "yesterday"})
    assert bad.status_code == 400 and "time_after" in bad.json()["errors"]
    assert [f["id"] for f in api.get("/api/v1/files/").json()["results"]] == [mp4.public_id]
    assert api.get(f"/api/v1/files/{shots[0].public_id}/").status_code == 404
    assert api.get(f"/api/v1/snapshots/{mp4.public_id}/").status_code == 404
    assert other_tenant.client.get(f"/api/v1/snapshots/{shots[0].public_id}/").status_code == 404
    assert other_tenant.client.get("/api/v1/snapshots/").json()["count"] == 0
    local = Path(Snapshot.objects.get(pk=shots[0].pk).local_path)
    assert local.exists()
    assert api.delete(f"/api/v1/snapshots/{shots[0].public_id}/").status_code == 204
    assert not local.exists() and not RecordFile.objects.filter(pk=shots[0].pk).exists()
    assert api.post("/api/v1/snapshots/", {}, format="json").status_code == 405


@override_settings(LIVEREC_MIN_RECORD_INTERVAL=5)
def test_a_dead_workers_resume_point_ignores_snapshots(tenant: Tenant, dirs: Path, receiver: HookReceiver) -> None:
    task = with_snapshots(make_world(tenant, receiver, None))
    task.start_time = T0
    task.save()
    record_file_store(task=task, result=packaged(dirs, b"mp4" * 10), name="s1_take")  # ends at T0 + 60 s
    snap(dirs, task, 90)
    assert task_resume_point(task=task) == (T0 + timedelta(seconds=60)).timestamp()


@pytest.fixture
def console() -> Client:
    get_user_model().objects.create_superuser("root", "", "pw-for-tests-123")
    client = Client(raise_request_exception=True)
    client.login(username="root", password="pw-for-tests-123")
    return client


def test_live_sessions_show_the_newest_snapshot_and_the_admin_lists_them(
    tenant: Tenant, dirs: Path, receiver: HookReceiver, console: Client
) -> None:
    task = with_snapshots(make_world(tenant, receiver, None))
    shots = [snap(dirs, task, s) for s in (0, 10, 20)]
    for shot in shots[:2]:
        record_file_upload(file_id=shot.pk)  # the newest (20 s) is still uploading: not a thumbnail yet
    page = console.get("/admin/recordings/publishsession/").content.decode()
    thumbs = re.findall(r'<img class="snapshot-thumb" src="([^"]+)"', page)
    assert len(thumbs) == 1 and "s1_20261121080010.jpg" in thumbs[0]
    assert b"".join(console.get(html.unescape(thumbs[0])).streaming_content) == JPEG
    listing = console.get("/admin/recordings/snapshot/").content.decode()
    assert all(s.name in listing or s.public_id in listing for s in shots) and "640×360" in listing
    assert "s1_take" not in console.get("/admin/recordings/recordfile/").content.decode()
    record_file_store(task=task, result=packaged(dirs, b"mp4" * 10), name="s1_take")
    files = console.get("/admin/recordings/recordfile/").content.decode()
    assert "s1_take" in files and "s1_20261121080000" not in files  # the file browser leaves snapshots out
    detail = console.get(f"/admin/recordings/snapshot/{shots[0].pk}/change/")
    assert detail.status_code == 200 and b"snapshot-thumb" in detail.content and not SAVE.search(detail.content)
