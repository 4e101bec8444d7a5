from __future__ import annotations

from django.db import models

from templates_app.choices import Format

#: A snapshot is a RecordFile of this format (stored, backed up and expired like any file; SPEC.md "Snapshots").
SNAPSHOT_FORMAT = "jpg"
FILE_FORMATS = [*Format.choices, (SNAPSHOT_FORMAT, "JPEG snapshot")]


class SessionStatus(models.TextChoices):
    LIVE = "live", "live"
    ENDED = "ended", "ended"


class TaskKind(models.TextChoices):
    RULE = "rule", "rule"
    SCHEDULED = "scheduled", "scheduled"
    HIGHLIGHT = "highlight", "highlight"
    CLOUD = "cloud", "cloud recording"


class TaskRecordType(models.TextChoices):
    """What of the stream a task's files hold: templates offer video and audio; cloud recordings also noaudio."""

    VIDEO = "video", "audio and video"
    AUDIO = "audio", "audio only"
    NO_AUDIO = "noaudio", "video only"


class TaskStatus(models.TextChoices):
    SCHEDULED = "scheduled", "scheduled"
    WAITING = "waiting", "waiting for the stream"
    RECORDING = "recording", "recording"
    STOPPING = "stopping", "stopping"
    FINISHED = "finished", "finished"
    FAILED = "failed", "failed"
    CANCELLED = "cancelled", "cancelled"


FINAL_TASK_STATUSES = (TaskStatus.FINISHED, TaskStatus.FAILED, TaskStatus.CANCELLED)


class FileStatus(models.TextChoices):
    PACKAGING = "packaging", "packaging"
    UPLOADING = "uploading", "uploading"
    STORED = "stored", "stored"
    BACKUP = "backup", "held in backup, retrying"
    FAILED = "failed", "failed"
    EXPIRED = "expired", "expired"


class RecorderStatus(models.TextChoices):
    PENDING = "pending", "queued"
    RUNNING = "running", "running"
    DONE = "done", "done"
    FAILED = "failed", "failed"


class CallbackEvent(models.IntegerChoices):
    PUSH_ENDED = 0, "push ended"
    PUSH_STARTED = 1, "push started"
    FILE_STORED = 100, "file stored"
    FILE_BACKUP = 101, "file held in backup"
    TASK_STATUS = 332, "record task status"
    SNAPSHOT_STORED = 200, "snapshot stored"
    CLOUD_RECORDING_STATUS = 333, "cloud recording status"
    ROOM_IDLE = 334, "cloud recording's room is empty"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "pending"
    DELIVERED = "delivered", "delivered"
    FAILED = "failed", "failed"
