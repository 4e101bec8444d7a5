"""start / query / update / updateLayout / stop: Agora's bodies translated onto the cloud recordings of rooms.

Agora's uids are this service's ``user_id``s (a push's ``?user=``): the subscribe lists name users, and are
turned into the stream names the room's pushes of those users had (plus the uid itself, for a stream named
after its user), since the rooms' lists select streams by name. ``#allstream#`` and empty lists mean every
stream. Mode ``mix`` is refused with code 2 until rooms record mixed recordings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from liverecord.models import App
from recordings.choices import FileStatus, TaskRecordType
from recordings.models import PublishSession, RecordFile
from rooms.choices import FINAL_STATUSES, CloudStatus, EndReason
from rooms.constants import MAX_IDLE_TIME_MAX, MAX_IDLE_TIME_MIN, SUBSCRIPTION_LIST_MAX
from rooms.models import CloudRecording
from rooms.services import cloud_recording_create, cloud_recording_stop, cloud_recording_update_subscription
from vendors.agora.errors import invalid, not_found
from vendors.agora.params import Params
from vendors.agora.storage import storage_target_of
from vendors.models import VendorKey

ALL_STREAMS = "#allstream#"
STREAM_TYPES = {0: "audio", 1: "video", 2: "audio_video"}
LISTS = {
    "subscribeAudioUids": "subscribe_audio",
    "unSubscribeAudioUids": "unsubscribe_audio",
    "subscribeVideoUids": "subscribe_video",
    "unSubscribeVideoUids": "unsubscribe_video",
}
#: Agora's recording status (query's serverResponse.status) of ours.
STATUS: dict[str, int] = {
    CloudStatus.IDLE: 4,
    CloudStatus.RECORDING: 5,
    CloudStatus.STOPPING: 6,
    CloudStatus.FINISHED: 7,
}
TRACK_TYPES: dict[str, str] = {TaskRecordType.AUDIO: "audio", TaskRecordType.NO_AUDIO: "video"}
SNAPSHOT_INTERVAL = (5, 3600, 10)


@dataclass(frozen=True)
class Mode:
    name: str

    def check(self, *, layout: bool = False) -> None:
        if self.name == "mix":
            field = "updateLayout" if layout else "mode"
            raise invalid(field, "mode mix (transcodingConfig, mixedVideoLayout) is not supported yet; use individual")
        if layout:
            raise invalid("mode", "updateLayout is only for mode mix")
        if self.name != "individual":
            raise invalid("mode", "must be individual (mix and web are not supported)")


def _uid_streams(key: VendorKey, room_id: str, uids: list[str] | None) -> list[str] | None:
    """The stream names of the room's pushes by these users, and the uids themselves; None for every stream."""
    if not uids or ALL_STREAMS in uids:
        return None
    names = set(
        PublishSession.objects.filter(
            app_id=key.app_id, domain_id=key.domain_id or 0, room_id=room_id, user_id__in=uids
        ).values_list("stream_name", flat=True)
    )
    return sorted(names | set(uids))


def _lists(key: VendorKey, room_id: str, config: Params) -> dict[str, list[str] | None]:
    lists: dict[str, list[str] | None] = {}
    for agora_name, ours in LISTS.items():
        if config.has(agora_name):
            uids = config.strings(agora_name, max_items=SUBSCRIPTION_LIST_MAX)
            lists[ours] = _uid_streams(key, room_id, uids)
    return lists


def _stream_type(config: Params, given: set[str]) -> str:
    """Agora's ``streamTypes``; with only one medium's subscribe list given, the other medium is not recorded."""
    stream_type = STREAM_TYPES[config.integer("streamTypes", low=0, high=2, default=2)]
    audio = config.has("subscribeAudioUids")
    video = config.has("subscribeVideoUids")
    if stream_type == "audio_video" and audio != video and not given & {"unSubscribeAudioUids", "unSubscribeVideoUids"}:
        return "audio" if audio else "video"
    return stream_type


def _formats(request: Params) -> dict[str, Any] | None:
    files = request.obj("recordingFileConfig")
    kinds = files.strings("avFileType", max_items=2, max_length=8) if files is not None else None
    if files is None and request.has("snapshotConfig"):
        return {}
    kinds = kinds or ["hls"]
    if not set(kinds) <= {"hls", "mp4"} or "hls" not in kinds:
        raise invalid("recordingFileConfig.avFileType", 'must be ["hls"] or ["hls", "mp4"]')
    return {kind: {"record_interval": 0} if kind == "hls" else {} for kind in kinds}


def recording_start(*, key: VendorKey, mode: Mode, cname: str, request: Params) -> CloudRecording:
    mode.check()
    request.string("token", max_length=2048)
    if request.has("transcodingConfig"):
        raise invalid("clientRequest.transcodingConfig", "is only for mode mix, which is not supported yet")
    config = request.obj("recordingConfig") or Params({}, prefix="clientRequest.recordingConfig.")
    config.integer("channelType", low=0, high=1, default=0)
    config.integer("videoStreamType", low=0, high=1, default=0)
    config.integer("subscribeUidGroup", low=0, high=5, default=0)
    if config.integer("decryptionMode", low=0, high=8, default=0):
        raise invalid(config.name("decryptionMode"), "encrypted channels are not supported (0 only)")
    if config.has("audioProfile"):
        raise invalid(config.name("audioProfile"), "is only for mode mix")
    max_idle = config.integer("maxIdleTime", low=MAX_IDLE_TIME_MIN, high=MAX_IDLE_TIME_MAX, default=30)
    given = {name for name in LISTS if config.has(name)}
    for medium in ("Audio", "Video"):
        if config.data.get(f"subscribe{medium}Uids") and config.data.get(f"unSubscribe{medium}Uids"):
            raise invalid(config.name(f"unSubscribe{medium}Uids"), f"give subscribe{medium}Uids or this, not both")
    snapshot_config = request.obj("snapshotConfig")
    snapshot = None
    if snapshot_config is not None:
        low, high, default = SNAPSHOT_INTERVAL
        snapshot = {"interval": snapshot_config.integer("captureInterval", low=low, high=high, default=default)}
        kinds = snapshot_config.strings("fileType", max_items=1, max_length=8)
        if kinds is not None and kinds != ["jpg"]:
            raise invalid(snapshot_config.name("fileType"), 'must be ["jpg"]')
    formats = _formats(request)
    storage_config = request.obj("storageConfig")
    storage = storage_target_of(app=key.app, config=storage_config) if storage_config is not None else None
    assert key.domain is not None
    lists = _lists(key, cname, config)
    return cloud_recording_create(
        app=key.app,
        domain=key.domain.name,
        room_id=cname,
        stream_type=_stream_type(config, given),
        formats=formats,
        snapshot=snapshot,
        max_idle_time=max_idle,
        storage=storage,
        subscribe_audio=lists.get("subscribe_audio"),
        subscribe_video=lists.get("subscribe_video"),
        unsubscribe_audio=lists.get("unsubscribe_audio"),
        unsubscribe_video=lists.get("unsubscribe_video"),
    )


#: The shape of a sid: a cloud recording's public id (``recordings.ids.public_id``).
SID_PATTERN = re.compile(r"[A-Za-z0-9_-]{16}")


def recording_of(*, app: App, sid: str, cname: str) -> CloudRecording:
    """The recording a ``{sid}`` names, of this App and of the resource's channel (else 404).

    A sid that cannot be a public id (16 URL-safe characters) is not looked up: PostgreSQL refuses a NUL in a
    query, and the fuzz sends one."""
    if not SID_PATTERN.fullmatch(sid):
        raise not_found("the sid")
    recording = CloudRecording.objects.filter(app=app, public_id=sid, room_id=cname).first()
    if recording is None:
        raise not_found("the sid")
    return recording


def file_list(recording: CloudRecording) -> list[dict[str, Any]]:
    files = RecordFile.objects.filter(task__cloud_recording_id=recording.public_id).select_related("task")
    return [
        {
            "filename": f.object_key or f"{f.name}.{f.extension}",
            "trackType": TRACK_TYPES.get(f.task.record_type if f.task else "", "audio_and_video"),
            "uid": f.task.user_id if f.task else "",
            "mixedAllUser": "false",
            "isPlayable": f.status in (FileStatus.STORED, FileStatus.BACKUP),
            "sliceStartTime": int(f.start_time.timestamp() * 1000),
        }
        for f in files.order_by("start_time", "pk")
    ]


def server_response(recording: CloudRecording) -> dict[str, Any]:
    files = file_list(recording)
    started = recording.started_at or recording.created
    return {
        "fileListMode": "json",
        "fileList": files,
        "status": STATUS.get(recording.status, 20),
        "sliceStartTime": files[0]["sliceStartTime"] if files else int(started.timestamp() * 1000),
    }


def recording_query(*, recording: CloudRecording, mode: Mode) -> dict[str, Any]:
    """query works while the session runs; after its end Agora answers 404."""
    mode.check()
    if recording.status in FINAL_STATUSES:
        raise not_found("the recording session (it has ended)")
    return server_response(recording)


def recording_update(*, key: VendorKey, recording: CloudRecording, mode: Mode, request: Params) -> None:
    mode.check()
    subscribe = request.obj("streamSubscribe", required=True)
    assert subscribe is not None
    lists: dict[str, list[str] | None] = {}
    for medium in ("Audio", "Video"):
        given = subscribe.obj(f"{medium.lower()}UidList")
        if given is None:
            continue
        for name in (f"subscribe{medium}Uids", f"unSubscribe{medium}Uids"):
            if name in given.data:
                lists[LISTS[name]] = _uid_streams(
                    key, recording.room_id, given.strings(name, max_items=SUBSCRIPTION_LIST_MAX)
                )
    if not lists:
        raise invalid("clientRequest.streamSubscribe", "needs audioUidList or videoUidList")
    cloud_recording_update_subscription(recording=recording, lists=lists)


def recording_stop(*, recording: CloudRecording, mode: Mode, request: Params) -> tuple[dict[str, Any], bool]:
    """(serverResponse, whether any user published); a repeated stop is a ConflictError (49), a stop after the
    session ended by itself (``maxIdleTime``, the 24 h limit) is 404 as Agora answers for an exited session.

    The file list is that of the files made so far: the last files of streams still live are made after the stop
    (``uploadingStatus`` is then ``unknown``; query is 404 from then on, as Agora's).
    """
    mode.check()
    if request.has("async_stop") and not isinstance(request.data["async_stop"], bool):
        raise invalid(request.name("async_stop"), "must be a boolean")
    if recording.status in FINAL_STATUSES and recording.reason != EndReason.STOPPED:
        raise not_found(f"the recording session (it ended: {recording.reason})")
    recording = cloud_recording_stop(recording=recording)
    files = file_list(recording)
    stored = [f for f in files if f["isPlayable"]]
    uploading = "uploaded" if files and len(stored) == len(files) else "unknown"
    if RecordFile.objects.filter(task__cloud_recording_id=recording.public_id, status=FileStatus.BACKUP).exists():
        uploading = "backuped"
    return {"fileListMode": "json", "fileList": files, "uploadingStatus": uploading}, recording.streams.exists()
