"""Writes on cloud recordings: create, stop, update-subscription, the pushes of a room joining and leaving,
and the beat tick that enforces ``max_idle_time`` / ``max_record_time`` (SPEC.md "Rooms and cloud recordings").

In ``single`` mode a recording attaches one record task (kind ``cloud``) per subscribed stream to that stream's
existing session, so each stream is still pulled and spooled once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from liverecord.errors import ConflictError
from liverecord.models import App
from recordings.choices import FINAL_TASK_STATUSES, CallbackEvent, SessionStatus, TaskKind, TaskStatus
from recordings.constants import NOT_RECORDED, ROOM_ID_MESSAGE, ROOM_ID_PATTERN
from recordings.models import PublishSession, RecordTask
from recordings.services import recorder_redispatch, task_stop
from recordings.services.callbacks import callback_enqueue
from rooms.choices import FINAL_STATUSES, RUNNING_STATUSES, CloudStatus, EndReason, RecordingMode, StreamType
from rooms.constants import (
    DEFAULT_FORMATS,
    MAX_IDLE_TIME_MAX,
    MAX_IDLE_TIME_MIN,
    MAX_RECORD_TIME_MAX,
    MAX_RECORD_TIME_MIN,
    MEDIA,
    SINGLE_FILE_NAME_TEMPLATE,
    SUBSCRIPTION_LIST_MAX,
)
from rooms.models import CloudRecording, CloudRecordingStream
from rooms.subscriptions import LIST_NAMES as LISTS
from rooms.subscriptions import Subscription, lists_updated, media_recorded, task_media
from rules.models import Domain, StorageTarget
from rules.selectors import domain_for_host
from rules.services import domain_name_normalize
from templates_app.constants import DEFAULT_RECORD_INTERVAL
from templates_app.models import RecordTemplate


def _frozen_formats(template: RecordTemplate | None, formats: Mapping[str, Any] | None) -> tuple[dict[str, Any], str]:
    """(formats, file name template) the recording's tasks record; the template's, or ``formats`` with defaults."""
    if template is not None:
        frozen = template.frozen_parameters()
        return frozen["formats"], frozen["file_name_template"]
    given = DEFAULT_FORMATS if formats is None else formats
    return (
        {
            fmt: {
                "record_interval": int((opts or {}).get("record_interval", DEFAULT_RECORD_INTERVAL)),
                "storage_time": int((opts or {}).get("storage_time", 0)),
            }
            for fmt, opts in given.items()
            if opts is not None and opts.get("enabled", True)
        },
        "",
    )


def _check_lists(lists: Mapping[str, Sequence[str] | None]) -> None:
    errors = {
        f"un{name}": f"give {name} or un{name}, not both"
        for name in (f"subscribe_{medium}" for medium in MEDIA)
        if lists.get(name) and lists.get(f"un{name}")
    }
    if errors:
        raise ValidationError(errors)


_ROOM_ID = re.compile(ROOM_ID_PATTERN)


def _check_bounds(*, room_id: str, stream_type: str, max_idle_time: int, max_record_time: int, lists: Any) -> None:
    """SPEC's bounds, whoever calls (the API's serializer checks them too, with the same messages)."""
    errors: dict[str, str] = {}
    if not _ROOM_ID.match(room_id):
        errors["room_id"] = ROOM_ID_MESSAGE
    if stream_type not in StreamType.values:
        errors["stream_type"] = "must be audio_video, audio, video or audio_video_separate"
    if not MAX_IDLE_TIME_MIN <= max_idle_time <= MAX_IDLE_TIME_MAX:
        errors["max_idle_time"] = f"must be between {MAX_IDLE_TIME_MIN} and {MAX_IDLE_TIME_MAX}"
    if not MAX_RECORD_TIME_MIN <= max_record_time <= MAX_RECORD_TIME_MAX:
        errors["max_record_time"] = f"must be between {MAX_RECORD_TIME_MIN} and {MAX_RECORD_TIME_MAX}"
    for name, value in lists.items():
        if value and len(value) > SUBSCRIPTION_LIST_MAX:
            errors[name] = f"must have at most {SUBSCRIPTION_LIST_MAX} stream names"
    if errors:
        raise ValidationError(errors)


def _domain_of_app(app: App, name: str) -> Domain:
    domain = domain_for_host(host=domain_name_normalize(name))
    if domain is None or domain.app_id != app.pk:
        raise ValidationError({"domain": f"{name!r} is not a push domain of this app"})
    return domain


def cloud_recording_create(
    *,
    app: App,
    domain: str,
    room_id: str,
    mode: str = RecordingMode.SINGLE,
    stream_type: str = "audio_video",
    subscribe_audio: Sequence[str] | None = None,
    subscribe_video: Sequence[str] | None = None,
    unsubscribe_audio: Sequence[str] | None = None,
    unsubscribe_video: Sequence[str] | None = None,
    template: RecordTemplate | None = None,
    formats: Mapping[str, Any] | None = None,
    snapshot: Mapping[str, int] | None = None,
    fill_blank: bool = False,
    mute_audio: Mapping[str, Any] | None = None,
    max_idle_time: int = 30,
    max_record_time: int = 86400,
    mix: Mapping[str, Any] | None = None,
    callback_url: str = "",
    storage: StorageTarget | None = None,
    now: datetime | None = None,
) -> CloudRecording:
    """Start recording a room: its live streams at once, later ones as they join (``idle`` until the first)."""
    now = now or timezone.now()
    lists = {
        "subscribe_audio": subscribe_audio,
        "subscribe_video": subscribe_video,
        "unsubscribe_audio": unsubscribe_audio,
        "unsubscribe_video": unsubscribe_video,
    }
    _check_bounds(
        room_id=room_id,
        stream_type=stream_type,
        max_idle_time=max_idle_time,
        max_record_time=max_record_time,
        lists=lists,
    )
    _check_lists(lists)
    if mode == RecordingMode.MIXED:
        raise ValidationError({"mode": "mixed recordings are not supported yet (next release): use single"})
    if mix is not None:
        raise ValidationError({"mix": "is only for mode mixed"})
    if fill_blank:
        raise ValidationError({"fill_blank": "is not supported yet: a stream that returns starts new files"})
    for name, obj in (("template", template), ("storage", storage)):
        if obj is not None and obj.app_id != app.pk:
            raise ValidationError({name: "does not exist in this app"})
    frozen, name_template = _frozen_formats(template, formats)
    if mute_audio is not None and (stream_type != "audio" or set(frozen) != {"mp3"}):
        raise ValidationError({"mute_audio": "needs stream_type audio and the format mp3 only"})
    if not frozen and snapshot is None:
        raise ValidationError(
            {"formats": "records nothing: give a format, or a snapshot for a snapshot-only recording"}
        )
    domain_row = _domain_of_app(app, domain)
    if CloudRecording.objects.filter(
        domain=domain_row, room_id=room_id, mode=mode, status__in=RUNNING_STATUSES
    ).exists():
        raise ConflictError(f"room {room_id!r} already has a running {mode} recording")
    try:
        with transaction.atomic():
            recording = CloudRecording.objects.create(
                app=app,
                domain=domain_row,
                room_id=room_id,
                mode=mode,
                stream_type=stream_type,
                template=template,
                formats=frozen,
                file_name_template=name_template,
                snapshot=dict(snapshot) if snapshot is not None else None,
                max_idle_time=max_idle_time,
                max_record_time=max_record_time,
                callback_url=callback_url,
                storage=storage,
                mute_audio=dict(mute_audio) if mute_audio is not None else None,
                started_at=now,
                empty_since=now,
                **{name: list(value) if value else None for name, value in lists.items()},
            )
            _callback_status(recording)
            for session in _live_sessions(recording):
                _stream_join(recording, session, now=now)
    except IntegrityError as exc:
        raise ConflictError(f"room {room_id!r} already has a running {mode} recording") from exc
    return recording


def _live_sessions(recording: CloudRecording) -> list[PublishSession]:
    return list(
        PublishSession.objects.filter(
            app_id=recording.app_id, domain=recording.domain_id, room_id=recording.room_id, status=SessionStatus.LIVE
        ).select_related("domain")
    )


def _stream_join(recording: CloudRecording, session: PublishSession, *, now: datetime) -> RecordTask | None:
    """A push of the room (live now or joining): its row, and its record task when anything of it is subscribed."""
    row, created = CloudRecordingStream.objects.get_or_create(
        recording=recording,
        session=session,
        defaults={"stream_name": session.stream_name, "user_id": session.user_id, "joined_at": now},
    )
    if not created:
        return None
    task = _task_start(recording, row, session, now=now)
    if recording.status == CloudStatus.IDLE:
        recording.status = CloudStatus.RECORDING
        recording.save(update_fields=["status", "updated"])
        _callback_status(recording)
    if recording.empty_since is not None:
        CloudRecording.objects.filter(pk=recording.pk).update(empty_since=None, idle_callbacks=0, updated=now)
        recording.empty_since, recording.idle_callbacks = None, 0
    return task


def _task_start(
    recording: CloudRecording, row: CloudRecordingStream, session: PublishSession, *, now: datetime
) -> RecordTask | None:
    audio, video = media_recorded(
        stream_name=row.stream_name, stream_type=recording.stream_type, subscription=Subscription.of(recording)
    )
    media = task_media(audio=audio, video=video, stream_type=recording.stream_type, formats=recording.formats)
    if media is not None and not media.formats and recording.snapshot is None:
        media = None  # an audio format for a stream whose audio is not subscribed: nothing to make
    task = None
    if media is not None:
        task = RecordTask.objects.create(
            app_id=recording.app_id,
            kind=TaskKind.CLOUD,
            status=TaskStatus.RECORDING,
            domain=session.domain_name,
            app_name=session.app_name,
            stream_name=session.stream_name,
            start_time=now,
            session=session,
            formats=media.formats,
            record_type=media.record_type,
            file_name_template=recording.file_name_template or SINGLE_FILE_NAME_TEMPLATE,
            cloud_recording_id=recording.public_id,
            room_id=recording.room_id,
            user_id=row.user_id,
            callback_url=recording.callback_url,
            storage=recording.storage,
            snapshot=_task_snapshot(recording),
            mute_audio=recording.mute_audio if "mp3" in media.formats else None,
        )
        if session.recorder_note.startswith(NOT_RECORDED):
            PublishSession.objects.filter(pk=session.pk).update(recorder_note="", updated=now)
        recorder_redispatch(session_id=session.pk)
    row.task, row.audio, row.video = task, audio and task is not None, video and task is not None
    row.save(update_fields=["task", "audio", "video", "updated"])
    return task


def _task_snapshot(recording: CloudRecording) -> dict[str, int] | None:
    """The task's frozen ``snapshot`` (the recorder makes a JPEG every ``interval`` s when it is set)."""
    if recording.snapshot is None:
        return None
    return {
        "interval": int(recording.snapshot["interval"]),
        "storage_time": int(recording.snapshot.get("storage_time", 0)),
    }


def _task_end(task: RecordTask | None, *, now: datetime) -> None:
    if task is None:
        return
    task.refresh_from_db(fields=["status"])
    if task.status not in (*FINAL_TASK_STATUSES, TaskStatus.STOPPING):
        task_stop(task=task, now=now)


def session_joined(*, session: PublishSession, now: datetime | None = None) -> list[RecordTask]:
    """A push of a room opened: every running single recording of the room records it. Its new tasks."""
    now = now or timezone.now()
    tasks: list[RecordTask] = []
    if session.domain_id is None:
        return tasks
    for recording in CloudRecording.objects.select_for_update().filter(
        app_id=session.app_id,
        domain_id=session.domain_id,
        room_id=session.room_id,
        mode=RecordingMode.SINGLE,
        status__in=RUNNING_STATUSES,
    ):
        task = _stream_join(recording, session, now=now)
        if task is not None:
            tasks.append(task)
    return tasks


def session_left(*, session: PublishSession, now: datetime | None = None) -> None:
    """A push of a room ended: its rows get ``left_at`` (its recorder finishes its tasks' files)."""
    now = now or session.ended_at or timezone.now()
    rows = CloudRecordingStream.objects.filter(session=session, left_at__isnull=True)
    recording_ids = list(rows.values_list("recording_id", flat=True))
    rows.update(left_at=now, updated=now)
    for recording in CloudRecording.objects.filter(pk__in=recording_ids, status__in=RUNNING_STATUSES):
        if not _live_sessions(recording):
            # The room emptied now: max_idle_time and the 334s count from here, not from the next tick.
            CloudRecording.objects.filter(pk=recording.pk, empty_since__isnull=True).update(
                empty_since=now, idle_callbacks=0, updated=now
            )


@transaction.atomic
def cloud_recording_stop(
    *, recording: CloudRecording, reason: str = EndReason.STOPPED, error: str = "", now: datetime | None = None
) -> CloudRecording:
    """End a recording: its streams' last files are made (``stopping``), then ``finished``. Repeated: 409."""
    now = now or timezone.now()
    recording = CloudRecording.objects.select_for_update().get(pk=recording.pk)
    if recording.status not in RUNNING_STATUSES:
        raise ConflictError(f"the cloud recording is already {recording.status}", code="already_stopped")
    for row in recording.streams.select_related("task").filter(task__isnull=False):
        _task_end(row.task, now=now)
    recording.status, recording.reason, recording.stopped_at = CloudStatus.STOPPING, reason, now
    recording.error = error[:2000]
    recording.save(update_fields=["status", "reason", "stopped_at", "error", "updated"])
    _callback_status(recording)
    _finish_if_done(recording)
    return recording


def _finish_if_done(recording: CloudRecording) -> bool:
    running = RecordTask.objects.filter(cloud_recording_id=recording.public_id).exclude(status__in=FINAL_TASK_STATUSES)
    if recording.status != CloudStatus.STOPPING or running.exists():
        return False
    recording.status = CloudStatus.FINISHED
    recording.save(update_fields=["status", "updated"])
    _callback_status(recording)
    return True


@transaction.atomic
def cloud_recording_update_subscription(
    *, recording: CloudRecording, lists: Mapping[str, Sequence[str] | None], now: datetime | None = None
) -> CloudRecording:
    """New subscription lists (a medium left out keeps its lists), applied now to live streams and to later ones.

    A live stream whose recorded media change gets a new task (new files); the old one makes its last files.
    """
    now = now or timezone.now()
    recording = CloudRecording.objects.select_for_update().get(pk=recording.pk)
    if recording.status not in RUNNING_STATUSES:
        raise ConflictError(f"the cloud recording is {recording.status}")
    merged = lists_updated({name: getattr(recording, name) for name in LISTS}, lists)
    _check_lists(merged)
    for name, value in merged.items():
        setattr(recording, name, value)
    recording.save(update_fields=[*LISTS, "updated"])
    for row in recording.streams.select_related("task", "session").filter(
        left_at__isnull=True, session__status=SessionStatus.LIVE
    ):
        audio, video = media_recorded(
            stream_name=row.stream_name, stream_type=recording.stream_type, subscription=Subscription.of(recording)
        )
        if (audio, video) != (row.audio, row.video):
            _task_end(row.task, now=now)
            assert row.session is not None
            _task_start(recording, row, row.session, now=now)
    return recording


def cloud_recordings_tick(*, now: datetime | None = None) -> dict[str, int]:
    """Beat (every 2 s): limits (``max_record_time``, ``max_idle_time`` with a 334 every interval while the room
    is empty), streams that joined or left unseen (catch-up), and ``stopping`` → ``finished``. Idempotent."""
    now = now or timezone.now()
    counts = {"stopped": 0, "finished": 0, "idle_callbacks": 0}
    ids = CloudRecording.objects.exclude(status__in=FINAL_STATUSES).values_list("pk", flat=True)
    for pk in list(ids):
        with transaction.atomic():
            recording = CloudRecording.objects.select_for_update().filter(pk=pk).first()
            if recording is None:
                continue
            if recording.status == CloudStatus.STOPPING:
                counts["finished"] += _finish_if_done(recording)
                continue
            if recording.status not in RUNNING_STATUSES:
                continue
            outcome = _tick_one(recording, now=now)
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _tick_one(recording: CloudRecording, *, now: datetime) -> str:
    live = _live_sessions(recording)
    CloudRecordingStream.objects.filter(recording=recording, left_at__isnull=True).exclude(session__in=live).update(
        left_at=now, updated=now
    )
    for session in live:
        _stream_join(recording, session, now=now)
    started = recording.started_at or recording.created
    if now - started >= timedelta(seconds=recording.max_record_time):
        cloud_recording_stop(recording=recording, reason=EndReason.MAX_RECORD_TIME, now=now)
        return "stopped"
    if live:
        return "live"
    if recording.empty_since is None:
        recording.empty_since, recording.idle_callbacks = now, 0
        recording.save(update_fields=["empty_since", "idle_callbacks", "updated"])
    idle = (now - recording.empty_since).total_seconds()
    if idle >= recording.max_idle_time:
        cloud_recording_stop(recording=recording, reason=EndReason.MAX_IDLE_TIME, now=now)
        return "stopped"
    every = settings.LIVEREC_ROOM_IDLE_CALLBACK_SECONDS
    if idle >= every * (recording.idle_callbacks + 1):
        recording.idle_callbacks = int(idle // every)
        recording.save(update_fields=["idle_callbacks", "updated"])
        _callback(recording, CallbackEvent.ROOM_IDLE, {"idle_seconds": int(idle)})
        return "idle_callbacks"
    return "idle"


def _callback(recording: CloudRecording, event: int, fields: dict[str, Any]) -> None:
    callback_enqueue(
        app=recording.app,
        domain=recording.domain,
        event_type=event,
        where=(recording.domain.name, "", ""),
        fields={"cloud_recording_id": recording.public_id, "room_id": recording.room_id, **fields},
        url=recording.callback_url,
    )


def _callback_status(recording: CloudRecording) -> None:
    _callback(
        recording,
        CallbackEvent.CLOUD_RECORDING_STATUS,
        {"mode": recording.mode, "status": recording.status, "reason": recording.reason, "error": recording.error},
    )
