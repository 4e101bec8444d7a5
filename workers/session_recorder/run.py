"""Wires the media engine to the models: one ``StreamRecorder`` per publish session.

The engine knows nothing of Django; this module turns its events into rows (session measurements,
heartbeats, RecordFile rows) and the rows' state (a push that ended, a stopped task) into engine calls.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.db.models import Max
from django.utils import timezone

from recordings.choices import FINAL_TASK_STATUSES, SessionStatus, TaskStatus
from recordings.dispatch import SYNC_HLS, send_now
from recordings.models import PublishSession, RecordFile, RecordTask
from recordings.services import (
    PackagedResult,
    record_file_store,
    recorder_claim,
    recorder_refused,
    session_needs_spool,
    session_record_stats,
    session_recorder_finished,
    task_hls_hold,
    task_recording_finished,
)
from templates_app.naming import NameContext, render_file_name
from workers.engine import (
    HlsPlaylistWriter,
    IngestRecord,
    PackagedFile,
    RecorderListener,
    RecordingSpec,
    SourceError,
    StreamRecorder,
    StreamStats,
    sweep_orphans,
)
from workers.spool_lock import spool_fence

log = logging.getLogger(__name__)

#: After publish_done, how long the recorder may still drain what the ingest sent before it is stopped.
END_GRACE_SECONDS = 3.0
MIN_LOOKBACK_SECONDS = 15
#: A live HLS sync not finished after this long is taken for lost, and another is queued.
HLS_SYNC_LOST_SECONDS = 120


def until_database_answers(action: Callable[[], object], what: str) -> None:
    """Run a write the recording depends on, waiting out a database restart (the spool keeps going meanwhile).

    Runs on the packaging thread, never in the demux loop: a database outage delays rows, not spooling.
    """
    delay = 0.5
    deadline = time.monotonic() + settings.LIVEREC_DB_OUTAGE_SECONDS
    while True:
        try:
            action()
            return
        except (OperationalError, InterfaceError) as exc:
            if time.monotonic() > deadline:
                raise
            log.warning("database unavailable while %s (%s); retrying in %.1f s", what, exc, delay)
            close_old_connections()
            connection.close()
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
        finally:
            close_old_connections()


def _utc(wallclock: float) -> datetime:
    return datetime.fromtimestamp(wallclock, tz=UTC)


class SessionListener(RecorderListener):
    """Engine events → rows. Runs on the engine's threads; each call uses its own DB connection safely."""

    def __init__(self, session: PublishSession, tasks: dict[str, RecordTask]) -> None:
        self.session_id = session.pk
        self.tasks = tasks
        self.recorder: StreamRecorder | None = None
        self.ended_seen_at: float | None = None
        self.stopped_tasks: set[str] = set()
        self.last_hls_sync = 0.0
        self.synced: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def on_started(self, stats: StreamStats) -> None:
        try:
            session_record_stats(session_id=self.session_id, stats=asdict(stats))
        finally:
            close_old_connections()

    def on_heartbeat(self, stats: StreamStats) -> None:
        """Runs on the supervising thread. A database that restarted leaves this thread's connection broken:
        it is dropped after every beat (``close_old_connections``), so the first beat after the restart gets
        through and the watchdog never takes a live recorder for dead."""
        try:
            session_record_stats(session_id=self.session_id, stats=asdict(stats))
            self._follow_rows()
            self._sync_live_playlists()
        finally:
            close_old_connections()

    def _sync_live_playlists(self) -> None:
        """Every few seconds, queue the upload of what each live HLS playlist has grown by (queue io)."""
        now = time.monotonic()
        if now - self.last_hls_sync < settings.LIVEREC_HLS_SYNC_SECONDS:
            return
        self.last_hls_sync = now
        for task in self.tasks.values():
            if "hls" not in task.formats:
                continue
            for playlist in task_output_dir(task).glob("*.m3u8"):
                if self._sync_due(playlist, now):
                    send_now(SYNC_HLS, task.pk, str(playlist))

    def _sync_due(self, playlist: Path, now: float) -> bool:
        """One sync at a time per playlist: the next is queued once the last one wrote its ledger (or got lost)."""
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

    def _follow_rows(self) -> None:
        """Stop the recorder when the push ended, and recordings whose task was stopped through the API."""
        assert self.recorder is not None
        session = PublishSession.objects.only("status").get(pk=self.session_id)
        if session.status == SessionStatus.ENDED:
            now = time.monotonic()
            self.ended_seen_at = self.ended_seen_at or now
            if now - self.ended_seen_at >= END_GRACE_SECONDS:
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
                "video_codec": f.video_codec,
                "audio_codec": f.audio_codec,
                "width": f.width,
                "height": f.height,
            }
            until_database_answers(lambda: task_hls_hold(task_id=task.public_id, pending=pending), "holding a playlist")
            return
        result = PackagedResult(
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
        name = f.path.stem if f.path is not None else f"{task.public_id}-failed"
        with self._lock:
            until_database_answers(
                lambda: record_file_store(task=task, result=result, name=name), f"recording file {name}"
            )

    def on_recording_finished(self, recording_id: str) -> None:
        until_database_answers(lambda: task_recording_finished(task_id=recording_id), f"finishing {recording_id}")
        with contextlib.suppress(OSError):
            task_output_dir(self.tasks[recording_id]).rmdir()  # empty unless an HLS playlist waits there
        close_old_connections()

    def on_error(self, exc: BaseException) -> None:
        log.warning("recorder of session %s: %s", self.session_id, exc)


def _name_for(task: RecordTask):  # type: ignore[no-untyped-def]
    def name_for(fmt: str, start: float, end: float | None) -> str:
        return render_file_name(
            task.file_name_template,
            NameContext(
                domain=task.domain,
                app_name=task.app_name,
                stream_id=task.stream_name,
                record_id=task.public_id,
                start=_utc(start),
                end=_utc(end if end is not None else start),
            ),
        )

    return name_for


def task_output_dir(task: RecordTask) -> Path:
    """Where a task's files are made; an HLS playlist open for reconnects lives here between pushes."""
    return Path(settings.LIVEREC_SPOOL_DIR) / "tasks" / task.public_id


def recording_spec(task: RecordTask) -> RecordingSpec:
    start = task.start_time.timestamp() if task.start_time else None
    return RecordingSpec(
        recording_id=task.public_id,
        formats={fmt: int(options.get("record_interval", 0)) for fmt, options in task.formats.items()},
        output_dir=task_output_dir(task),
        name_for=_name_for(task),
        record_type=task.record_type,
        start_wallclock=_resume_point(task, start),
        end_wallclock=task.end_time.timestamp() if task.end_time else None,
        hls_append_to=_open_playlist(task),
        hls_endlist=task.hls_continue_duration == 0,
    )


def _resume_point(task: RecordTask, start: float | None) -> float | None:
    """After a dead worker, a recording goes on where its files of this push end (the spool still has the rest)."""
    if task.session_id is None:
        return start
    # HLS is left out: a playlist a dead worker left is closed as it was, and its end is only estimated.
    last_end = (
        RecordFile.objects.filter(task=task, session_id=task.session_id)
        .exclude(format="hls")
        .aggregate(last=Max("end_time"))["last"]
    )
    if last_end is None:
        return start
    return max(start or 0.0, last_end.timestamp())


def _open_playlist(task: RecordTask) -> Path | None:
    """The playlist this recording continues after a reconnect (held open by ``task_hls_hold``)."""
    if task.hls_pending and Path(task.hls_pending["path"]).exists():
        return Path(task.hls_pending["path"])
    return None


def salvage_dead_worker_files(task: RecordTask, session: PublishSession) -> None:
    """What a dead worker left in a task's folder: half-written files go (their packets are packaged again from
    the spool), and an HLS playlist it was growing is closed and stored as a file of its own."""
    folder = task_output_dir(task)
    for stale in folder.glob(".*.part"):
        stale.unlink(missing_ok=True)
    held = task.hls_pending["path"] if task.hls_pending else None
    for playlist_path in folder.glob("*.m3u8"):
        if str(playlist_path) == held:
            continue
        playlist = HlsPlaylistWriter.reopen(playlist_path)
        if not playlist.segments:
            playlist_path.unlink(missing_ok=True)
            continue
        end = playlist_path.stat().st_mtime  # its last segment's time, before finish() rewrites it
        playlist.finish()
        record_file_store(
            task=task,
            result=PackagedResult(
                format="hls",
                path=playlist_path,
                start=_utc(end - playlist.duration),
                end=_utc(end),
                duration=round(playlist.duration, 6),
                size=playlist.size(),
                video_codec=session.video_codec or None,
                audio_codec=session.audio_codec or None,
                width=session.width,
                height=session.height,
                error=None,
            ),
            name=playlist_path.stem,
        )


_slots: threading.BoundedSemaphore | None = None
_slots_lock = threading.Lock()


def recorder_slots() -> threading.BoundedSemaphore:
    """How many streams this worker process records at once (``LIVEREC_STREAMS_PER_WORKER``)."""
    global _slots
    with _slots_lock:
        if _slots is None:
            _slots = threading.BoundedSemaphore(settings.LIVEREC_STREAMS_PER_WORKER)
        return _slots


def run_session_recorder(session_id: int) -> float | None:
    """Record one live session until its push ends. When this worker is full it turns the job down and returns
    the seconds after which the job should go back to the queue (longer with every refusal in a row).

    Safe to run twice: a session already claimed by a recorder returns at once (None: nothing to queue again).
    """
    slots = recorder_slots()
    if not slots.acquire(blocking=False):
        return recorder_refused(
            session_id=session_id,
            reason=f"worker {socket.gethostname()}/{os.getpid()} is full "
            f"({settings.LIVEREC_STREAMS_PER_WORKER} streams); waiting for another worker",
        )
    try:
        _record_session(session_id)
    finally:
        slots.release()
    return None


def _record_session(session_id: int) -> None:
    if not recorder_claim(session_id=session_id):
        return
    session = PublishSession.objects.select_related("domain", "app").get(pk=session_id)
    with spool_fence(Path(settings.LIVEREC_SPOOL_DIR) / session.public_id) as alone:
        if not alone:
            # The recorder the watchdog took for dead is alive (its heartbeat was late): let it go on.
            log.warning("session %s: a live recorder still holds its spool; this job stands down", session_id)
            session_record_stats(session_id=session_id, stats={})
            return
        _record_claimed_session(session)


def _record_claimed_session(session: PublishSession) -> None:
    session_id = session.pk
    tasks = {
        task.public_id: task
        for task in RecordTask.objects.select_related("session")
        .filter(session=session)
        .exclude(status__in=FINAL_TASK_STATUSES)
    }
    if not tasks and not session_needs_spool(session=session, now=timezone.now()):
        session_recorder_finished(session_id=session_id)
        return
    spool_dir = Path(settings.LIVEREC_SPOOL_DIR) / session.public_id
    listener = SessionListener(session, tasks)
    recorder = StreamRecorder(
        session.source_url,
        spool_dir / "chunks",
        listener=listener,
        # Keep a little spool even without look-back: a task attached a heartbeat later starts from its start time.
        lookback_seconds=float(max(session.domain.lookback_seconds if session.domain else 0, MIN_LOOKBACK_SECONDS)),
        heartbeat_seconds=float(settings.LIVEREC_HEARTBEAT_SECONDS),
        stall_timeout=float(settings.LIVEREC_STALL_TIMEOUT),
        ingest_record=_ingest_record(session, spool_dir / "chunks"),
    )
    listener.recorder = recorder
    for task in tasks.values():
        salvage_dead_worker_files(task, session)
        recorder.add_recording(recording_spec(task))
    error = ""
    try:
        recorder.run()
    except SourceError as exc:
        error = f"could not pull {session.source_url}: {exc}"
    except Exception as exc:
        log.exception("recorder of session %s failed", session_id)
        error = f"recorder failed: {exc}"
    finally:
        close_old_connections()
        session_recorder_finished(session_id=session_id, error=error)
        _clean_spool(spool_dir)


def _ingest_record(session: PublishSession, chunks: Path) -> IngestRecord | None:
    """Follow the ingest's own record of the push when this host sees it (the ingest runs here).

    Only for a first recorder: a re-dispatched one (its spool has chunks) joins the live stream over RTMP and
    the spool resumes after what it holds, as before.
    """
    if not session.ingest_record_dir:
        return None
    record_dir = Path(session.ingest_record_dir)
    if not record_dir.is_dir() or (chunks.is_dir() and any(chunks.iterdir())):
        return None
    sweep_orphans(record_dir)
    return IngestRecord(
        record_dir=record_dir, stream_name=session.stream_name, not_before=session.started_at.timestamp()
    )


def _clean_spool(spool_dir: Path) -> None:
    """Drop the session's spool once its recordings are done (their files were moved out of it)."""
    shutil.rmtree(spool_dir / "chunks", ignore_errors=True)
    (spool_dir / "recorder.lock").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        spool_dir.rmdir()
