"""Writes on record tasks: scheduled windows, highlights, stop and delete, and their state machine.

``scheduled`` → ``waiting`` (window open, stream not live) ⇄ ``recording`` → ``stopping`` → ``finished``;
``cancelled`` for a task stopped or deleted before it started; ``failed`` when its recorder failed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from liverecord.errors import ConflictError
from liverecord.models import App
from recordings.choices import FINAL_TASK_STATUSES, TaskKind, TaskStatus
from recordings.constants import NOT_RECORDED
from recordings.dispatch import CLOSE_HLS_PLAYLIST, send_after_commit
from recordings.models import PublishSession, RecordTask
from recordings.selectors import session_live
from recordings.services.callbacks import callback_task_status
from recordings.services.recorders import recorder_redispatch
from rules.models import Domain
from rules.selectors import domain_for_host
from rules.services import domain_name_normalize
from templates_app.constants import DEFAULT_RECORD_INTERVAL
from templates_app.models import RecordTemplate

SCHEDULE_AHEAD = timedelta(days=7)
MAX_SPAN = timedelta(hours=24)
HIGHLIGHT_MAX = timedelta(minutes=30)
DEFAULT_FORMATS = {"hls": {"record_interval": 0, "storage_time": 0}}
NOT_STARTED = (TaskStatus.SCHEDULED, TaskStatus.WAITING)
RUNNING = (TaskStatus.RECORDING, TaskStatus.STOPPING)
#: A queued playlist close holds its task this long; past it (the job was lost) beat queues the close again.
HLS_CLOSE_LEASE = timedelta(seconds=60)


def _domain_of_app(app: App, name: str) -> Domain:
    domain = domain_for_host(host=name)
    if domain is None or domain.app_id != app.pk:
        raise ValidationError({"domain": f"{name!r} is not a push domain of this app"})
    return domain


def _check_template(app: App, template: RecordTemplate | None) -> None:
    if template is not None and template.app_id != app.pk:
        raise ValidationError({"template": "does not exist in this app"})


def _frozen(template: RecordTemplate | None, formats: dict[str, Any] | None, record_type: str | None) -> dict[str, Any]:
    if template is not None:
        frozen = template.frozen_parameters()
        return {**frozen, "record_type": record_type or frozen["record_type"]}
    frozen = {
        fmt: {
            "record_interval": int(opts.get("record_interval", DEFAULT_RECORD_INTERVAL)),
            "storage_time": int(opts.get("storage_time", 0)),
        }
        for fmt, opts in (formats or {}).items()
        if opts is not None and opts.get("enabled", True)
    }
    return {"formats": frozen or dict(DEFAULT_FORMATS), "record_type": record_type or "video"}


def _where_and_what(
    domain: str,
    app_name: str,
    stream_name: str,
    start: datetime,
    end: datetime,
    template: RecordTemplate | None,
    formats: dict[str, Any] | None,
    record_type: str | None,
) -> dict[str, Any]:
    """The fields every API-made task has: the stream, the window and the frozen recording parameters."""
    return {
        "domain": domain,
        "app_name": app_name,
        "stream_name": stream_name,
        "start_time": start,
        "end_time": end,
        "template": template,
        **_frozen(template, formats, record_type),
    }


def _overlapping(
    app: App, domain: str, app_name: str, stream_name: str, start: datetime, end: datetime
) -> QuerySet[RecordTask]:
    return (
        RecordTask.objects.filter(app=app, domain=domain, app_name=app_name, stream_name=stream_name)
        .exclude(status__in=FINAL_TASK_STATUSES)
        .filter(
            Q(start_time__isnull=True) | Q(start_time__lt=end),
            Q(end_time__isnull=True) | Q(end_time__gt=start),
        )
    )


def _check_overlap(app: App, domain: str, app_name: str, stream_name: str, start: datetime, end: datetime) -> None:
    limit = settings.LIVEREC_MAX_OVERLAPPING_TASKS
    if _overlapping(app, domain, app_name, stream_name, start, end).count() >= limit:
        raise ConflictError(f"at most {limit} recordings may run at once on one stream")


def _attach(task: RecordTask, session: PublishSession, *, now: datetime) -> None:
    """The task records this live session from now on; its recorder picks it up (or one is started)."""
    task.session = session
    task.status = TaskStatus.RECORDING
    task.save(update_fields=["session", "status", "updated"])
    if session.recorder_note.startswith(NOT_RECORDED):
        PublishSession.objects.filter(pk=session.pk).update(recorder_note="", updated=now)
    callback_task_status(task=task)
    recorder_redispatch(session_id=session.pk)


@transaction.atomic
def task_create_scheduled(
    *,
    app: App,
    domain: str,
    app_name: str,
    stream_name: str,
    end_time: datetime | None = None,
    start_time: datetime | None = None,
    template: RecordTemplate | None = None,
    formats: dict[str, Any] | None = None,
    record_type: str | None = None,
    now: datetime | None = None,
) -> RecordTask:
    """Record every push of a stream inside [start_time, end_time]; a push already live is recorded from start."""
    now = now or timezone.now()
    domain = domain_name_normalize(domain)
    _check_template(app, template)
    start = start_time or now
    if end_time is None:
        raise ValidationError({"end_time": "is required for a scheduled task"})
    errors: dict[str, str] = {}
    if end_time <= start:
        errors["end_time"] = "must be after start_time"
    elif end_time <= now:
        errors["end_time"] = "must be in the future"
    elif end_time > now + SCHEDULE_AHEAD:
        errors["end_time"] = "must be within 7 days from now"
    elif end_time - start > MAX_SPAN:
        errors["end_time"] = "must be at most 24 hours after start_time"
    if errors:
        raise ValidationError(errors)
    domain_row = _domain_of_app(app, domain)
    _check_overlap(app, domain, app_name, stream_name, start, end_time)
    task = RecordTask.objects.create(
        app=app,
        kind=TaskKind.SCHEDULED,
        status=TaskStatus.SCHEDULED,
        **_where_and_what(domain, app_name, stream_name, start, end_time, template, formats, record_type),
    )
    if start <= now:
        _open_window(task, now=now, domain=domain_row)
    return task


@transaction.atomic
def task_create_highlight(
    *,
    app: App,
    domain: str,
    app_name: str,
    stream_name: str,
    end_time: datetime | None = None,
    lookback_seconds: int = 0,
    template: RecordTemplate | None = None,
    formats: dict[str, Any] | None = None,
    record_type: str | None = None,
    now: datetime | None = None,
) -> RecordTask:
    """Record a live stream from now (or ``lookback_seconds`` ago) until ``end_time`` (at most 30 min ahead)."""
    now = now or timezone.now()
    domain = domain_name_normalize(domain)
    _check_template(app, template)
    domain_row = _domain_of_app(app, domain)
    end = end_time or now + HIGHLIGHT_MAX
    if end <= now:
        raise ValidationError({"end_time": "must be in the future"})
    if end > now + HIGHLIGHT_MAX:
        raise ValidationError({"end_time": "must be at most 30 minutes from now"})
    if not 0 <= lookback_seconds <= domain_row.lookback_seconds:
        raise ValidationError(
            {"lookback_seconds": f"must be between 0 and {domain_row.lookback_seconds} (the domain's lookback_seconds)"}
        )
    session = session_live(app=app, domain=domain, app_name=app_name, stream_name=stream_name)
    if session is None:
        raise ConflictError("the stream is not live", code="stream_not_live")
    start = now - timedelta(seconds=lookback_seconds)
    _check_overlap(app, domain, app_name, stream_name, start, end)
    task = RecordTask.objects.create(
        app=app,
        kind=TaskKind.HIGHLIGHT,
        status=TaskStatus.RECORDING,
        session=session,
        **_where_and_what(domain, app_name, stream_name, start, end, template, formats, record_type),
    )
    _attach(task, session, now=now)
    return task


def _open_window(task: RecordTask, *, now: datetime, domain: Domain | None = None) -> None:
    session = session_live(app=task.app, domain=task.domain, app_name=task.app_name, stream_name=task.stream_name)
    if session is not None:
        _attach(task, session, now=now)
    elif task.status != TaskStatus.WAITING:
        task.status = TaskStatus.WAITING
        task.save(update_fields=["status", "updated"])
        callback_task_status(task=task)


def _finish(task: RecordTask, *, now: datetime, status: str = TaskStatus.FINISHED, error: str = "") -> None:
    task.status = status
    task.stopped_at = task.stopped_at or now
    task.continue_until = None
    if error:
        task.error = error[:2000]
    task.save(update_fields=["status", "stopped_at", "error", "continue_until", "updated"])
    callback_task_status(task=task)
    if task.hls_pending:
        _queue_hls_close(task, now=now)


def _queue_hls_close(task: RecordTask, *, now: datetime) -> bool:
    """The task is over: its open HLS playlist gets #EXT-X-ENDLIST and is stored and announced (queue io).

    Queued once: the close is claimed on the row for ``HLS_CLOSE_LEASE``, and beat queues it again only when
    that has passed with the playlist still open (the job was lost). Returns whether it was queued now.
    """
    claimed = (
        RecordTask.objects.filter(pk=task.pk, hls_pending__isnull=False)
        .filter(Q(hls_close_lease_until__isnull=True) | Q(hls_close_lease_until__lte=now))
        .update(hls_close_lease_until=now + HLS_CLOSE_LEASE)
    )
    if claimed:
        send_after_commit(CLOSE_HLS_PLAYLIST, task.pk)
    return bool(claimed)


def task_hls_hold(*, task_id: str, pending: dict[str, Any]) -> None:
    """Keep a task's HLS playlist open (not announced) so that a reconnect can continue it."""
    RecordTask.objects.filter(public_id=task_id).update(hls_pending=pending, updated=timezone.now())


def task_hls_closed(*, task: RecordTask) -> None:
    RecordTask.objects.filter(pk=task.pk).update(hls_pending=None, hls_close_lease_until=None, updated=timezone.now())


@transaction.atomic
def task_stop(*, task: RecordTask, now: datetime | None = None) -> RecordTask:
    """End a task now. A recording one moves to ``stopping``: its recorder makes its last files, then ``finished``."""
    now = now or timezone.now()
    task = RecordTask.objects.select_for_update().get(pk=task.pk)
    if task.status in FINAL_TASK_STATUSES or task.status == TaskStatus.STOPPING:
        raise ConflictError(f"the task is already {task.status}", code="already_stopped")
    if task.status == TaskStatus.RECORDING:
        task.status = TaskStatus.STOPPING
        task.stopped_at = now
        task.save(update_fields=["status", "stopped_at", "updated"])
        callback_task_status(task=task)
    elif task.status in NOT_STARTED:
        started = task.files.exists() or bool(task.hls_pending)
        _finish(task, now=now, status=TaskStatus.FINISHED if started else TaskStatus.CANCELLED)
    return task


@transaction.atomic
def task_delete(*, task: RecordTask) -> None:
    """Remove a task: one not started is cancelled and removed; a running one is 409; a finished one keeps its files."""
    if task.status in RUNNING:
        raise ConflictError("the task is running: stop it first")
    task.delete()


def session_tasks_attach(*, session: PublishSession, now: datetime) -> tuple[RecordTask | None, list[RecordTask]]:
    """A push started: the rule task whose HLS reconnect window it falls in continues (and its playlist), and
    scheduled tasks whose window covers now record it too. One locked query for both: it runs on every
    publish hook, whose budget is a few milliseconds (benchmarks/REPORT.md §4)."""
    found = list(
        RecordTask.objects.select_for_update().filter(
            Q(kind=TaskKind.RULE, status=TaskStatus.WAITING, continue_until__gt=now)
            | Q(kind=TaskKind.SCHEDULED, status__in=NOT_STARTED, start_time__lte=now, end_time__gt=now),
            app=session.app,
            domain=session.domain_name,
            app_name=session.app_name,
            stream_name=session.stream_name,
        )
    )
    continued = max((t for t in found if t.kind == TaskKind.RULE), key=lambda t: t.continue_until or now, default=None)
    if continued is not None:
        continued.continue_until = None
        continued.save(update_fields=["continue_until", "updated"])
        _attach(continued, session, now=now)
    scheduled = [t for t in found if t.kind == TaskKind.SCHEDULED]
    for task in scheduled:
        _attach(task, session, now=now)
    return continued, scheduled


def task_recording_finished(*, task_id: str, now: datetime | None = None, error: str = "") -> None:
    """The recorder has made a task's last files for this push: finished, or waiting for the next push."""
    now = now or timezone.now()
    with transaction.atomic():
        task = RecordTask.objects.select_for_update().filter(public_id=task_id).first()
        if task is None or task.status in FINAL_TASK_STATUSES:
            return
        if error:
            _finish(task, now=now, status=TaskStatus.FAILED, error=error)
        elif task.status == TaskStatus.RECORDING and (
            (task.kind == TaskKind.SCHEDULED and task.end_time is not None and task.end_time > now)
            or (task.hls_pending and task.hls_continue_duration > 0)
        ):
            # The push ended but the task goes on: its window is still open, or its playlist waits for a reconnect.
            task.status = TaskStatus.WAITING
            task.session = None
            if task.hls_pending and task.hls_continue_duration > 0:
                task.continue_until = now + timedelta(seconds=task.hls_continue_duration)
            task.save(update_fields=["status", "session", "continue_until", "updated"])
            callback_task_status(task=task)
        else:
            _finish(task, now=now)


def task_windows_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Beat: open windows that have started and close those that have ended (also edges missed while down)."""
    now = now or timezone.now()
    opened = closed = 0
    with transaction.atomic():
        for task in RecordTask.objects.select_for_update().filter(
            kind=TaskKind.SCHEDULED, status__in=NOT_STARTED, start_time__lte=now, end_time__gt=now
        ):
            before = task.status
            _open_window(task, now=now)
            opened += task.status != before
        ended = Q(end_time__lte=now) & (Q(continue_until__isnull=True) | Q(continue_until__lte=now))
        reconnect_over = Q(end_time__isnull=True, continue_until__lte=now)
        for task in RecordTask.objects.select_for_update().filter(ended | reconnect_over, status__in=NOT_STARTED):
            _finish(task, now=now)
            closed += 1
        unqueued = Q(hls_close_lease_until__isnull=True) | Q(hls_close_lease_until__lte=now)
        for task in RecordTask.objects.filter(unqueued, status__in=FINAL_TASK_STATUSES, hls_pending__isnull=False):
            _queue_hls_close(task, now=now)
    return {"opened": opened, "closed": closed}
