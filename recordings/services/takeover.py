"""A push's recorder waits on its ingest host's queue ``record.<host>``; when no worker takes it within
``TAKEOVER_SECONDS`` (that host's worker is down or gone), a worker elsewhere takes it over from the shared
``record`` queue, pulling the stream over RTMP, and the session says so (SPEC.md "Operations").

Beat runs ``recorders_take_over`` every second. The job left on the ingest's queue is harmless: whichever
worker runs first claims the session (``recorder_claim``), the other returns at once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from recordings import dispatch
from recordings.choices import RecorderStatus, SessionStatus
from recordings.constants import NOT_RECORDED, TAKEN_OVER
from recordings.dispatch import RECORD_STREAM, TAKEOVER_SECONDS
from recordings.models import PublishSession

log = logging.getLogger(__name__)

__all__ = ["recorders_take_over"]

NOTE_LENGTH = PublishSession._meta.get_field("recorder_note").max_length or 255
#: At most this many sessions are taken over per beat (the next beat takes the rest).
TAKEOVER_BATCH = 200


def recorders_take_over(*, now: datetime | None = None) -> list[int]:
    """Send to ``record`` every live session's recorder that waited ``TAKEOVER_SECONDS`` on its ingest's queue.

    Only a job that waits for its first worker: one turned down by a full worker (refusals) is already on the
    shared queue, one the watchdog queued again after its recorder died (it had a heartbeat) went to the shared
    queue too, and one taken over once is not taken over again (its note says so). Each session is marked
    with a conditional update, so two beats (or a beat run twice) send it once.
    """
    now = now or timezone.now()
    waiting = (
        PublishSession.objects.filter(
            status=SessionStatus.LIVE,
            recorder_status=RecorderStatus.PENDING,
            recorder_refusals=0,
            heartbeat_at__isnull=True,
            updated__lte=now - timedelta(seconds=TAKEOVER_SECONDS),
        )
        .exclude(recorder_note__contains=TAKEN_OVER)
        .values_list("pk", "updated", "recorder_note", "ingest")[:TAKEOVER_BATCH]
    )
    taken: list[int] = []
    for pk, updated, note, ingest in waiting:
        said = (
            f"{TAKEN_OVER}no worker of the ingest's queue took it within {TAKEOVER_SECONDS:.0f} s; "
            f"a worker on another host records it, pulling rtmp://{ingest} (the first GOP may be missing)"
        )
        # A spool-only recorder's note says first why nothing is recorded (``recorder_claim`` keeps either).
        new_note = (f"{note}; {said}" if note.startswith(NOT_RECORDED) else said)[:NOTE_LENGTH]
        if PublishSession.objects.filter(pk=pk, recorder_status=RecorderStatus.PENDING, updated=updated).update(
            recorder_note=new_note, updated=now
        ):
            dispatch.send_now(RECORD_STREAM, pk)  # its route: the shared record queue
            taken.append(pk)
    if taken:
        log.warning("recorders of sessions %s taken over from their ingest's queue", taken)
    return taken
