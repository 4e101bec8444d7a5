"""Every task claims its work: each one run twice at once (threads on PostgreSQL; one after the other on SQLite,
where writers queue on one lock) has one effect. Real S3 (moto, versioned bucket: a second upload would leave a
second version), a real callback receiver; no patching."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from recordings.choices import CallbackEvent, DeliveryStatus, FileStatus, TaskStatus
from recordings.models import CallbackDelivery, PublishSession, RecordFile, RecordTask
from recordings.services import (
    callbacks_resend_due,
    record_file_store,
    record_file_upload,
    record_files_retry_backups,
    task_windows_tick,
)
from tests.conftest import Tenant
from tests.recordings.test_uploads import bucket_name, dirs, make_world, packaged, receiver, s3  # noqa: F401
from tests.support.hook_receiver import HookReceiver
from tests.support.s3 import S3Server
from workers.engine import HlsPlaylistWriter
from workers.session_recorder import run_session_recorder
from workers.session_recorder.admission import recorder_slots
from workers.tasks import close_hls_playlist, deliver_callback, upload_file

pytestmark = pytest.mark.django_db(transaction=True)


def run_twice(job: Callable[[], object]) -> None:
    """Run ``job`` twice: at the same moment on two threads (PostgreSQL), or one after the other (SQLite)."""
    if connection.vendor == "sqlite":
        job()
        job()
        return
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait(timeout=10)
            job()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors


def versions(s3: S3Server, key: str) -> list[dict[str, Any]]:  # noqa: F811 - the fixture's type
    listing = s3.client().list_object_versions(Bucket=bucket_name(), Prefix=key)  # type: ignore[attr-defined]
    return list(listing.get("Versions", []))


def test_two_runs_of_one_upload_store_one_object(
    tenant: Tenant,
    dirs: Path,  # noqa: F811 - fixtures imported above
    s3: S3Server,  # noqa: F811
    receiver: HookReceiver,  # noqa: F811
) -> None:
    s3.client().put_bucket_versioning(  # type: ignore[attr-defined]
        Bucket=bucket_name(), VersioningConfiguration={"Status": "Enabled"}
    )
    task = make_world(tenant, receiver, s3)
    payload = bytes(range(256)) * 16384  # 4 MiB: long enough on the wire for the two runs to overlap
    file = record_file_store(task=task, result=packaged(dirs, payload), name="twice")

    run_twice(lambda: upload_file.apply(args=[file.pk]).get())

    file.refresh_from_db()
    assert (file.status, file.upload_attempts, file.upload_lease_until) == (FileStatus.STORED, 1, None)
    assert len(versions(s3, "live/twice.mp4")) == 1, "one PUT: the second run found the file claimed or stored"
    assert CallbackDelivery.objects.filter(event_type=CallbackEvent.FILE_STORED).count() == 1


def test_an_upload_claimed_by_a_live_run_is_left_alone_until_its_lease_is_over(
    tenant: Tenant,
    dirs: Path,  # noqa: F811
    receiver: HookReceiver,  # noqa: F811
) -> None:
    task = make_world(tenant, receiver, None)
    file = record_file_store(task=task, result=packaged(dirs, b"held"), name="held")
    now = timezone.now()
    RecordFile.objects.filter(pk=file.pk).update(
        upload_lease_until=now + timedelta(seconds=60), updated=now - timedelta(seconds=3600)
    )
    upload_file.apply(args=[file.pk]).get()
    file.refresh_from_db()
    assert (file.status, file.upload_attempts) == (FileStatus.UPLOADING, 0), "the other run holds it"
    assert record_files_retry_backups(now=now)["retried"] == 0, "a claimed upload is not stuck, however old its row"

    assert record_files_retry_backups(now=now + timedelta(seconds=61))["retried"] == 1, "its worker died: queued again"
    RecordFile.objects.filter(pk=file.pk).update(upload_lease_until=now - timedelta(seconds=1))
    upload_file.apply(args=[file.pk]).get()
    file.refresh_from_db()
    assert (file.status, file.upload_attempts, file.upload_lease_until) == (FileStatus.STORED, 1, None)


@override_settings(LIVEREC_UPLOAD_RETRY_DELAYS=[])
def test_every_failed_attempt_is_counted_and_lets_go_of_its_claim(
    tenant: Tenant,
    dirs: Path,  # noqa: F811
    s3: S3Server,  # noqa: F811
    receiver: HookReceiver,  # noqa: F811
) -> None:
    task = make_world(tenant, receiver, s3)
    file = record_file_store(task=task, result=packaged(dirs, b"down"), name="down")
    s3.stop()
    run_twice(lambda: upload_file.apply(args=[file.pk]).get())
    file.refresh_from_db()
    # Two runs at once: one claims and fails, the other finds it claimed (1), or finds it released (2).
    assert file.upload_attempts in ((1, 2) if connection.vendor != "sqlite" else (2,))
    assert (file.status, file.upload_lease_until) == (FileStatus.BACKUP, None)


def test_two_runs_of_one_callback_post_it_once(
    tenant: Tenant,
    dirs: Path,  # noqa: F811
    receiver: HookReceiver,  # noqa: F811
) -> None:
    task = make_world(tenant, receiver, None)
    receiver.delay = 0.3  # the first POST is still in flight when the second run looks at the delivery
    file = record_file_store(task=task, result=packaged(dirs, b"cb"), name="cb")
    record_file_upload(file_id=file.pk)  # stored: its 100 is the delivery this test sends
    delivery = CallbackDelivery.objects.get(event_type=CallbackEvent.FILE_STORED)

    run_twice(lambda: deliver_callback.apply(args=[delivery.pk]).get())

    assert len(receiver.requests) == 1, "one POST reached the receiver"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.attempt_log.count()) == (DeliveryStatus.DELIVERED, 1, 1)
    assert delivery.lease_until is None


def test_a_callback_claimed_by_a_live_attempt_is_not_resent(
    tenant: Tenant,
    dirs: Path,  # noqa: F811
    receiver: HookReceiver,  # noqa: F811
) -> None:
    task = make_world(tenant, receiver, None)
    file = record_file_store(task=task, result=packaged(dirs, b"cb"), name="cb2")
    record_file_upload(file_id=file.pk)
    delivery = CallbackDelivery.objects.get(event_type=CallbackEvent.FILE_STORED)
    now = timezone.now()
    CallbackDelivery.objects.filter(pk=delivery.pk).update(
        lease_until=now + timedelta(seconds=40), next_attempt_at=now - timedelta(seconds=120)
    )
    deliver_callback.apply(args=[delivery.pk]).get()
    assert receiver.requests == [] and callbacks_resend_due(now=now) == 0
    assert callbacks_resend_due(now=now + timedelta(seconds=41)) == 1, "the attempt died with its worker"


@pytest.fixture
def open_playlist(tenant: Tenant, dirs: Path) -> Iterator[RecordTask]:  # noqa: F811
    """A finished rule task whose HLS playlist waits, open, for a close (its reconnect window is over)."""
    playlist = HlsPlaylistWriter(dirs / "spool" / "tasks" / "t1" / "s1_open.m3u8")
    for seq in range(2):
        segment = playlist.path.parent / playlist.segment_name()
        segment.parent.mkdir(parents=True, exist_ok=True)
        segment.write_bytes(b"\x47" * 188 * (seq + 1))
        playlist.add_segment(segment.name, 2.0)
    start = timezone.now() - timedelta(seconds=60)
    yield RecordTask.objects.create(
        app=tenant.app,
        kind="rule",
        status=TaskStatus.FINISHED,
        domain="push.tv",
        app_name="live",
        stream_name="s1",
        formats={"hls": {"record_interval": 0, "storage_time": 0}},
        hls_continue_duration=30,
        hls_pending={"path": str(playlist.path), "start": start.timestamp(), "video_codec": "h264"},
    )


@pytest.mark.django_db  # in the test's transaction: the queued closes are captured, not sent
def test_beat_queues_the_close_of_an_open_playlist_once(
    open_playlist: RecordTask, django_capture_on_commit_callbacks: Any
) -> None:
    now = timezone.now()
    with django_capture_on_commit_callbacks() as queued:
        for tick in range(5):
            task_windows_tick(now=now + timedelta(seconds=2 * tick))
    assert len(queued) == 1, "one close queued, not one every 2 s"
    with django_capture_on_commit_callbacks() as queued:
        task_windows_tick(now=now + timedelta(seconds=61))
    assert len(queued) == 1, "still open after the lease: the close was lost, queued again"


def test_two_runs_of_one_close_store_one_playlist(open_playlist: RecordTask) -> None:
    run_twice(lambda: close_hls_playlist.apply(args=[open_playlist.pk]).get())
    (file,) = RecordFile.objects.filter(task=open_playlist)
    assert (file.format, file.status, file.duration) == ("hls", FileStatus.UPLOADING, 4.0)
    assert Path(file.local_path).read_text().rstrip().endswith("#EXT-X-ENDLIST")
    open_playlist.refresh_from_db()
    assert open_playlist.hls_pending is None and open_playlist.hls_close_lease_until is None


def test_a_full_worker_offers_a_recorder_again_later_each_time(tenant: Tenant) -> None:
    session = PublishSession.objects.create(
        app=tenant.app,
        domain_name="push.tv",
        app_name="live",
        stream_name="full",
        started_at=timezone.now(),
        ingest="127.0.0.1:1935",
        source_url="rtmp://127.0.0.1:1935/live/full",
    )
    slots = recorder_slots()
    taken = 0
    while slots.acquire(blocking=False):  # this worker is full
        taken += 1
    try:
        delays = [run_session_recorder(session.pk) for _ in range(23)]
    finally:
        for _ in range(taken):
            slots.release()
    assert all(d is not None and 0.8 <= d <= 1.2 for d in delays[:20]), "quick offers while a worker may be starting"
    for delay, base in zip(delays[20:], [2, 4, 8], strict=True):
        assert delay is not None and 0.8 * base <= delay <= 1.2 * base, "then backoff, not every second forever"
    session.refresh_from_db()
    assert session.recorder_refusals == 23 and "is full" in session.recorder_note
