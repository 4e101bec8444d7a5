"""Writes of the recordings app (HackSoft-style services), split by sub-domain."""

from recordings.services.callbacks import (
    callback_attempt,
    callback_push_ended,
    callback_push_started,
    callback_redeliver,
    callback_task_status,
    callbacks_resend_due,
)
from recordings.services.files import (
    PackagedResult,
    UploadOutcome,
    record_file_backup,
    record_file_delete,
    record_file_retry_upload,
    record_file_store,
    record_file_upload,
    record_files_expire,
    record_files_retry_backups,
    task_hls_sync,
)
from recordings.services.record_tasks import (
    task_create_highlight,
    task_create_scheduled,
    task_delete,
    task_hls_closed,
    task_hls_hold,
    task_recording_finished,
    task_stop,
    task_windows_tick,
)
from recordings.services.recorder_files import PlaylistCloser, record_files_salvage, task_resume_point
from recordings.services.recorders import (
    recorder_claim,
    recorder_redispatch,
    recorder_refused,
    recorders_reclaim,
)
from recordings.services.sessions import (
    PushInfo,
    PushRefused,
    session_close,
    session_needs_spool,
    session_open,
    session_record_stats,
    session_recorder_finished,
)
from recordings.services.snapshots import SnapshotResult, snapshot_store
from recordings.services.takeover import recorders_take_over

__all__ = [
    "PackagedResult",
    "PlaylistCloser",
    "PushInfo",
    "PushRefused",
    "SnapshotResult",
    "UploadOutcome",
    "callback_attempt",
    "callback_push_ended",
    "callback_push_started",
    "callback_redeliver",
    "callback_task_status",
    "callbacks_resend_due",
    "record_file_backup",
    "record_file_delete",
    "record_file_retry_upload",
    "record_file_store",
    "record_file_upload",
    "record_files_expire",
    "record_files_retry_backups",
    "record_files_salvage",
    "recorder_claim",
    "recorder_redispatch",
    "recorder_refused",
    "recorders_reclaim",
    "recorders_take_over",
    "session_close",
    "session_needs_spool",
    "session_open",
    "session_record_stats",
    "session_recorder_finished",
    "snapshot_store",
    "task_create_highlight",
    "task_create_scheduled",
    "task_delete",
    "task_hls_closed",
    "task_hls_hold",
    "task_hls_sync",
    "task_recording_finished",
    "task_resume_point",
    "task_stop",
    "task_windows_tick",
]
