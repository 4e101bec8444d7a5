"""Files reach storage safely: a real S3 server on loopback (moto) and a real callback receiver; no patching."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.utils import timezone

from recordings.choices import CallbackEvent, DeliveryStatus, FileStatus
from recordings.models import CallbackDelivery, PublishSession, RecordFile, RecordTask
from recordings.services import (
    PackagedResult,
    callback_attempt,
    record_file_backup,
    record_file_store,
    record_file_upload,
    record_files_expire,
    record_files_retry_backups,
)
from rules.models import Domain, StorageTarget
from tests.conftest import Tenant
from tests.support.hangup import HangUp
from tests.support.hook_receiver import HookReceiver
from tests.support.ports import free_port
from tests.support.s3 import ACCESS_KEY, SECRET_KEY, S3Server, start_s3_server
from workers.callbacks import SIGNATURE_HEADER, SIGNATURE_TTL, legacy_sign, verify_signature

CALLBACK_KEY = "callback-key-for-tests"
T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db


@pytest.fixture
def dirs(tmp_path: Path) -> Iterator[Path]:
    with override_settings(LIVEREC_MEDIA_DIR=tmp_path / "media", LIVEREC_SPOOL_DIR=tmp_path / "spool"):
        yield tmp_path


@pytest.fixture
def s3() -> Iterator[S3Server]:
    """moto keeps its state per process, so each test gets a bucket of its own (``BUCKET`` is set per test)."""
    server = start_s3_server()
    server.client().create_bucket(Bucket=bucket_name())  # type: ignore[attr-defined]
    yield server
    server.server.stop()


def bucket_name() -> str:
    return f"rec-{os.environ['PYTEST_CURRENT_TEST'].split('::')[-1].split(' ')[0].replace('_', '-')[:40]}"


@pytest.fixture
def receiver() -> Iterator[HookReceiver]:
    with HookReceiver(status=200) as hooks:
        yield hooks


def make_world(tenant: Tenant, receiver: HookReceiver, s3: S3Server | None) -> RecordTask:
    target = None
    if s3 is not None:
        target = StorageTarget.objects.create(
            app=tenant.app,
            name="s3",
            provider="s3",
            bucket=bucket_name(),
            region="us-east-1",
            endpoint_url=s3.endpoint_url,
            path_style=True,
            access_key_id=ACCESS_KEY,
            secret_access_key=SECRET_KEY,
            prefix="live",
            presign_seconds=600,
        )
    domain = Domain.objects.create(
        app=tenant.app, name="push.tv", storage=target, callback_url=receiver.url("/cb"), callback_key=CALLBACK_KEY
    )
    session = PublishSession.objects.create(
        app=tenant.app,
        domain=domain,
        domain_name="push.tv",
        app_name="live",
        stream_name="s1",
        started_at=T0,
        ingest="127.0.0.1:1935",
        source_url="rtmp://127.0.0.1:1935/live/s1",
        stream_param="txTime=1",
    )
    return RecordTask.objects.create(
        app=tenant.app,
        kind="rule",
        domain="push.tv",
        app_name="live",
        stream_name="s1",
        session=session,
        formats={"mp4": {"record_interval": 60, "storage_time": 3600}},
    )


def packaged(dirs: Path, payload: bytes, name: str = "s1_take") -> PackagedResult:
    path = dirs / "engine-out" / f"{name}.mp4"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)
    return PackagedResult(
        format="mp4",
        path=path,
        start=T0,
        end=T0 + timedelta(seconds=60),
        duration=60.0,
        size=len(payload),
        video_codec="h264",
        audio_codec="aac",
        width=640,
        height=360,
        error=None,
    )


def deliver_all() -> None:
    for delivery in CallbackDelivery.objects.filter(status=DeliveryStatus.PENDING):
        callback_attempt(delivery_id=delivery.pk)


def bodies(receiver: HookReceiver, event_type: int) -> list[dict[str, Any]]:
    found = []
    for request in receiver.requests:
        body = json.loads(request.body)
        if body["event_type"] == event_type:
            signed_at = body["t"] - SIGNATURE_TTL  # checked as a receiver would the moment it arrived
            assert verify_signature(
                request.body, request.headers[SIGNATURE_HEADER.lower()], key=CALLBACK_KEY, now=signed_at
            )
            assert body["sign"] == legacy_sign(CALLBACK_KEY, body["t"])
            found.append(body)
    return found


def test_a_file_is_uploaded_verified_and_announced(
    tenant: Tenant, dirs: Path, s3: S3Server, receiver: HookReceiver
) -> None:
    task = make_world(tenant, receiver, s3)
    payload = b"\x00mp4" * 5000
    file = record_file_store(task=task, result=packaged(dirs, payload), name="s1_take")
    assert file.status == FileStatus.UPLOADING and Path(file.local_path).is_file()
    assert record_file_upload(file_id=file.pk).stored
    file.refresh_from_db()
    assert (file.status, file.object_key, file.local_path) == (FileStatus.STORED, "live/s1_take.mp4", "")
    assert file.expire_at == file.stored_at + timedelta(seconds=3600)
    stored = s3.client().get_object(Bucket=bucket_name(), Key="live/s1_take.mp4")["Body"].read()  # type: ignore[attr-defined]
    assert stored == payload
    assert not (dirs / "spool" / "files" / file.public_id).exists(), (
        "the local copy goes once the stored one is verified"
    )

    url = tenant.client.get(f"/api/v1/files/{file.public_id}/").json()["url"]
    assert "X-Amz-Signature" in url and requests.get(url, timeout=10).content == payload

    deliver_all()
    (body,) = bodies(receiver, CallbackEvent.FILE_STORED)
    assert (body["file_id"], body["file_format"], body["task_id"], body["file_size"]) == (
        file.public_id,
        "mp4",
        task.public_id,
        len(payload),
    )
    assert (body["appid"], body["app"], body["appname"], body["stream_id"], body["channel_id"]) == (
        tenant.app.pk,
        "push.tv",
        "live",
        "s1",
        "s1",
    )
    assert body["start_time"] == int(T0.timestamp()) and body["duration"] == 60.0
    assert body["video_url"].startswith(s3.endpoint_url)
    assert json.loads(body["callback_ext"])["video_codec"] == "h264"
    assert body["stream_param"] == "txTime=1"


@override_settings(LIVEREC_BACKUP_RETRY_SECONDS=1)
def test_storage_down_goes_to_backup_then_is_stored(
    tenant: Tenant, dirs: Path, s3: S3Server, receiver: HookReceiver
) -> None:
    task = make_world(tenant, receiver, s3)
    payload = b"precious" * 1000
    file = record_file_store(task=task, result=packaged(dirs, payload), name="s1_down")
    port = s3.port
    s3.stop()

    with HangUp(port) as down:
        outcome = record_file_upload(file_id=file.pk)
    assert not outcome.stored and outcome.retryable
    assert down.connections == 2, "fails fast: the target's 2 attempts, then the task's own retries take over"
    record_file_backup(file_id=file.pk, error=outcome.error)
    file.refresh_from_db()
    assert file.status == FileStatus.BACKUP and Path(file.local_path).read_bytes() == payload
    deliver_all()
    (backup,) = bodies(receiver, CallbackEvent.FILE_BACKUP)
    assert "storage unavailable" in backup["error"]
    assert file.backup_since is not None and file.next_retry_at is not None
    assert backup["next_retry"] == int(file.next_retry_at.timestamp()) and file.next_retry_at > file.backup_since

    s3.server = start_s3_server(port).server
    s3.client().create_bucket(Bucket=bucket_name())  # type: ignore[attr-defined]
    assert record_files_retry_backups(now=timezone.now() + timedelta(seconds=5)) == {"retried": 1, "failed": 0}
    assert record_file_upload(file_id=file.pk).stored
    file.refresh_from_db()
    assert file.status == FileStatus.STORED
    assert s3.client().get_object(Bucket=bucket_name(), Key="live/s1_down.mp4")["Body"].read() == payload  # type: ignore[attr-defined]
    deliver_all()
    assert len(bodies(receiver, CallbackEvent.FILE_STORED)) == 1


@override_settings(LIVEREC_BACKUP_RETENTION=60)
def test_a_backup_is_given_up_after_the_retention(tenant: Tenant, dirs: Path, receiver: HookReceiver) -> None:
    task = make_world(tenant, receiver, None)
    file = record_file_store(task=task, result=packaged(dirs, b"x"), name="old")
    record_file_backup(file_id=file.pk, error="down")
    assert record_files_retry_backups(now=timezone.now() + timedelta(seconds=61))["failed"] == 1
    file.refresh_from_db()
    assert file.status == FileStatus.FAILED and Path(file.local_path).exists(), "failed, but the bytes stay on disk"


def test_callbacks_retry_until_a_2xx_and_log_every_attempt(tenant: Tenant, dirs: Path, receiver: HookReceiver) -> None:
    task = make_world(tenant, receiver, None)
    answers = iter([500, 500, 200])
    receiver.handler = lambda request: next(answers)
    file = record_file_store(task=task, result=packaged(dirs, b"abc"), name="cb")
    record_file_upload(file_id=file.pk)
    delivery = CallbackDelivery.objects.get(event_type=CallbackEvent.FILE_STORED)
    delays = [callback_attempt(delivery_id=delivery.pk) for _ in range(3)]
    assert 48 <= delays[0] <= 72 and 120 <= delays[1] <= 180 and delays[2] is None, "backoff with ±20 % jitter"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 3)
    assert [a.status_code for a in delivery.attempt_log.all()] == [500, 500, 200]
    assert len(receiver.requests) == 3
    assert len({json.loads(r.body)["event_id"] for r in receiver.requests}) == 1, "one event id across retries"
    api = tenant.client.get("/api/v1/callback-deliveries/", {"event_type": 100}).json()["results"]
    assert [a["status_code"] for a in api[0]["attempt_log"]] == [500, 500, 200]


def test_a_receiver_that_is_down_is_retried_then_failed(tenant: Tenant, dirs: Path, receiver: HookReceiver) -> None:
    task = make_world(tenant, receiver, None)
    Domain.objects.filter(name="push.tv").update(callback_url=f"http://127.0.0.1:{free_port()}/cb")  # nobody listens
    with override_settings(LIVEREC_CALLBACK_ATTEMPTS=3):
        file = record_file_store(task=task, result=packaged(dirs, b"abc"), name="down")
        record_file_upload(file_id=file.pk)
        delivery = CallbackDelivery.objects.get(event_type=CallbackEvent.FILE_STORED)
        for _ in range(3):
            callback_attempt(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert delivery.last_error
    response = tenant.client.post(f"/api/v1/callback-deliveries/{delivery.event_id}/redeliver/")
    assert (response.status_code, response.json()["status"], response.json()["attempts"]) == (200, "pending", 0)


def test_retention_deletes_the_stored_object(tenant: Tenant, dirs: Path, s3: S3Server, receiver: HookReceiver) -> None:
    task = make_world(tenant, receiver, s3)
    file = record_file_store(task=task, result=packaged(dirs, b"bye"), name="expiring")
    record_file_upload(file_id=file.pk)
    assert record_files_expire(now=timezone.now() + timedelta(seconds=3601)) == 1
    file.refresh_from_db()
    assert file.status == FileStatus.EXPIRED
    listing = s3.client().list_objects_v2(Bucket=bucket_name(), Prefix="live/")  # type: ignore[attr-defined]
    assert listing.get("KeyCount", 0) == 0


def test_deleting_a_file_deletes_its_object(tenant: Tenant, dirs: Path, s3: S3Server, receiver: HookReceiver) -> None:
    task = make_world(tenant, receiver, s3)
    file = record_file_store(task=task, result=packaged(dirs, b"gone"), name="deleted")
    record_file_upload(file_id=file.pk)
    assert tenant.client.delete(f"/api/v1/files/{file.public_id}/").status_code == 204
    assert s3.client().list_objects_v2(Bucket=bucket_name()).get("KeyCount", 0) == 0  # type: ignore[attr-defined]


def test_retry_upload_needs_a_file_in_backup(tenant: Tenant, dirs: Path, receiver: HookReceiver) -> None:
    task = make_world(tenant, receiver, None)
    file = record_file_store(task=task, result=packaged(dirs, b"local"), name="local")
    record_file_upload(file_id=file.pk)
    file.refresh_from_db()
    assert file.status == FileStatus.STORED and Path(file.local_path).read_bytes() == b"local"
    response = tenant.client.post(f"/api/v1/files/{file.public_id}/retry-upload/")
    assert (response.status_code, response.json()["code"]) == (409, "conflict")
    other = record_file_store(task=task, result=packaged(dirs, b"again", name="again"), name="again")
    record_file_backup(file_id=other.pk, error="down")
    response = tenant.client.post(f"/api/v1/files/{other.public_id}/retry-upload/")
    assert (response.status_code, response.json()["status"]) == (200, "uploading")


def test_the_default_budget_is_six_attempts_over_about_an_hour(
    tenant: Tenant, dirs: Path, receiver: HookReceiver
) -> None:
    task = make_world(tenant, receiver, None)
    receiver.status = 503
    file = record_file_store(task=task, result=packaged(dirs, b"abc"), name="budget")
    record_file_upload(file_id=file.pk)
    delivery = CallbackDelivery.objects.get(event_type=CallbackEvent.FILE_STORED)
    delays = [callback_attempt(delivery_id=delivery.pk) for _ in range(6)]
    assert delays[-1] is None and all(d is not None for d in delays[:-1])
    assert 45 * 60 <= sum(d for d in delays if d is not None) <= 70 * 60
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.attempt_log.count()) == (DeliveryStatus.FAILED, 6, 6)


def test_the_file_page_shows_its_callback_history(tenant: Tenant, dirs: Path, receiver: HookReceiver) -> None:
    task = make_world(tenant, receiver, None)
    answers = iter([500, 200])
    receiver.handler = lambda request: next(answers)
    file = record_file_store(task=task, result=packaged(dirs, b"abc"), name="history")
    record_file_upload(file_id=file.pk)
    delivery = CallbackDelivery.objects.get(event_type=CallbackEvent.FILE_STORED)
    callback_attempt(delivery_id=delivery.pk)
    callback_attempt(delivery_id=delivery.pk)
    get_user_model().objects.create_superuser("root", "", "pw-for-tests-123")
    console = Client()
    console.login(username="root", password="pw-for-tests-123")
    page = console.get(f"/admin/recordings/recordfile/{file.pk}/change/").content.decode()
    history = page[page.index('id="callback-history"') :]
    assert delivery.event_id in history and "delivered" in history
    assert " 500; " in history and history.count(" 200") >= 1


def test_delivery_to_a_private_target_is_refused_when_not_allowed(
    tenant: Tenant, dirs: Path, receiver: HookReceiver, settings: Any
) -> None:
    task = make_world(tenant, receiver, None)
    file = record_file_store(task=task, result=packaged(dirs, b"abc"), name="ssrf")
    record_file_upload(file_id=file.pk)
    settings.LIVEREC_ALLOW_PRIVATE_CALLBACKS = False
    delivery = CallbackDelivery.objects.get(event_type=CallbackEvent.FILE_STORED)
    callback_attempt(delivery_id=delivery.pk)
    assert receiver.requests == [], "nothing was sent to the loopback receiver"
    assert delivery.attempt_log.get().error.startswith("refused: 127.0.0.1 is a private")


def test_an_upload_whose_message_died_is_queued_again_and_announced_once(
    tenant: Tenant, dirs: Path, receiver: HookReceiver
) -> None:
    task = make_world(tenant, receiver, None)
    file = record_file_store(task=task, result=packaged(dirs, b"stuck"), name="stuck")
    RecordFile.objects.filter(pk=file.pk).update(updated=timezone.now() - timedelta(seconds=301))
    assert record_files_retry_backups() == {"retried": 1, "failed": 0}
    assert record_files_retry_backups() == {"retried": 0, "failed": 0}, "not queued again while the retry is young"
    assert record_file_upload(file_id=file.pk).stored
    assert record_file_upload(file_id=file.pk).stored, "the original message, delivered late, finds it stored"
    assert CallbackDelivery.objects.filter(event_type=CallbackEvent.FILE_STORED).count() == 1
