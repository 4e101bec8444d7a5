"""StartRecord, StopRecord, DescribeRecordStatus and UpdateLayout onto cloud recordings (vendor-apis.md §2).

A ZEGO TaskId is the cloud recording's public id (16 characters, as ZEGO's). RoomId is a room of the push
domain the AppId is tied to. Only single-stream mode exists in rooms yet: mixed mode is refused naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError

from liverecord.errors import ConflictError
from recordings.choices import SNAPSHOT_FORMAT, FileStatus
from recordings.models import RecordFile
from recordings.selectors import file_public_url
from rooms.choices import CloudStatus, StreamType
from rooms.constants import (
    MAX_IDLE_TIME_DEFAULT,
    MAX_IDLE_TIME_MAX,
    MAX_IDLE_TIME_MIN,
    MAX_RECORD_TIME_DEFAULT,
    MAX_RECORD_TIME_MAX,
    MAX_RECORD_TIME_MIN,
    SPLIT_AFTER_MAX,
    SUBSCRIPTION_LIST_MAX,
)
from rooms.models import CloudRecording
from rooms.services import cloud_recording_create, cloud_recording_stop
from rules.validators import validate_callback_url
from templates_app.choices import Format
from templates_app.constants import RECORD_INTERVAL_MAX
from vendors.zego import errors
from vendors.zego.errors import ZegoError, invalid
from vendors.zego.params import Context, Params
from vendors.zego.storage import storage_target

STREAM_TYPES: dict[int, str] = {
    1: StreamType.AUDIO,
    2: StreamType.VIDEO,
    3: StreamType.AUDIO_VIDEO,
    4: StreamType.AUDIO_VIDEO_SEPARATE,
}
ZEGO_STREAM_TYPES: dict[str, int] = {value: key for key, value in STREAM_TYPES.items()}
OUTPUT_FORMATS = ("mp4", "flv", "hls", "jpg", "mp3")
TASK_STATUS: dict[str, int] = {
    CloudStatus.IDLE: 1,
    CloudStatus.RECORDING: 2,
    CloudStatus.STOPPING: 2,
    CloudStatus.FINISHED: 3,
}
FILE_STATUS: dict[str, int] = {
    FileStatus.PACKAGING: 1,
    FileStatus.UPLOADING: 2,
    FileStatus.STORED: 3,
    FileStatus.BACKUP: 4,
}
DESCRIBE_WINDOW = timedelta(days=3)
#: Our services' field names as ZEGO names them, in the errors they raise.
FIELD_NAMES = {
    "room_id": "RoomId",
    "stream_type": "RecordInputParams.StreamType",
    "max_idle_time": "RecordInputParams.MaxIdleTime",
    "max_record_time": "RecordInputParams.MaxRecordTime",
    "subscribe_audio": "RecordInputParams.RecordStreamList",
    "subscribe_video": "RecordInputParams.RecordStreamList",
    "fill_blank": "RecordInputParams.FillBlank",
    "mute_audio": "RecordInputParams.RecordMuteAudio",
    "formats": "RecordOutputParams.OutputFileFormat",
    "domain": "AppId",
}


@contextmanager
def _service_errors() -> Iterator[None]:
    try:
        yield
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise invalid("body", " ".join(exc.messages)) from exc
        field, messages = next(iter(exc.message_dict.items()))
        raise invalid(FIELD_NAMES.get(field, field), messages[0]) from exc
    except ConflictError as exc:
        if exc.code == "already_stopped":
            raise ZegoError(errors.TASK_ALREADY_STOPPED, f"the task has already ended: {exc.message}") from exc
        if "already has a running" in exc.message:
            raise ZegoError(errors.ROOM_ALREADY_RECORDING, exc.message) from exc
        raise ZegoError(errors.OPERATION_FAILED, exc.message) from exc


def _input(p: Params) -> dict[str, Any]:
    mode = p.integer("RecordMode", required=True, low=1, high=2)
    if mode == 2:
        raise invalid(p.name("RecordMode"), "mixed recording (2) is not supported yet: use 1 (single stream)")
    if p.has("MixConfig"):
        raise invalid(p.name("MixConfig"), "is only for mixed recording (RecordMode 2), not supported yet")
    if p.boolean("HasWhiteboard") or p.has("Whiteboard"):
        raise invalid(p.name("HasWhiteboard"), "whiteboards are not supported")
    stream_type = STREAM_TYPES[p.integer("StreamType", default=3, low=1, high=4)]
    streams = [
        s.string("StreamId", required=True, max_length=128)
        for s in p.structs("RecordStreamList", max_items=SUBSCRIPTION_LIST_MAX)
    ]
    mute = p.integer("RecordMuteAudio", default=1, low=1, high=2)
    threshold = p.integer("RecordMuteAudioSplitThreshold", default=-1, low=-(2**31), high=SPLIT_AFTER_MAX)
    return {
        "stream_type": stream_type,
        "subscribe_audio": streams or None,
        "subscribe_video": streams or None,
        "fill_blank": p.boolean("FillBlank"),
        # ZEGO: a negative or absent threshold never splits; ours splits after split_after s, so the most we allow.
        "mute_audio": {"skip": True, "split_after": threshold if threshold >= 0 else SPLIT_AFTER_MAX}
        if mute == 2
        else None,
        "max_idle_time": p.integer(
            "MaxIdleTime", default=MAX_IDLE_TIME_DEFAULT, low=MAX_IDLE_TIME_MIN, high=MAX_IDLE_TIME_MAX
        ),
        "max_record_time": p.integer(
            "MaxRecordTime", default=MAX_RECORD_TIME_DEFAULT, low=MAX_RECORD_TIME_MIN, high=MAX_RECORD_TIME_MAX
        ),
    }


def _output(p: Params | None, stream_type: str) -> dict[str, Any]:
    if p is None:
        p = Params({}, prefix="RecordOutputParams.")
    fmt = p.string("OutputFileFormat", default="mp4", max_length=8)
    if fmt not in OUTPUT_FORMATS:
        raise invalid(p.name("OutputFileFormat"), f"must be one of {', '.join(OUTPUT_FORMATS)}")
    p.integer("OutputFileRule", default=1, low=1, high=1)
    p.integer("FragmentSeconds", default=15, low=2, high=60)
    interval = p.integer("SnapshotInterval", default=10, low=5, high=3600)
    callback_url = p.string("CallbackUrl", max_length=1024)
    if callback_url:
        try:
            validate_callback_url(callback_url)
        except ValidationError as exc:
            raise invalid(p.name("CallbackUrl"), exc.messages[0]) from exc
    if fmt == "jpg":
        if stream_type == StreamType.AUDIO:
            raise invalid(p.name("OutputFileFormat"), "jpg needs video: not with StreamType 1")
        return {"formats": {}, "snapshot": {"interval": interval}, "callback_url": callback_url}
    # A ZEGO task makes one file per stream: each file as long as the format allows.
    return {"formats": {fmt: {"record_interval": RECORD_INTERVAL_MAX[Format(fmt)]}}, "callback_url": callback_url}


def start_record(ctx: Context, p: Params) -> dict[str, Any]:
    room_id = p.string("RoomId", required=True, max_length=128)
    source = p.struct("RecordInputParams", required=True)
    assert source is not None
    given = _input(source)
    given.update(_output(p.struct("RecordOutputParams"), given["stream_type"]))
    storage_params = p.struct("StorageParams", required=True)
    assert storage_params is not None
    storage = storage_target(ctx, storage_params)
    assert ctx.key.domain is not None
    with _service_errors():
        recording = cloud_recording_create(
            app=ctx.app, domain=ctx.key.domain.name, room_id=room_id, storage=storage, now=ctx.now, **given
        )
    return {"TaskId": recording.public_id}


def _task(ctx: Context, p: Params) -> CloudRecording:
    task_id = p.string("TaskId", required=True, max_length=64)
    recording = CloudRecording.objects.filter(
        app=ctx.app, domain=ctx.key.domain_id, public_id=task_id, created__gte=ctx.now - DESCRIBE_WINDOW
    ).first()
    if recording is None:
        raise ZegoError(errors.TASK_NOT_FOUND, f"no task {task_id!r} of this AppId in the last 3 days")
    return recording


def stop_record(ctx: Context, p: Params) -> None:
    recording = _task(ctx, p)
    with _service_errors():
        cloud_recording_stop(recording=recording, now=ctx.now)


def _ms(value: datetime | None) -> int:
    return int(value.timestamp() * 1000) if value is not None else 0


def _track(file: RecordFile) -> int:
    return (1 if file.audio_codec else 0) + (2 if file.video_codec else 0)


def _file(file: RecordFile) -> dict[str, Any]:
    user_id = file.task.user_id if file.task is not None else ""
    return {
        "UserId": user_id,
        "UserName": user_id,
        "StreamId": file.stream_name,
        "FileId": file.object_key or f"{file.name}.{file.extension}",
        "FileUrl": file_public_url(file) or "",
        "OutputFileFormat": file.format,
        "FileSize": file.size,
        "Duration": int(file.duration * 1000),
        "ResolutionWidth": file.width or 0,
        "ResolutionHeight": file.height or 0,
        "MediaTrackType": _track(file),
        "BeginTimestamp": _ms(file.start_time),
        "Status": FILE_STATUS.get(file.status, 5),
    }


def describe_record_status(ctx: Context, p: Params) -> dict[str, Any]:
    recording = _task(ctx, p)
    files = RecordFile.objects.select_related("task", "storage").filter(
        app=ctx.app, task__cloud_recording_id=recording.public_id
    )
    if recording.formats:
        files = files.exclude(format=SNAPSHOT_FORMAT)
    data: dict[str, Any] = {
        "TaskId": recording.public_id,
        "RoomId": recording.room_id,
        "RecordMode": 1,
        "StreamType": ZEGO_STREAM_TYPES.get(recording.stream_type, 3),
        "RecordBeginTimestamp": _ms(recording.started_at),
        "RecordEndTimestamp": _ms(recording.stopped_at),
        "Status": TASK_STATUS.get(recording.status, 4),
    }
    rows = [_file(f) for f in files.order_by("start_time", "pk")]
    if rows:
        data["RecordFiles"] = rows
    return data


def update_layout(ctx: Context, p: Params) -> None:
    recording = _task(ctx, p)
    raise invalid("TaskId", f"task {recording.public_id} records single streams: layouts are for mixed recording")
