"""Engine events → service calls (session measurements, heartbeats, file rows), and the rows' state (a push that
ended, a task attached or stopped through the API) → engine calls, checked on every heartbeat."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import asdict

from django.db import close_old_connections

from liverecord.ops.metrics import BYTES_SPOOLED
from recordings.choices import FINAL_TASK_STATUSES, SessionStatus, TaskStatus
from recordings.file_locations import task_output_dir
from recordings.models import PublishSession, RecordTask
from recordings.services import (
    record_file_store,
    session_record_stats,
    snapshot_store,
    task_hls_hold,
    task_recording_finished,
)
from workers.engine import PackagedFile, RecorderListener, SnapshotFile, StreamRecorder, StreamStats
from workers.session_recorder.db_retry import until_database_answers
from workers.session_recorder.hls_sync import LivePlaylistSync
from workers.session_recorder.results import packaged_result, snapshot_result
from workers.session_recorder.specs import recording_spec

log = logging.getLogger(__name__)

#: After publish_done, how long the recorder may still drain what the ingest sent before it is stopped.
END_GRACE_SECONDS = 3.0


class SessionListener(RecorderListener):
    """Engine events → rows. Runs on the engine's threads; each call uses its own DB connection safely."""

    def __init__(self, session: PublishSession, tasks: dict[str, RecordTask]) -> None:
        self.session_id = session.pk
        self.tasks = tasks
        self.recorder: StreamRecorder | None = None
        self.ended_seen_at: float | None = None
        self.stopped_tasks: set[str] = set()
        self.hls_sync = LivePlaylistSync()
        self._lock = threading.Lock()
        self._bytes_counted = 0

    def on_started(self, stats: StreamStats) -> None:
        try:
            session_record_stats(session_id=self.session_id, stats=asdict(stats))
        finally:
            close_old_connections()

    def on_heartbeat(self, stats: StreamStats) -> None:
        """Runs on the supervising thread. A database that restarted leaves this thread's connection broken:
        it is dropped after every beat (``close_old_connections``), so the first beat after the restart gets
        through and the watchdog never takes a live recorder for dead."""
        BYTES_SPOOLED.inc(max(0, stats.bytes - self._bytes_counted))
        self._bytes_counted = max(self._bytes_counted, stats.bytes)
        try:
            session_record_stats(session_id=self.session_id, stats=asdict(stats))
            self._follow_rows()
            self.hls_sync.tick(self.tasks.values())
        finally:
            close_old_connections()

    def _follow_rows(self) -> None:
        """Stop the recorder when the push ended, and recordings whose task was stopped through the API."""
        assert self.recorder is not None
        session = PublishSession.objects.only("status").get(pk=self.session_id)
        if session.status == SessionStatus.ENDED:
            now = time.monotonic()
            self.ended_seen_at = self.ended_seen_at or now
            # A recorder that reads the ingest's record file ends at its last byte by itself, however far behind
            # an overloaded box left it: only an RTMP pull is stopped after the grace.
            if now - self.ended_seen_at >= END_GRACE_SECONDS and not self.recorder.follows_ingest_record:
                self.recorder.stop()
        for task in (
            RecordTask.objects.select_related("session")
            .filter(session_id=self.session_id, status=TaskStatus.RECORDING)
            .exclude(public_id__in=list(self.tasks))
        ):
            self.tasks[task.public_id] = task
            self.recorder.add_recording(recording_spec(task))
        stopped = RecordTask.objects.filter(
            public_id__in=list(self.tasks), status__in=[*FINAL_TASK_STATUSES, TaskStatus.STOPPING]
        ).exclude(public_id__in=self.stopped_tasks)
        for task in stopped:
            self.stopped_tasks.add(task.public_id)
            # The file ends when the user asked, not when this heartbeat noticed.
            self.recorder.stop_recording(task.public_id, task.stopped_at.timestamp() if task.stopped_at else None)

    def on_file(self, f: PackagedFile) -> None:
        task = self.tasks[f.recording_id]
        if f.format == "hls" and task.hls_continue_duration > 0 and f.path is not None and not f.error:
            # Not announced yet: the playlist stays open for a reconnect and is closed by close_hls_playlist.
            pending = {
                "path": str(f.path),
                "start": (task.hls_pending or {}).get("start", f.start_wallclock),
                "end": f.end_wallclock,  # the end of the last push so far: the stitched playlist's end
                "video_codec": f.video_codec,
                "audio_codec": f.audio_codec,
                "width": f.width,
                "height": f.height,
            }
            until_database_answers(lambda: task_hls_hold(task_id=task.public_id, pending=pending), "holding a playlist")
            return
        result = packaged_result(f)
        name = f.path.stem if f.path is not None else f"{task.public_id}-failed"
        with self._lock:
            until_database_answers(
                lambda: record_file_store(task=task, result=result, name=name), f"recording file {name}"
            )

    def on_snapshot(self, snapshot: SnapshotFile) -> None:
        task = self.tasks[snapshot.recording_id]
        result = snapshot_result(snapshot)
        name = snapshot.path.stem
        with self._lock:
            until_database_answers(
                lambda: snapshot_store(task=task, result=result, name=name), f"recording snapshot {name}"
            )

    def on_recording_finished(self, recording_id: str) -> None:
        until_database_answers(lambda: task_recording_finished(task_id=recording_id), f"finishing {recording_id}")
        with contextlib.suppress(OSError):
            task_output_dir(self.tasks[recording_id]).rmdir()  # empty unless an HLS playlist waits there
        close_old_connections()

    def on_error(self, exc: BaseException) -> None:
        log.warning("recorder of session %s: %s", self.session_id, exc)
