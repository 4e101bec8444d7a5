"""One recorder job: admitted into a slot, claimed, fenced on its spool, then the engine runs until the push ends."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone

from deploy.record_wait import record_wait_clear
from recordings.choices import FINAL_TASK_STATUSES
from recordings.models import PublishSession, RecordTask
from recordings.services import (
    record_files_salvage,
    recorder_claim,
    recorder_refused,
    session_needs_spool,
    session_record_stats,
    session_recorder_finished,
)
from workers.engine import IngestRecord, SourceError, StreamRecorder, sweep_orphans
from workers.session_recorder.admission import recorder_slots
from workers.session_recorder.listener import SessionListener
from workers.session_recorder.results import dead_worker_playlist_closer
from workers.session_recorder.specs import recording_spec
from workers.session_recorder.spool_cleanup import clean_spool
from workers.spool_lock import spool_fence

log = logging.getLogger(__name__)

#: The least spool a session keeps (seconds), look-back or not.
MIN_LOOKBACK_SECONDS = 15


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
        _release_record(session)
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
        record_files_salvage(task=task, close_playlist=dead_worker_playlist_closer(session, task.public_id))
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
        clean_spool(spool_dir)
        _release_record(session)


def _release_record(session: PublishSession) -> None:
    """Done with the push's record file: the ingest's janitor may trim it again (``deploy.record_wait``)."""
    if session.ingest_record_dir:
        record_wait_clear(
            record_dir=Path(session.ingest_record_dir),
            stream_name=session.stream_name,
            hook_time=session.started_at.timestamp(),
        )


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
