"""A record task as the engine's ``RecordingSpec``: formats and intervals, folder, file names, where it starts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from recordings.file_locations import task_output_dir
from recordings.models import RecordTask
from recordings.services import task_resume_point
from templates_app.constants import DEFAULT_SNAPSHOT_NAME_TEMPLATE
from templates_app.naming import NameContext, render_file_name
from workers.engine import RecordingSpec


def _utc(wallclock: float) -> datetime:
    return datetime.fromtimestamp(wallclock, tz=UTC)


def file_namer(task: RecordTask) -> Callable[[str, float, float | None], str]:
    """The task's file names, as the engine asks for them (format, start, end)."""

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
                room_id=task.room_id,
                user_id=task.user_id,
                cloud_recording_id=task.cloud_recording_id,
            ),
        )

    return name_for


def snapshot_namer(task: RecordTask) -> Callable[[float], str]:
    """The task's snapshot names (SPEC.md "Snapshots"), from the wallclock of the frame."""

    def name_for(wallclock: float) -> str:
        return render_file_name(
            (task.snapshot or {}).get("name_template") or DEFAULT_SNAPSHOT_NAME_TEMPLATE,
            NameContext(
                domain=task.domain,
                app_name=task.app_name,
                stream_id=task.stream_name,
                record_id=task.public_id,
                start=_utc(wallclock),
                end=_utc(wallclock),
                room_id=task.room_id,
                user_id=task.user_id,
                cloud_recording_id=task.cloud_recording_id,
            ),
        )

    return name_for


def _open_playlist(task: RecordTask) -> Path | None:
    """The playlist this recording continues after a reconnect (held open by ``task_hls_hold``)."""
    if task.hls_pending and Path(task.hls_pending["path"]).exists():
        return Path(task.hls_pending["path"])
    return None


def recording_spec(task: RecordTask) -> RecordingSpec:
    return RecordingSpec(
        recording_id=task.public_id,
        formats={fmt: int(options.get("record_interval", 0)) for fmt, options in task.formats.items()},
        output_dir=task_output_dir(task),
        name_for=file_namer(task),
        record_type=task.record_type,
        start_wallclock=task_resume_point(task=task),
        end_wallclock=task.end_time.timestamp() if task.end_time else None,
        hls_append_to=_open_playlist(task),
        hls_endlist=task.hls_continue_duration == 0,
        mute_skip=bool((task.mute_audio or {}).get("skip", False)),
        mute_split_after=float((task.mute_audio or {}).get("split_after", 0)),
        snapshot_interval=float(task.snapshot["interval"]) if task.snapshot else None,
        snapshot_name_for=snapshot_namer(task),
    )
