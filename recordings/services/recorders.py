"""Writes on a session's recorder job: enqueue it, claim it, turn it down when full, queue a dead one again."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from deploy.record_wait import record_wait_mark
from recordings.choices import FINAL_TASK_STATUSES, RecorderStatus, SessionStatus
from recordings.constants import NOT_RECORDED, TAKEN_OVER
from recordings.dispatch import RECORD_STREAM, send_after_commit, send_now
from recordings.models import PublishSession, RecordTask
from workers.spool_lock import spool_held

log = logging.getLogger(__name__)

#: A recorder job queued this long ago and never started is queued again (its message was lost).
PENDING_REQUEUE = timedelta(seconds=60)
#: A recorder job that a full worker turned down is offered again after a second, ``REFUSED_REQUEUE_FAST`` times
#: (a worker that is starting, or a slot about to free, takes it within seconds: a waiting job is held by whichever
#: worker fetched it, so fewer offers mean a later handover), then after 2, 4, 8 s up to the max: below
#: ``PENDING_REQUEUE``, so the watchdog never takes a job that waits for a worker for a lost one.
REFUSED_REQUEUE_FIRST = 1.0
REFUSED_REQUEUE_FAST = 20
REFUSED_REQUEUE_MAX = 10.0


def recorder_dispatch(*, session: PublishSession) -> None:
    """Enqueue the one recorder of a new live session, and tell the ingest's record janitor (when this host sees
    the record folder) to keep the push's record file whole until the recorder comes: a recorder queued behind
    full or starved workers still starts at the push's first keyframe."""
    recorder_await_record(session=session)
    send_after_commit(RECORD_STREAM, session.pk)


def recorder_await_record(*, session: PublishSession) -> bool:
    """Mark the push's record file as awaited by a recorder (``deploy.record_wait``); False if not seen here."""
    if not session.ingest_record_dir:
        return False
    return record_wait_mark(
        record_dir=Path(session.ingest_record_dir),
        stream_name=session.stream_name,
        hook_time=session.started_at.timestamp(),
    )


def recorder_redispatch(*, session_id: int) -> bool:
    """A recording was attached to a live session whose recorder is not running: start one (claimed, so once)."""
    claimed = PublishSession.objects.filter(
        pk=session_id, status=SessionStatus.LIVE, recorder_status__in=(RecorderStatus.DONE, RecorderStatus.FAILED)
    ).update(recorder_status=RecorderStatus.PENDING, updated=timezone.now())
    if claimed:
        session = PublishSession.objects.only("ingest_record_dir", "stream_name", "started_at").get(pk=session_id)
        recorder_await_record(session=session)  # it follows the record file: keep the file whole until it comes
        send_after_commit(RECORD_STREAM, session_id)
    return bool(claimed)


def recorder_claim(*, session_id: int) -> bool:
    """A recorder job starts: claim the session (queued → running) so a second delivery of the job does nothing."""
    now = timezone.now()
    with transaction.atomic():
        session = PublishSession.objects.select_for_update().filter(pk=session_id).first()
        if session is None or session.recorder_status != RecorderStatus.PENDING:
            return False
        if session.recorder_note:
            RecordTask.objects.filter(session_id=session_id, error=session.recorder_note).update(error="", updated=now)
        # A spool-only recorder (look-back, a window about to open) still records nothing, and a taken-over one
        # pulls over RTMP: the note stays.
        note = session.recorder_note if session.recorder_note.startswith((NOT_RECORDED, TAKEN_OVER)) else ""
        PublishSession.objects.filter(pk=session_id).update(
            recorder_status=RecorderStatus.RUNNING,
            heartbeat_at=now,
            recorder_note=note,
            recorder_refusals=0,
            updated=now,
        )
    return True


def recorder_refused(*, session_id: int, reason: str) -> float | None:
    """A full worker turned the recorder job down: say so on the session and tasks, and tell when to offer it again.

    Returns the seconds before the job goes back to the queue (``recorder_requeue_delay``: longer with the
    refusals in a row): while every worker stays full, the job does not circle the queue every second forever.
    None when the session no longer waits for a recorder.
    """
    now = timezone.now()
    with transaction.atomic():
        session = PublishSession.objects.select_for_update().filter(pk=session_id).first()
        if session is None or session.recorder_status != RecorderStatus.PENDING:
            return None
        reason = reason[:300]
        RecordTask.objects.filter(session_id=session_id).exclude(status__in=FINAL_TASK_STATUSES).filter(
            Q(error="") | Q(error=session.recorder_note)
        ).update(error=reason, updated=now)
        # "not recorded: ..." stays: a spool-only recorder waiting for a worker still records nothing.
        note = session.recorder_note if session.recorder_note.startswith(NOT_RECORDED) else reason
        PublishSession.objects.filter(pk=session_id).update(
            recorder_note=note, recorder_refusals=F("recorder_refusals") + 1, updated=now
        )
        refusals = session.recorder_refusals + 1  # the row is locked: no other refusal counted meanwhile
    # This worker may see the ingest's record folder where the hook did not: keep the push's start for whoever
    # takes the job.
    recorder_await_record(session=session)
    return recorder_requeue_delay(refusals=refusals)


def recorder_requeue_delay(*, refusals: int, rng: random.Random | None = None) -> float:
    """Seconds before a job refused ``refusals`` times in a row is offered again, ±20 %: 1 s for the first twenty
    refusals, then 2, 4, 8 and 10 s from then on."""
    doublings = max(refusals - REFUSED_REQUEUE_FAST, 0)
    base = min(REFUSED_REQUEUE_MAX, REFUSED_REQUEUE_FIRST * 2**doublings)
    return base * (rng or random).uniform(0.8, 1.2)


def recorders_reclaim(*, now: datetime | None = None) -> list[int]:
    """Watchdog (beat): a recorder that died with its worker is queued again.

    Dead is: as soon as it has missed one beat, the kernel says no process on this host holds its spool's lock
    any more (``workers.spool_lock``: a killed recorder is known dead at once, which takes seconds off every
    failover), or, where this host cannot tell (the spool is on another host), its heartbeat is older than
    ``LIVEREC_RECORDER_STALE_SECONDS``. A recorder whose lock is still held is alive however late its heartbeat:
    an overloaded box starves the heartbeat thread too, and a second recorder would stand down at the lock
    anyway. It resumes from the spool index (the chunks it wrote survive a kill), so a dead worker costs seconds
    of recording. A job queued long ago and never started (a lost message) is queued again too: the claim in
    ``recorder_claim`` makes a second delivery harmless.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.LIVEREC_RECORDER_STALE_SECONDS)
    missed_beat = now - timedelta(seconds=settings.LIVEREC_HEARTBEAT_SECONDS + 1.5)
    unlocked: list[int] = []
    starved: list[int] = []
    for pk, public_id in PublishSession.objects.filter(
        recorder_status=RecorderStatus.RUNNING, heartbeat_at__lt=missed_beat
    ).values_list("pk", "public_id")[:1000]:
        held = spool_held(Path(settings.LIVEREC_SPOOL_DIR) / public_id)
        if held is False:
            unlocked.append(pk)
        elif held is True:
            starved.append(pk)
    if starved:
        log.info("recorders of sessions %s are late but hold their spool: starved, not dead", starved)
    dead = Q(recorder_status=RecorderStatus.RUNNING, heartbeat_at__lt=stale) & ~Q(pk__in=starved)
    dead |= Q(recorder_status=RecorderStatus.PENDING, updated__lt=now - PENDING_REQUEUE)
    if unlocked:
        dead |= Q(pk__in=unlocked, recorder_status=RecorderStatus.RUNNING, heartbeat_at__lt=missed_beat)
    reclaimed: list[int] = []
    for session_id in PublishSession.objects.filter(dead).values_list("pk", flat=True)[:200]:
        claimed = PublishSession.objects.filter(dead, pk=session_id).update(
            recorder_status=RecorderStatus.PENDING, updated=now
        )
        if claimed:
            log.warning("recorder of session %s is not alive; queued again", session_id)
            send_now(RECORD_STREAM, session_id)
            reclaimed.append(session_id)
    return reclaimed
