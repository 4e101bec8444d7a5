"""Writes on publish sessions: what the ingest hooks and the recorder call."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from recordings.choices import FINAL_TASK_STATUSES, RecorderStatus, SessionStatus, TaskKind, TaskStatus
from recordings.constants import NOT_RECORDED, ROOM_ID_PATTERN
from recordings.models import PublishSession, RecordTask
from recordings.services.callbacks import callback_push_ended, callback_push_started
from recordings.services.record_tasks import session_tasks_attach, task_recording_finished
from recordings.services.recorders import recorder_dispatch
from recordings.signals import session_closed, session_opened
from rules.constants import DEFAULT_SOURCE_URL_TEMPLATE
from rules.models import Domain
from rules.push_auth import push_signature_error
from rules.selectors import domain_for_host, rule_match
from rules.services import domain_name_normalize

log = logging.getLogger(__name__)

#: A scheduled window opening this soon makes a new push spooled at once, so the window starts on time.
SPOOL_AHEAD = timedelta(seconds=60)


class PushRefused(Exception):
    """The ingest must drop this push (unknown domain, bad signature)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class PushInfo:
    """What an ingest hook says about a push, whatever the ingest server (nginx-rtmp, SRS)."""

    host: str
    app_name: str
    stream_name: str
    params: Mapping[str, str]
    stream_param: str
    client_addr: str
    client_id: str
    ingest: str
    ingest_record_dir: str = ""


_ROOM_ID = re.compile(ROOM_ID_PATTERN)


def push_room(*, params: Mapping[str, str], stream_name: str) -> tuple[str, str]:
    """The push's (room_id, user_id) from its query ``room=`` / ``user=``; ("", "") for a push in no room.

    A bad room (or user) value leaves the push out of every room: it is still recorded by the rules.
    """
    room = params.get("room", "")
    user = params.get("user", "") or stream_name
    if not _ROOM_ID.match(room) or not _ROOM_ID.match(user):
        return "", ""
    return room, user


def _source_url(domain: Domain, push: PushInfo) -> str:
    template = domain.source_url_template or DEFAULT_SOURCE_URL_TEMPLATE
    return template.format(ingest=push.ingest, app=push.app_name, stream=push.stream_name, domain=push.host)


def session_open(*, push: PushInfo) -> PublishSession:
    """on_publish: check the push, open its session, attach its recordings and enqueue one recorder.

    Answers in milliseconds: rows and one enqueue, never media work. A push that nothing records is accepted,
    and its session's ``recorder_note`` says why ("not recorded: no rule matches ...").
    """
    push = replace(push, host=domain_name_normalize(push.host))
    domain = domain_for_host(host=push.host)
    if domain is None:
        raise PushRefused(f"unknown push domain {push.host!r}")
    reason = push_signature_error(domain=domain, stream_name=push.stream_name, params=push.params)
    if reason:
        raise PushRefused(reason)
    now = timezone.now()
    room_id, user_id = push_room(params=push.params, stream_name=push.stream_name)
    with transaction.atomic():
        for stale in PublishSession.objects.select_for_update().filter(
            app=domain.app,
            domain_name=push.host,
            app_name=push.app_name,
            stream_name=push.stream_name,
            status=SessionStatus.LIVE,
        ):
            _session_close(stale, now=now, reason="replaced by a new push of the same stream")
        session = PublishSession.objects.create(
            app=domain.app,
            domain=domain,
            domain_name=push.host,
            app_name=push.app_name,
            stream_name=push.stream_name,
            started_at=now,
            client_addr=push.client_addr[:64],
            client_id=push.client_id[:64],
            stream_param=push.stream_param[:2048],
            ingest=push.ingest,
            ingest_record_dir=push.ingest_record_dir,
            source_url=_source_url(domain, push),
            room_id=room_id,
            user_id=user_id,
        )
        callback_push_started(session=session)
        continued, scheduled = session_tasks_attach(session=session, now=now)
        tasks, why_not = ([continued], "") if continued is not None else _rule_task(session, domain)
        tasks += scheduled
        if session.room_id:
            # Cloud recordings of the room attach their tasks (and start the recorder through recorder_redispatch).
            for _receiver, attached in session_opened.send(sender=PublishSession, session=session):
                tasks += [task for task in attached or () if isinstance(task, RecordTask)]
        if not tasks:
            session.recorder_note = why_not[:300]
        if tasks or session_needs_spool(session=session, now=now):
            if not tasks:
                session.save(update_fields=["recorder_note", "updated"])
            recorder_dispatch(session=session)
        else:
            session.recorder_status = RecorderStatus.DONE
            session.save(update_fields=["recorder_status", "recorder_note", "updated"])
    return session


def session_needs_spool(*, session: PublishSession, now: datetime) -> bool:
    """Spool a push with no recording yet: its domain keeps a look-back for highlights, or a window opens soon."""
    if session.domain is not None and session.domain.lookback_seconds > 0:
        return True
    return RecordTask.objects.filter(
        app=session.app,
        domain=session.domain_name,
        app_name=session.app_name,
        stream_name=session.stream_name,
        kind=TaskKind.SCHEDULED,
        status__in=(TaskStatus.SCHEDULED, TaskStatus.WAITING),
        start_time__lte=now + SPOOL_AHEAD,
        end_time__gt=now,
    ).exists()


def _rule_task(session: PublishSession, domain: Domain) -> tuple[list[RecordTask], str]:
    """The push's rule task, when the most specific matching rule's template records anything; else why not."""
    rule = rule_match(app=domain.app, domain=domain.name, app_name=session.app_name, stream_name=session.stream_name)
    if rule is None:
        where = f"{session.domain_name}/{session.app_name}/{session.stream_name}"
        return [], f"{NOT_RECORDED}no rule matches {where}"
    if not rule.template.records_anything:
        return [], f"{NOT_RECORDED}the matching rule's template {rule.template.name!r} records no format"
    template = rule.template
    task = RecordTask.objects.create(
        app=session.app,
        kind=TaskKind.RULE,
        status=TaskStatus.RECORDING,
        domain=session.domain_name,
        app_name=session.app_name,
        stream_name=session.stream_name,
        start_time=session.started_at,
        template=template,
        rule=rule,
        session=session,
        **template.frozen_parameters(),
    )
    return [task], ""


def _session_close(session: PublishSession, *, now: datetime, reason: str) -> None:
    session.status = SessionStatus.ENDED
    session.ended_at = now
    session.end_reason = reason[:200]
    session.save(update_fields=["status", "ended_at", "end_reason", "updated"])
    callback_push_ended(session=session)
    if session.room_id:
        session_closed.send(sender=PublishSession, session=session)


def session_close(
    *, host: str, app_name: str, stream_name: str, client_id: str = "", reason: str = "publish done"
) -> int:
    """on_publish_done: end the stream's live session; its recorder finishes the last files. Idempotent."""
    host = domain_name_normalize(host)
    sessions = PublishSession.objects.filter(
        domain_name=host, app_name=app_name, stream_name=stream_name, status=SessionStatus.LIVE
    )
    if client_id:
        sessions = sessions.filter(client_id=client_id)
    closed = 0
    with transaction.atomic():
        for session in sessions.select_related("app", "domain").select_for_update(of=("self",)):
            _session_close(session, now=timezone.now(), reason=reason)
            closed += 1
    return closed


def session_record_stats(*, session_id: int, stats: Mapping[str, object], running: bool = True) -> None:
    """The recorder's measurements and heartbeat."""
    fields: dict[str, object] = {"heartbeat_at": timezone.now(), "updated": timezone.now()}
    for name in ("video_codec", "audio_codec"):
        if stats.get(name):
            fields[name] = str(stats[name])[:32]
    for name in ("width", "height", "fps", "gop_seconds", "bitrate"):
        if stats.get(name) is not None:
            fields[name] = stats[name]
    if running:
        fields["recorder_status"] = RecorderStatus.RUNNING
    PublishSession.objects.filter(pk=session_id).update(**fields)


def session_recorder_finished(*, session_id: int, error: str = "") -> None:
    """The recorder is done: its tasks that were still recording are finished (or failed)."""
    now = timezone.now()
    with transaction.atomic():
        PublishSession.objects.filter(pk=session_id).update(
            recorder_status=RecorderStatus.FAILED if error else RecorderStatus.DONE, heartbeat_at=now, updated=now
        )
        session = PublishSession.objects.select_for_update().get(pk=session_id)
        if session.status == SessionStatus.LIVE:
            _session_close(session, now=now, reason=error or "end of stream")
    for task_id in (
        RecordTask.objects.filter(session_id=session_id)
        .exclude(status__in=FINAL_TASK_STATUSES)
        .values_list("public_id", flat=True)
    ):
        task_recording_finished(task_id=task_id, now=now, error=error)
