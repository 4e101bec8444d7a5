"""While a recording goes on, queue the upload of what each live HLS playlist has grown by (queue ``io``)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings

from recordings.dispatch import SYNC_HLS, send_now
from recordings.file_locations import task_output_dir
from recordings.models import RecordTask

#: A live HLS sync not finished after this long is taken for lost, and another is queued.
HLS_SYNC_LOST_SECONDS = 120


class LivePlaylistSync:
    """One sync at a time per playlist, at most every ``LIVEREC_HLS_SYNC_SECONDS``."""

    def __init__(self) -> None:
        self.last_sync = 0.0
        self.synced: dict[str, tuple[float, float]] = {}

    def tick(self, tasks: Iterable[RecordTask]) -> None:
        now = time.monotonic()
        if now - self.last_sync < settings.LIVEREC_HLS_SYNC_SECONDS:
            return
        self.last_sync = now
        for task in tasks:
            if "hls" not in task.formats:
                continue
            for playlist in task_output_dir(task).glob("*.m3u8"):
                if self._due(playlist, now):
                    send_now(SYNC_HLS, task.pk, str(playlist))

    def _due(self, playlist: Path, now: float) -> bool:
        """The next sync is queued once the last one wrote its ledger (or got lost)."""
        key = str(playlist)
        mtime = playlist.stat().st_mtime
        last = self.synced.get(key)
        if last is not None:
            last_mtime, queued_at = last
            ledger = playlist.with_name(f".{playlist.stem}.stored")
            finished = ledger.exists() and ledger.stat().st_mtime >= last_mtime
            if mtime == last_mtime or (not finished and now - queued_at < HLS_SYNC_LOST_SECONDS):
                return False
        self.synced[key] = (mtime, now)
        return True
