"""What the recorder decides about files: the engine's output as ``PackagedResult``, where a recording resumes
after a dead worker, what a dead worker left behind, and the close of an HLS playlist held open for reconnects.

These services use the media engine (``workers.engine``, PyAV), so ``recordings.services`` does not re-export
them: only the workers import this module, and web processes never load PyAV.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime
from pathlib import Path

from django.db import transaction
from django.db.models import Max

from recordings.file_locations import task_output_dir
from recordings.models import PublishSession, RecordFile, RecordTask
from recordings.services.files import PackagedResult, record_file_store
from recordings.services.record_tasks import task_hls_closed
from templates_app.choices import Format
from workers.engine import HlsPlaylistWriter, PackagedFile

log = logging.getLogger(__name__)


def _utc(wallclock: float) -> datetime:
    return datetime.fromtimestamp(wallclock, tz=UTC)


def packaged_result(f: PackagedFile) -> PackagedResult:
    """The one translation of the engine's ``PackagedFile`` into what the file services take."""
    return PackagedResult(
        format=f.format,
        path=f.path,
        start=_utc(f.start_wallclock),
        end=_utc(f.end_wallclock),
        duration=f.duration,
        size=f.size,
        video_codec=f.video_codec,
        audio_codec=f.audio_codec,
        width=f.width,
        height=f.height,
        error=f.error,
    )


def _closed_playlist(
    playlist: HlsPlaylistWriter,
    *,
    recording_id: str,
    start: float | None,
    video_codec: str | None,
    audio_codec: str | None,
    width: int | None,
    height: int | None,
) -> PackagedFile:
    """End a playlist (``#EXT-X-ENDLIST``) and report it as the engine reports any file. Without a known
    ``start``, it ended when it was last written (its last segment's time, read before ``finish()`` rewrites it)."""
    last_written = playlist.path.stat().st_mtime
    playlist.finish()
    duration = playlist.duration
    end = start + duration if start is not None else last_written
    return PackagedFile(
        recording_id=recording_id,
        format=Format.HLS,
        path=playlist.path,
        start_wallclock=start if start is not None else end - duration,
        end_wallclock=end,
        duration=round(duration, 6),
        size=playlist.size(),
        video_codec=video_codec,
        audio_codec=audio_codec,
        width=width,
        height=height,
    )


def task_resume_point(*, task: RecordTask) -> float | None:
    """Where a recording starts (unix time): after a dead worker, where its files of this push end (the spool
    still has the rest); otherwise its start time, None for "from the first keyframe"."""
    start = task.start_time.timestamp() if task.start_time else None
    if task.session_id is None:
        return start
    # HLS is left out: a playlist a dead worker left is closed as it was, and its end is only estimated.
    last_end = (
        RecordFile.objects.filter(task=task, session_id=task.session_id)
        .exclude(format=Format.HLS)
        .aggregate(last=Max("end_time"))["last"]
    )
    if last_end is None:
        return start
    return max(start or 0.0, last_end.timestamp())


def record_files_salvage(*, task: RecordTask, session: PublishSession) -> list[RecordFile]:
    """What a dead worker left in a task's folder: half-written files go (their packets are packaged again from
    the spool), and an HLS playlist it was growing is closed and stored as a file of its own."""
    folder = task_output_dir(task)
    for stale in folder.glob(".*.part"):
        stale.unlink(missing_ok=True)
    held = task.hls_pending["path"] if task.hls_pending else None
    stored: list[RecordFile] = []
    for playlist_path in folder.glob("*.m3u8"):
        if str(playlist_path) == held:
            continue
        playlist = HlsPlaylistWriter.reopen(playlist_path)
        if not playlist.segments:
            playlist_path.unlink(missing_ok=True)
            continue
        closed = _closed_playlist(
            playlist,
            recording_id=task.public_id,
            start=None,
            video_codec=session.video_codec or None,
            audio_codec=session.audio_codec or None,
            width=session.width,
            height=session.height,
        )
        stored.append(record_file_store(task=task, result=packaged_result(closed), name=playlist_path.stem))
    return stored


def task_hls_close(*, task_id: int) -> None:
    """A task's reconnect window is over: end its held HLS playlist, store it, announce it. Idempotent: a task
    whose playlist was already closed (or that never held one) is left alone."""
    with transaction.atomic():
        task = RecordTask.objects.select_for_update().filter(pk=task_id).first()
        if task is None or not task.hls_pending:
            return
        pending = dict(task.hls_pending)
        path = Path(pending["path"])
        if not path.exists():
            log.error("task %s: open playlist %s is gone", task.public_id, path)
            task_hls_closed(task=task)
            return
        closed = _closed_playlist(
            HlsPlaylistWriter.reopen(path),
            recording_id=task.public_id,
            start=float(pending["start"]),
            video_codec=pending.get("video_codec"),
            audio_codec=pending.get("audio_codec"),
            width=pending.get("width"),
            height=pending.get("height"),
        )
        record_file_store(task=task, result=packaged_result(closed), name=path.stem)
        task_hls_closed(task=task)
    with contextlib.suppress(OSError):
        path.parent.rmdir()
