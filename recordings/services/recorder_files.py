"""What happens to a recording's files after its worker died: where the recording resumes, and what becomes of
the files the dead worker left in the task's folder.

No media code here (``recordings`` never imports PyAV, DESIGN.md): closing a playlist is the media engine's work,
and the worker passes it in (``workers.session_recorder.results.dead_worker_playlist_closer``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from django.db.models import Max

from recordings.choices import SNAPSHOT_FORMAT
from recordings.file_locations import task_output_dir
from recordings.models import RecordFile, RecordTask
from recordings.services.files import PackagedResult, record_file_store
from templates_app.choices import Format

#: Ends an HLS playlist and measures it; None when it holds no segment.
PlaylistCloser = Callable[[Path], PackagedResult | None]


def task_resume_point(*, task: RecordTask) -> float | None:
    """Where a recording starts (unix time): after a dead worker, where its files of this push end (the spool
    still has the rest); otherwise its start time, None for "from the first keyframe"."""
    start = task.start_time.timestamp() if task.start_time else None
    if task.session_id is None:
        return start
    # HLS is left out: a playlist a dead worker left is closed as it was, and its end is only estimated;
    # snapshots too: they are instants, not ranges of media.
    last_end = (
        RecordFile.objects.filter(task=task, session_id=task.session_id)
        .exclude(format__in=(Format.HLS, SNAPSHOT_FORMAT))
        .aggregate(last=Max("end_time"))["last"]
    )
    if last_end is None:
        return start
    return max(start or 0.0, last_end.timestamp())


def record_files_salvage(*, task: RecordTask, close_playlist: PlaylistCloser) -> list[RecordFile]:
    """What a dead worker left in a task's folder: half-written files go (their packets are packaged again from
    the spool), an HLS playlist it was growing is closed and stored as a file of its own, an empty one goes. The
    playlist held open for a reconnect (``hls_pending``) stays as it is."""
    folder = task_output_dir(task)
    for stale in folder.glob(".*.part"):
        stale.unlink(missing_ok=True)
    held = task.hls_pending["path"] if task.hls_pending else None
    stored: list[RecordFile] = []
    for playlist_path in folder.glob("*.m3u8"):
        if str(playlist_path) == held:
            continue
        result = close_playlist(playlist_path)
        if result is None:
            playlist_path.unlink(missing_ok=True)
            continue
        stored.append(record_file_store(task=task, result=result, name=playlist_path.stem))
    return stored
