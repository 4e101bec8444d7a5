"""Keeps nginx-rtmp's ``record all`` folder small: a push that nothing records costs no disk beyond a few seconds.

nginx-rtmp writes every push to ``<record_dir>/<name>-<unix time>.flv`` (``deploy.nginx_config``). A recorder on
this host follows that file and punches out what it read; a file nobody follows (no rule, no look-back, no
window open yet) and that no queued recorder waits for (``deploy.record_wait``) is trimmed here to its head
(FLV header and codec headers) plus the last ``keep_seconds`` of media, so a recorder that starts later (a
highlight, a window opening) still finds the keyframe it needs (``workers.engine.follow.trim_record``). Runs
beside nginx: in :class:`deploy.nginx_process.NginxRtmp` and in ``python -m deploy.nginx_rtmp --record-dir``.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from deploy.record_wait import awaited_files
from workers.engine.follow import trim_record

log = logging.getLogger(__name__)

#: Media kept at the end of a record file nobody follows: a recorder queued a few seconds late (the window
#: check runs every 2 s) still starts at the keyframe before its start time. A chunk plus that margin.
KEEP_SECONDS = 8.0
#: Seconds between two passes over the folder.
EVERY = 1.0


class RecordJanitor:
    """A daemon thread that trims every record file of the folder nobody follows, every ``every`` seconds."""

    def __init__(self, record_dir: Path, *, keep_seconds: float = KEEP_SECONDS, every: float = EVERY) -> None:
        self.record_dir = Path(record_dir)
        self.keep_seconds = keep_seconds
        self.every = every
        self.released = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"record janitor {record_dir}", daemon=True)

    def start(self) -> RecordJanitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def sweep(self) -> int:
        """One pass; returns the bytes released."""
        released = 0
        awaited = awaited_files(self.record_dir)
        for path in sorted(self.record_dir.glob("*.flv")):
            if path.name in awaited:
                continue  # a recorder is queued for this push: its start must still be there when it comes
            try:
                released += trim_record(path, keep_seconds=self.keep_seconds)
            except OSError as exc:  # a file that vanished or cannot be punched: the next pass tries again
                log.debug("trimming %s failed: %s", path, exc)
        self.released += released
        return released

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.sweep()
            except Exception:  # the janitor must outlive any one bad file
                log.exception("record janitor pass failed")
