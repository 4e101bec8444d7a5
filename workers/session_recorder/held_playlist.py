"""Close an HLS playlist that was kept open for reconnects, then store and announce it like any file."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from django.db import transaction

from recordings.models import RecordTask
from recordings.services import record_file_store, task_hls_closed
from templates_app.choices import Format
from workers.engine import HlsPlaylistWriter
from workers.engine.file_series import final_path
from workers.session_recorder.results import closed_playlist
from workers.session_recorder.specs import file_namer

log = logging.getLogger(__name__)


def close_task_playlist(task_id: int) -> None:
    """Idempotent: a task whose playlist was already closed (or never held one) is left alone."""
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
        playlist = HlsPlaylistWriter.reopen(path)
        start = float(pending["start"])
        end = float(pending.get("end", start + playlist.duration))
        # Named by the end of its last push, now that it is known (segments keep the names they started with).
        playlist.rename(final_path(path.parent, file_namer(task)(Format.HLS, start, end), "m3u8"))
        path = playlist.path
        result = closed_playlist(
            playlist,
            recording_id=task.public_id,
            start=start,
            end=end,
            video_codec=pending.get("video_codec"),
            audio_codec=pending.get("audio_codec"),
            width=pending.get("width"),
            height=pending.get("height"),
        )
        record_file_store(task=task, result=result, name=path.stem)
        task_hls_closed(task=task)
    with contextlib.suppress(OSError):
        path.parent.rmdir()
