"""Reads: files' download links (signed local URLs, presigned S3/COS URLs), live sessions and their warnings."""

from __future__ import annotations

import time

from django.conf import settings
from django.core import signing
from django.urls import reverse

from liverecord.models import App
from recordings.choices import FileStatus, SessionStatus
from recordings.file_locations import file_backend, file_key, is_local
from recordings.models import PublishSession, RecordFile, Snapshot
from rules.services import domain_name_normalize
from workers.storage import StorageError

DOWNLOAD_SALT = "liverecord.download"


def file_download_url(file: RecordFile, *, ttl: int | None = None) -> str | None:
    """A signed, expiring path to a file on this host's disk (local storage, or its backup copy)."""
    if not file.local_path:
        return None
    expires = int(time.time()) + (ttl or settings.LIVEREC_DOWNLOAD_URL_SECONDS)
    token = signing.dumps({"f": file.public_id, "e": expires}, salt=DOWNLOAD_SALT)
    return reverse("file-download", args=[token, f"{file.name.rsplit('/', 1)[-1]}.{file.extension}"])


def file_url(file: RecordFile, *, base: str) -> str | None:
    """Where a user downloads the file: a presigned URL for S3 and COS, else a signed URL of this service."""
    if file.status == FileStatus.STORED and not is_local(file):
        assert file.storage is not None
        try:
            return file_backend(file).url(file_key(file), expires_in=file.storage.presign_seconds)
        except StorageError:
            return None
    path = file_download_url(file)
    return f"{base.rstrip('/')}{path}" if path else None


def file_public_url(file: RecordFile) -> str | None:
    """The download URL sent in callbacks, built on ``LIVEREC_PUBLIC_URL``."""
    return file_url(file, base=settings.LIVEREC_PUBLIC_URL)


def file_for_download_token(token: str) -> RecordFile | None:
    """The file a download token names, if the token is genuine and unexpired."""
    try:
        payload = signing.loads(token, salt=DOWNLOAD_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or int(payload.get("e", 0)) < time.time():
        return None
    return RecordFile.objects.filter(public_id=payload.get("f")).first()


def session_newest_snapshot(*, session: PublishSession) -> Snapshot | None:
    """The newest stored snapshot of a push: its thumbnail in the console's live sessions."""
    return (
        Snapshot.objects.select_related("storage")
        .filter(session=session, status=FileStatus.STORED)
        .order_by("-start_time")
        .first()
    )


def session_warnings(session: PublishSession) -> list[str]:
    """A GOP longer than a recording's file length: files can only be cut at keyframes, so they run longer."""
    if not session.gop_seconds:
        return []
    warnings: list[str] = []
    for task in session.record_tasks.all():
        for fmt, options in task.formats.items():
            interval = options.get("record_interval")
            if fmt != "hls" and interval and session.gop_seconds > interval:
                warnings.append(
                    f"keyframe interval {session.gop_seconds:.1f} s is longer than the {fmt} file length {interval} s"
                )
    return warnings


def session_live(*, app: App, domain: str, app_name: str, stream_name: str) -> PublishSession | None:
    """The stream's live session (the newest, should a stale one linger)."""
    return (
        PublishSession.objects.filter(
            app=app,
            domain_name=domain_name_normalize(domain),
            app_name=app_name,
            stream_name=stream_name,
            status=SessionStatus.LIVE,
        )
        .order_by("-started_at")
        .first()
    )
