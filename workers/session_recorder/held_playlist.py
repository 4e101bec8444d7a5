"""Close an HLS playlist that was kept open for reconnects, then store and announce it like any file."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from django.db import transaction

from recordings.models import RecordTask
from recordings.services import record_file_store, task_hls_closed
from workers.engine import HlsPlaylistWriter
from workers.session_recorder.results import closed_playlist

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
        result = closed_playlist(
            HlsPlaylistWriter.reopen(path),
            recording_id=task.public_id,
            start=float(pending["start"]),
            video_codec=pending.get("video_codec"),
            audio_codec=pending.get("audio_codec"),
            width=pending.get("width"),
            height=pending.get("height"),
        )
        record_file_store(task=task, result=result, name=path.stem)
        task_hls_closed(task=task)
    with contextlib.suppress(OSError):
        path.parent.rmdir()
