"""Writes on recorded files: record a finished deliverable, upload and verify it, back it up, expire, delete.

A file's bytes stay in its own folder of the local spool (``LIVEREC_SPOOL_DIR/files/<id>/``) until the
stored copy is verified; while storage is down that folder is the backup spool.
"""

from __future__ import annotations

import logging
import random
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from liverecord.errors import ConflictError
from liverecord.ops.metrics import UPLOAD_ATTEMPTS, UPLOAD_FAILURES
from recordings.choices import FileStatus
from recordings.dispatch import UPLOAD_FILE, send_after_commit
from recordings.file_locations import content_type, file_backend, file_key, is_local, object_key, storage_config
from recordings.models import RecordFile, RecordTask
from recordings.selectors import file_public_url
from recordings.services.callbacks import callback_file_status
from rules.models import StorageTarget
from templates_app.choices import Format
from workers.storage import MiB, StorageBackend, StorageError, StorageUnavailable, StoredObject, backend_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedResult:
    """A finished deliverable as the media engine reports it (``workers.session_recorder.results.packaged_result``
    is the one translation of the engine's ``PackagedFile``: ``recordings`` never imports PyAV)."""

    format: str
    path: Path | None
    start: datetime
    end: datetime
    duration: float
    size: int
    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    error: str | None


def _file_set(path: Path, fmt: str) -> list[Path]:
    """The files a deliverable is made of: an HLS playlist brings its segments (listed first)."""
    if fmt != Format.HLS:
        return [path]
    # The segments it lists: they keep the name the playlist had when it started (it is renamed at its end).
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [*(path.parent / line.strip() for line in lines if line.strip() and not line.startswith("#")), path]


def task_storage(task: RecordTask) -> StorageTarget | None:
    """Where a task's files go: its own target (a cloud recording's ``storage``), else its push domain's."""
    if task.storage_id is not None:
        return task.storage
    session = task.session
    return session.domain.storage if session is not None and session.domain is not None else None


def _staging_dir(file: RecordFile) -> Path:
    return Path(settings.LIVEREC_SPOOL_DIR) / "files" / file.public_id


def record_file_store(
    *, task: RecordTask, result: PackagedResult, name: str, storage_time: int | None = None
) -> RecordFile:
    """Record a finished file and queue its upload. A failed packaging gets a ``failed`` row with the reason.

    ``storage_time`` defaults to the task's for the file's format (a snapshot passes its own)."""
    if storage_time is None:
        storage_time = int(task.formats.get(result.format, {}).get("storage_time", 0))
    row = RecordFile(
        app_id=task.app_id,
        task=task,
        session_id=task.session_id,
        domain=task.domain,
        app_name=task.app_name,
        stream_name=task.stream_name,
        format=result.format,
        start_time=result.start,
        end_time=max(result.end, result.start),
        duration=result.duration,
        size=result.size,
        name=name,
        storage_time=storage_time,
        video_codec=(result.video_codec or "")[:32],
        audio_codec=(result.audio_codec or "")[:32],
        width=result.width,
        height=result.height,
        storage=task_storage(task),
    )
    if result.error or result.path is None:
        row.status = FileStatus.FAILED
        row.error = result.error or "no file was produced"
        row.save()
        return row
    staging = _staging_dir(row)
    row.local_path = str(staging / result.path.name)
    row.status = FileStatus.UPLOADING
    # The row first: if the database is down this raises before any file moved, so the caller can try again.
    row.save()
    staging.mkdir(parents=True, exist_ok=True)
    parts = _file_set(result.path, result.format)
    for part in parts if result.format == Format.HLS else []:  # the live HLS upload's ledger, by its start name
        result.path.with_name(f".{part.stem.rsplit('_', 1)[0]}.stored").unlink(missing_ok=True)
    for source in parts:
        shutil.move(str(source), staging / source.name)
    _dispatch_upload(row.pk)
    return row


def _dispatch_upload(file_id: int) -> None:
    send_after_commit(UPLOAD_FILE, file_id)


@dataclass(frozen=True)
class UploadOutcome:
    stored: bool
    error: str = ""
    retryable: bool = False


def record_file_upload(*, file_id: int) -> UploadOutcome:
    """Upload a file (an HLS playlist after its segments), verify every part, then drop the local copy."""
    file = RecordFile.objects.select_related("storage", "task", "session").filter(pk=file_id).first()
    if file is None or file.status not in (FileStatus.UPLOADING, FileStatus.BACKUP):
        return UploadOutcome(stored=file is not None and file.status == FileStatus.STORED)
    local = Path(file.local_path)
    parts = _file_set(local, file.format)
    if not all(p.exists() for p in parts):
        missing = ", ".join(p.name for p in parts if not p.exists())
        return UploadOutcome(stored=False, error=f"local copy missing: {missing}")
    lease = _upload_claim(file.pk, size=sum(p.stat().st_size for p in parts))
    if lease is None:
        return UploadOutcome(stored=False)  # another run holds it (or just stored it): nothing to do here
    backend = file_backend(file)
    UPLOAD_ATTEMPTS.labels(file.format).inc()
    try:
        stored = None
        for part in parts:
            key = file_key(file, None if part == local else part.name)
            stored = _already_stored(backend, part, key) if part != local else None
            stored = stored or backend.upload(part, key, content_type=content_type(part))
        if file.format == Format.HLS and len(parts) > 1:
            # The live upload stored the playlist under the name it started with; it was renamed at its end.
            live_name = f"{parts[0].stem.rsplit('_', 1)[0]}.m3u8"
            if live_name != local.name:
                backend.delete(file_key(file, live_name))
    except StorageUnavailable as exc:
        _upload_release(file.pk, lease)
        UPLOAD_FAILURES.labels(file.format).inc()
        return UploadOutcome(stored=False, error=f"storage unavailable: {exc}", retryable=True)
    except (StorageError, ValueError, OSError) as exc:
        _upload_release(file.pk, lease)
        UPLOAD_FAILURES.labels(file.format).inc()
        return UploadOutcome(stored=False, error=f"{type(exc).__name__}: {exc}", retryable=True)
    assert stored is not None
    now = timezone.now()
    with transaction.atomic():
        file = (
            RecordFile.objects.select_for_update(of=("self",))
            .select_related("storage", "task", "session")
            .get(pk=file_id)
        )
        if file.status == FileStatus.STORED:
            return UploadOutcome(stored=True)  # a second upload of the same file (a re-queued one): one 100 only
        file.status = FileStatus.STORED
        file.object_key = backend.object_name(file_key(file))
        file.checksum = (stored.checksum or stored.etag or "")[:160]
        file.stored_at = now
        file.expire_at = now + timedelta(seconds=file.storage_time) if file.storage_time else None
        file.error, file.next_retry_at, file.upload_lease_until = "", None, None
        if is_local(file):
            file.local_path = str(Path(settings.LIVEREC_MEDIA_DIR) / file.object_key)
        else:
            file.local_path = ""
        file.save()
        callback_file_status(file=file, video_url=file_public_url(file) or "")
    shutil.rmtree(local.parent, ignore_errors=True)
    return UploadOutcome(stored=True)


def _upload_claim(file_id: int, *, size: int) -> datetime | None:
    """Claim a file for one upload (Sentry/Saleor: a conditional update, so two runs of the job upload once).

    The claim is a lease: a worker killed mid-upload holds the file only until it is over, then beat queues the
    upload again. It lasts ``LIVEREC_UPLOAD_LEASE_SECONDS`` plus a second per MiB (a slow store must not see a
    large file uploaded twice at once). The attempt is counted in the same statement (``F()``: two workers never
    lose one another's count). Returns the lease, or None when another run holds the file.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.LIVEREC_UPLOAD_LEASE_SECONDS + size / MiB)
    claimed = (
        RecordFile.objects.filter(pk=file_id, status__in=(FileStatus.UPLOADING, FileStatus.BACKUP))
        .filter(Q(upload_lease_until__isnull=True) | Q(upload_lease_until__lte=now))
        .update(upload_lease_until=lease, upload_attempts=F("upload_attempts") + 1, updated=now)
    )
    return lease if claimed else None


def _upload_release(file_id: int, lease: datetime) -> None:
    """A failed attempt lets go of its claim at once, so its retry (or the backup spool's) can take the file."""
    RecordFile.objects.filter(pk=file_id, upload_lease_until=lease).update(upload_lease_until=None)


def _already_stored(backend: StorageBackend, part: Path, key: str) -> StoredObject | None:
    """An HLS segment uploaded while the recording was live is not sent again if the stored copy is verified."""
    try:
        return backend.verify(part, key)
    except StorageError:
        return None


def task_hls_sync(*, task: RecordTask, playlist: Path) -> int:
    """Upload the segments an HLS recording has made so far, then its (growing) playlist; returns segments sent.

    Runs on queue ``io`` while the recording goes on, so the stored playlist follows the live one. Which segments
    are already stored is kept beside the playlist (``.<name>.stored``); the final upload verifies them again.
    """
    if not playlist.exists():
        return 0
    backend = backend_for(storage_config(task_storage(task), app_id=task.app_id))
    ledger = playlist.with_name(f".{playlist.stem}.stored")
    try:
        done = set(ledger.read_text().split())
    except FileNotFoundError:
        done = set()
    sent = 0
    for segment in sorted(playlist.parent.glob(f"{playlist.stem}_*.ts")):
        if segment.name in done:
            continue
        if not _upload_if_still_there(backend, segment, object_key(playlist.stem, "m3u8", segment.name)):
            continue  # the recording finished meanwhile: its final upload owns the playlist now
        done.add(segment.name)
        sent += 1
    try:
        ledger.write_text("\n".join(sorted(done)))
    except FileNotFoundError:
        return sent
    _upload_if_still_there(backend, playlist, object_key(playlist.stem, "m3u8"))
    return sent


def _upload_if_still_there(backend: StorageBackend, path: Path, key: str) -> bool:
    """Upload a file of a live playlist; False, not an error, when it is gone: a sync that ran late (a loaded
    box) finds the segments of a finished recording moved or deleted by the final upload, which sends them."""
    try:
        backend.upload(path, key, content_type=content_type(path))
    except (OSError, StorageError):
        if path.exists():
            raise
        log.info("live HLS upload: %s is gone (the recording finished); left to the final upload", path.name)
        return False
    return True


def record_file_backup(*, file_id: int, error: str) -> None:
    """Storage failed after the quick retries: keep the file in the backup spool and retry it for days (101)."""
    now = timezone.now()
    with transaction.atomic():
        file = RecordFile.objects.select_for_update(of=("self",)).select_related("task", "session").get(pk=file_id)
        if file.status == FileStatus.STORED:
            return
        entering = file.status != FileStatus.BACKUP
        file.status = FileStatus.BACKUP
        file.error = error[:2000]
        file.backup_since = file.backup_since or now
        jitter = random.uniform(0.8, 1.2)
        file.next_retry_at = now + timedelta(seconds=settings.LIVEREC_BACKUP_RETRY_SECONDS * jitter)
        file.save()
        if entering:
            callback_file_status(file=file, video_url="", error=file.error, next_retry=file.next_retry_at)


def record_file_retry_upload(*, file: RecordFile) -> RecordFile:
    """Retry a file in backup (or failed, while its local copy exists) now: admin action and API."""
    if file.status not in (FileStatus.BACKUP, FileStatus.FAILED) or not file.local_path:
        raise ConflictError(f"a file that is {file.status} cannot be uploaded again")
    if not Path(file.local_path).exists():
        raise ConflictError("the local copy of this file is gone")
    RecordFile.objects.filter(pk=file.pk).update(
        status=FileStatus.UPLOADING, next_retry_at=None, updated=timezone.now()
    )
    file.refresh_from_db()
    _dispatch_upload(file.pk)
    return file


def record_files_retry_backups(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: retry files in backup whose turn has come; give up (``failed``) after LIVEREC_BACKUP_RETENTION."""
    now = now or timezone.now()
    oldest = now - timedelta(seconds=settings.LIVEREC_BACKUP_RETENTION)
    given_up = RecordFile.objects.filter(status=FileStatus.BACKUP, backup_since__lt=oldest).update(
        status=FileStatus.FAILED, next_retry_at=None, updated=now
    )
    # Backups whose turn has come, and uploads that never finished (their message died with a worker).
    stuck = now - timedelta(seconds=settings.LIVEREC_UPLOAD_STUCK_SECONDS)
    unclaimed = Q(upload_lease_until__isnull=True) | Q(upload_lease_until__lte=now)
    due = list(
        RecordFile.objects.filter(
            Q(status=FileStatus.BACKUP, next_retry_at__lte=now) | Q(status=FileStatus.UPLOADING, updated__lt=stuck),
            unclaimed,
        ).values_list("pk", flat=True)[:200]
    )
    RecordFile.objects.filter(pk__in=due, status=FileStatus.UPLOADING).update(updated=now)
    for file_id in due:
        _dispatch_upload(file_id)
    return {"retried": len(due), "failed": given_up}


def record_files_expire(*, now: datetime | None = None) -> int:
    """Beat: delete stored files whose ``storage_time`` is over, and mark them ``expired``."""
    now = now or timezone.now()
    expired = 0
    for file in RecordFile.objects.select_related("storage").filter(status=FileStatus.STORED, expire_at__lte=now)[:500]:
        try:
            _delete_stored(file)
        except StorageError as exc:
            log.warning("could not expire %s: %s", file, exc)
            continue
        RecordFile.objects.filter(pk=file.pk).update(status=FileStatus.EXPIRED, local_path="", updated=now)
        expired += 1
    return expired


def _delete_stored(file: RecordFile) -> None:
    backend = file_backend(file)
    if file.format == Format.HLS and file.local_path and Path(file.local_path).exists():
        for part in _file_set(Path(file.local_path), file.format)[:-1]:
            backend.delete(file_key(file, part.name))
    elif file.format == Format.HLS and not is_local(file):
        _delete_remote_segments(file)
    backend.delete(file_key(file))


def _delete_remote_segments(file: RecordFile) -> None:
    """Segments of a remote playlist: read the playlist's segment names through a presigned URL."""
    backend = file_backend(file)
    try:
        text = requests.get(backend.url(file_key(file), expires_in=60), timeout=10).text
    except requests.RequestException as exc:
        raise StorageError(f"cannot read the playlist to delete its segments: {exc}") from exc
    for line in text.splitlines():
        if line and not line.startswith("#"):
            backend.delete(file_key(file, line.strip()))


def record_file_delete(*, file: RecordFile) -> None:
    """Delete a file's row, its stored object (an HLS playlist takes its segments along) and any local copy."""
    if file.status == FileStatus.STORED:
        _delete_stored(file)
    if file.local_path and Path(file.local_path).parent == _staging_dir(file):
        shutil.rmtree(_staging_dir(file), ignore_errors=True)
    elif file.local_path:
        for path in _file_set(Path(file.local_path), file.format):
            path.unlink(missing_ok=True)
    file.delete()
