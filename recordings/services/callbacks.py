"""Callbacks to the user (SPEC.md "Callbacks"): enqueue an event, make one signed attempt, log it, retry later."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from liverecord.models import App
from liverecord.ops.metrics import CALLBACK_ATTEMPTS, CALLBACK_FAILURES, CALLBACK_LATENCY
from recordings.choices import SNAPSHOT_FORMAT, CallbackEvent, DeliveryStatus
from recordings.dispatch import DELIVER_CALLBACK, send_after_commit
from recordings.models import CallbackAttempt, CallbackDelivery, PublishSession, RecordFile, RecordTask
from rules.models import Domain
from rules.selectors import domain_for_host
from rules.validators import private_address_reason
from workers.callbacks import DeliveryAttempt, backoff_delays, deliver, sign_body

#: How much longer than the callback timeout an attempt holds its delivery (connect, logging, a slow database).
CLAIM_MARGIN_SECONDS = 30


def _unix(moment: datetime | None) -> int:
    return int(moment.timestamp()) if moment else 0


def callback_enqueue(
    *,
    app: App,
    domain: Domain | None,
    event_type: int,
    where: tuple[str, str, str],
    fields: dict[str, Any],
    file: RecordFile | None = None,
    task: RecordTask | None = None,
    url: str = "",
) -> CallbackDelivery | None:
    """Queue an event for ``url``, else the domain's callback URL (none set: nothing to send)."""
    url = url or (domain.callback_url if domain is not None else "")
    if domain is None or not url:
        return None
    domain_name, app_name, stream_name = where
    delivery = CallbackDelivery(app=app, domain=domain, event_type=event_type, url=url, file=file, task=task)
    delivery.body = {
        "event_type": event_type,
        "event_id": delivery.event_id,
        "appid": app.pk,
        "app": domain_name,
        "appname": app_name,
        "stream_id": stream_name,
        "channel_id": stream_name,
        **fields,
    }
    delivery.next_attempt_at = timezone.now()
    delivery.save()
    _dispatch(delivery.pk)
    return delivery


def _dispatch(delivery_id: int, countdown: float = 0.0) -> None:
    send_after_commit(DELIVER_CALLBACK, delivery_id, countdown=countdown)


def callback_attempt(*, delivery_id: int) -> float | None:
    """One signed attempt, logged. Returns the delay before the next attempt, or None when done (or gone)."""
    if not _attempt_claim(delivery_id):
        return None  # delivered, given up, gone, or another run is POSTing it right now
    delivery = CallbackDelivery.objects.select_related("domain").get(pk=delivery_id)
    key = delivery.domain.callback_key if delivery.domain is not None else ""
    raw, headers = sign_body(delivery.body, key=key or "", appid=delivery.app_id, now=int(time.time()))
    refused = None if settings.LIVEREC_ALLOW_PRIVATE_CALLBACKS else private_address_reason(delivery.url)
    if refused:
        result = DeliveryAttempt(
            status_code=None, ok=False, error=f"refused: {refused}", duration_ms=0, response_excerpt=""
        )
    else:
        result = deliver(delivery.url, raw, headers, timeout=float(settings.LIVEREC_CALLBACK_TIMEOUT))
    now = timezone.now()
    CALLBACK_ATTEMPTS.labels(str(delivery.event_type)).inc()
    if result.ok:
        CALLBACK_LATENCY.observe(max(0.0, (now - delivery.created).total_seconds()))
    else:
        CALLBACK_FAILURES.labels(str(delivery.event_type)).inc()
    delays = list(settings.LIVEREC_CALLBACK_RETRY_DELAYS) or backoff_delays(
        attempts=settings.LIVEREC_CALLBACK_ATTEMPTS - 1, first=60, factor=2.5, cap=1800
    )
    with transaction.atomic():
        delivery = CallbackDelivery.objects.select_for_update().get(pk=delivery_id)
        CallbackAttempt.objects.create(
            delivery=delivery,
            status_code=result.status_code,
            ok=result.ok,
            error=result.error[:500],
            duration_ms=result.duration_ms,
            response_excerpt=result.response_excerpt[:500],
        )
        delivery.attempts += 1
        if result.ok:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = DeliveryStatus.DELIVERED, now, None
            delay = None
        elif delivery.attempts > len(delays):
            delivery.status, delivery.next_attempt_at = DeliveryStatus.FAILED, None
            delay = None
        else:
            delay = delays[delivery.attempts - 1]
            delivery.next_attempt_at = now + timedelta(seconds=delay)
        delivery.last_error = (result.error or (f"HTTP {result.status_code}" if not result.ok else ""))[:500]
        delivery.lease_until = None
        delivery.save()
    return delay


def _attempt_claim(delivery_id: int) -> bool:
    """Claim a pending delivery for one attempt (a conditional update): of two runs of the job, one POSTs.

    The lease outlasts the longest attempt (the timeout, plus the connect and the logging); a worker killed
    mid-attempt holds the delivery no longer than that, then its retry or beat's resend takes it.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.LIVEREC_CALLBACK_TIMEOUT + CLAIM_MARGIN_SECONDS)
    return bool(
        CallbackDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lte=now))
        .update(lease_until=lease, updated=now)
    )


def callback_redeliver(*, delivery: CallbackDelivery) -> CallbackDelivery:
    """Send a delivery again (admin action, API): back to pending with a fresh budget of attempts."""
    delivery.status, delivery.attempts, delivery.next_attempt_at = DeliveryStatus.PENDING, 0, timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated"])
    _dispatch(delivery.pk)
    return delivery


def callbacks_resend_due(*, now: datetime | None = None) -> int:
    """Beat: re-dispatch pending deliveries whose retry is overdue (a retry message lost in a restart)."""
    now = now or timezone.now()
    due = list(
        CallbackDelivery.objects.filter(
            Q(lease_until__isnull=True) | Q(lease_until__lte=now),
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now - timedelta(seconds=60),
        ).values_list("pk", flat=True)[:500]
    )
    for delivery_id in due:
        _dispatch(delivery_id)
    return len(due)


# Events


def _stream(session: PublishSession | RecordTask | RecordFile) -> tuple[str, str, str]:
    domain = session.domain_name if isinstance(session, PublishSession) else session.domain
    return domain, session.app_name, session.stream_name


def callback_push_started(*, session: PublishSession) -> None:
    callback_enqueue(
        app=session.app,
        domain=session.domain,
        event_type=CallbackEvent.PUSH_STARTED,
        where=_stream(session),
        fields={
            "event_time": _unix(session.started_at),
            "sequence": session.public_id,
            "user_ip": session.client_addr,
            "stream_param": session.stream_param,
        },
    )


def callback_push_ended(*, session: PublishSession) -> None:
    duration_ms = int((session.ended_at - session.started_at).total_seconds() * 1000) if session.ended_at else 0
    callback_enqueue(
        app=session.app,
        domain=session.domain,
        event_type=CallbackEvent.PUSH_ENDED,
        where=_stream(session),
        fields={
            "event_time": _unix(session.ended_at),
            "sequence": session.public_id,
            "push_duration": duration_ms,
            "errcode": 0,
            "errmsg": session.end_reason,
        },
    )


def callback_file_status(
    *, file: RecordFile, video_url: str, error: str = "", next_retry: datetime | None = None
) -> None:
    """100 when a file is stored; 101 (with ``error`` and ``next_retry``) when it goes to the backup spool.
    A snapshot gets its 200 when it is stored, and no event while it waits in the backup spool."""
    if file.format == SNAPSHOT_FORMAT:
        if not error:
            callback_snapshot_stored(snapshot=file, pic_url=video_url)
        return
    session = file.session
    domain = session.domain if session is not None else domain_for_host(host=file.domain)
    fields: dict[str, Any] = {
        "file_id": file.public_id,
        "record_file_id": file.public_id,
        "file_format": file.format,
        "task_id": file.task.public_id if file.task else "",
        "start_time": _unix(file.start_time),
        "end_time": _unix(file.end_time),
        "start_time_usec": file.start_time.microsecond,
        "end_time_usec": file.end_time.microsecond,
        "duration": round(file.duration, 3),
        "file_size": file.size,
        "stream_param": session.stream_param if session else "",
        "video_url": video_url,
        "callback_ext": json.dumps(
            {
                "video_codec": file.video_codec,
                "audio_codec": file.audio_codec,
                "width": file.width,
                "height": file.height,
                "storage_status": file.status,
                "object_key": file.object_key,
            },
            separators=(",", ":"),
        ),
    }
    task = file.task
    if task is not None and task.cloud_recording_id:
        fields.update({"cloud_recording_id": task.cloud_recording_id, "room_id": task.room_id, "user_id": task.user_id})
    event = CallbackEvent.FILE_STORED
    if error:
        event = CallbackEvent.FILE_BACKUP
        fields.update({"error": error[:500], "next_retry": _unix(next_retry)})
    callback_enqueue(
        app=file.app,
        domain=domain,
        event_type=event,
        where=_stream(file),
        fields=fields,
        file=file,
        url=task.callback_url if task is not None else "",
    )


def callback_snapshot_stored(*, snapshot: RecordFile, pic_url: str) -> None:
    """200: a snapshot is stored (SPEC.md "Callbacks"); ``create_time`` is the wallclock of its frame."""
    session = snapshot.session
    domain = session.domain if session is not None else domain_for_host(host=snapshot.domain)
    fields: dict[str, Any] = {
        "snapshot_id": snapshot.public_id,
        "pic_url": pic_url,
        "create_time": _unix(snapshot.start_time),
        "width": snapshot.width,
        "height": snapshot.height,
        "file_size": snapshot.size,
        "task_id": snapshot.task.public_id if snapshot.task else "",
        "cloud_recording_id": None,
        "room_id": None,
    }
    task = snapshot.task
    if task is not None and task.cloud_recording_id:
        fields.update({"cloud_recording_id": task.cloud_recording_id, "room_id": task.room_id, "user_id": task.user_id})
    callback_enqueue(
        app=snapshot.app,
        domain=domain,
        event_type=CallbackEvent.SNAPSHOT_STORED,
        where=_stream(snapshot),
        fields=fields,
        file=snapshot,
        url=task.callback_url if task is not None else "",
    )


def callback_task_status(*, task: RecordTask) -> None:
    domain = domain_for_host(host=task.domain)
    callback_enqueue(
        app=task.app,
        domain=domain if domain is not None and domain.app_id == task.app_id else None,
        event_type=CallbackEvent.TASK_STATUS,
        where=_stream(task),
        fields={"task_id": task.public_id, "status": task.status, "error": task.error},
        task=task,
        url=task.callback_url,
    )
