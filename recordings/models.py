"""Publish sessions (one per push), record tasks (one per recording) and the files they make."""

from __future__ import annotations

from django.db import models

from liverecord.models import App, TimeStampedModel
from recordings.callback_models import CallbackAttempt, CallbackDelivery
from recordings.choices import (
    FILE_FORMATS,
    SNAPSHOT_FORMAT,
    FileStatus,
    RecorderStatus,
    SessionStatus,
    TaskKind,
    TaskRecordType,
    TaskStatus,
)
from recordings.ids import public_id
from recordings.room_fields import RoomPushFields, RoomTaskFields
from rules.models import Domain, RecordRule, StorageTarget
from templates_app.choices import Format
from templates_app.models import RecordTemplate

#: Defined beside, re-exported here: every model of the app is importable from ``recordings.models``.
__all__ = [
    "CallbackAttempt",
    "CallbackDelivery",
    "PublishSession",
    "RecordFile",
    "RecordTask",
    "Snapshot",
    "public_id",
]


class PublishSession(RoomPushFields, TimeStampedModel):
    """One push of one stream, from on_publish to on_publish_done, and what the recorder measured of it."""

    public_id = models.CharField(
        verbose_name="id",
        max_length=16,
        unique=True,
        default=public_id,
        editable=False,
    )
    app = models.ForeignKey(
        App,
        verbose_name="app",
        related_name="sessions",
        on_delete=models.CASCADE,
    )
    domain = models.ForeignKey(
        Domain,
        verbose_name="push domain",
        related_name="sessions",
        on_delete=models.SET_NULL,
        null=True,
    )
    domain_name = models.CharField(
        verbose_name="domain",
        max_length=253,
        help_text="The push host as the publisher sent it.",
    )
    app_name = models.CharField(
        verbose_name="app name",
        max_length=128,
    )
    stream_name = models.CharField(
        verbose_name="stream name",
        max_length=128,
    )
    status = models.CharField(
        verbose_name="status",
        max_length=8,
        choices=SessionStatus.choices,
        default=SessionStatus.LIVE,
    )
    started_at = models.DateTimeField(
        verbose_name="started at",
    )
    ended_at = models.DateTimeField(
        verbose_name="ended at",
        null=True,
        blank=True,
    )
    end_reason = models.CharField(
        verbose_name="end reason",
        max_length=200,
        blank=True,
    )
    client_addr = models.CharField(
        verbose_name="client address",
        max_length=64,
        blank=True,
    )
    client_id = models.CharField(
        verbose_name="ingest client id",
        max_length=64,
        blank=True,
    )
    stream_param = models.CharField(
        verbose_name="push query string",
        max_length=2048,
        blank=True,
    )
    ingest = models.CharField(
        verbose_name="ingest",
        max_length=260,
        help_text="host:port of the ingest server that received the push; recorders pull from it.",
    )
    source_url = models.CharField(
        verbose_name="source URL",
        max_length=1024,
    )
    ingest_record_dir = models.CharField(
        verbose_name="ingest record folder",
        max_length=512,
        blank=True,
        help_text=(
            "Where the ingest writes its own FLV of every push (nginx-rtmp record_path). A recorder on the "
            "ingest host follows that file from the push's first packet instead of joining over RTMP."
        ),
    )
    recorder_status = models.CharField(
        verbose_name="recorder",
        max_length=8,
        choices=RecorderStatus.choices,
        default=RecorderStatus.PENDING,
    )
    heartbeat_at = models.DateTimeField(
        verbose_name="recorder heartbeat",
        null=True,
        blank=True,
    )
    recorder_note = models.CharField(
        verbose_name="recorder note",
        max_length=300,
        blank=True,
        help_text="Why the recording has not started yet, e.g. every worker that tried was full.",
    )
    recorder_refusals = models.PositiveIntegerField(verbose_name="refusals by full workers in a row", default=0)
    video_codec = models.CharField(verbose_name="video codec", max_length=32, blank=True)
    audio_codec = models.CharField(verbose_name="audio codec", max_length=32, blank=True)
    width = models.PositiveIntegerField(verbose_name="width", null=True, blank=True)
    height = models.PositiveIntegerField(verbose_name="height", null=True, blank=True)
    fps = models.FloatField(verbose_name="frame rate", null=True, blank=True)
    gop_seconds = models.FloatField(
        verbose_name="keyframe interval (s)",
        null=True,
        blank=True,
        help_text="Files can only be cut at keyframes: a GOP longer than a file's length makes files longer.",
    )
    bitrate = models.PositiveIntegerField(verbose_name="bitrate (bit/s)", null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "live session"
        indexes = [
            models.Index(fields=["app", "domain_name", "app_name", "stream_name", "status"], name="session_stream_idx"),
            # publish_done knows the stream, not the app.
            models.Index(
                fields=["domain_name", "app_name", "stream_name"],
                condition=models.Q(status="live"),
                name="session_live_stream_idx",
            ),
            models.Index(
                fields=["app", "domain_name", "room_id"],
                condition=models.Q(status="live"),
                name="session_live_room_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.domain_name}/{self.app_name}/{self.stream_name} @ {self.started_at:%Y-%m-%d %H:%M:%S}"


class RecordTask(RoomTaskFields, TimeStampedModel):
    """One recording, whatever started it: a rule (a push matched it), a scheduled window, or a highlight.

    The template's values are frozen into ``formats`` and friends when the task is made, so editing the
    template never changes a recording in progress.
    """

    public_id = models.CharField(
        verbose_name="id",
        max_length=16,
        unique=True,
        default=public_id,
        editable=False,
    )
    app = models.ForeignKey(
        App,
        verbose_name="app",
        related_name="record_tasks",
        on_delete=models.CASCADE,
    )
    kind = models.CharField(verbose_name="kind", max_length=10, choices=TaskKind.choices)
    status = models.CharField(
        verbose_name="status",
        max_length=10,
        choices=TaskStatus.choices,
        default=TaskStatus.SCHEDULED,
        db_index=True,
    )
    domain = models.CharField(verbose_name="domain", max_length=253)
    app_name = models.CharField(verbose_name="app name", max_length=128)
    stream_name = models.CharField(verbose_name="stream name", max_length=128)
    start_time = models.DateTimeField(verbose_name="start time", null=True, blank=True)
    end_time = models.DateTimeField(verbose_name="end time", null=True, blank=True)
    stopped_at = models.DateTimeField(verbose_name="stopped at", null=True, blank=True)
    template = models.ForeignKey(
        RecordTemplate,
        verbose_name="template",
        related_name="record_tasks",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    rule = models.ForeignKey(
        RecordRule,
        verbose_name="rule",
        related_name="record_tasks",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    session = models.ForeignKey(
        PublishSession,
        verbose_name="session",
        related_name="record_tasks",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    formats = models.JSONField(
        verbose_name="formats",
        default=dict,
        help_text='Frozen per-format settings, e.g. {"mp4": {"record_interval": 1800, "storage_time": 0}}.',
    )
    record_type = models.CharField(
        verbose_name="record type",
        max_length=8,
        choices=TaskRecordType.choices,
        default=TaskRecordType.VIDEO,
    )
    file_name_template = models.CharField(verbose_name="file name template", max_length=256, blank=True)
    hls_continue_duration = models.PositiveIntegerField(verbose_name="HLS reconnect window (s)", default=0)
    continue_until = models.DateTimeField(
        verbose_name="reconnect window ends",
        null=True,
        blank=True,
        help_text="A push of this stream before then continues this task's HLS playlist.",
    )
    hls_pending = models.JSONField(
        verbose_name="open HLS playlist",
        null=True,
        blank=True,
        help_text="The playlist kept open for reconnects: path, start and codecs; announced when it is closed.",
    )
    hls_close_lease_until = models.DateTimeField(
        verbose_name="playlist close queued until",
        null=True,
        blank=True,
        help_text="The close of the open playlist is queued; beat queues it again only after this (a lost job).",
    )
    snapshot = models.JSONField(
        verbose_name="snapshots", null=True, blank=True, help_text='Frozen, {"interval": 10, "storage_time": 0}.'
    )
    error = models.TextField(verbose_name="error", blank=True)

    class Meta:
        ordering = ["-created"]
        verbose_name = "record task"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__isnull=True)
                | models.Q(start_time__isnull=True)
                | models.Q(end_time__gt=models.F("start_time")),
                name="record_task_window_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.public_id} {self.domain}/{self.app_name}/{self.stream_name}"


class RecordFile(TimeStampedModel):
    """A finished deliverable: one FLV, MP4, AAC or MP3 file, or one HLS playlist with its segments."""

    public_id = models.CharField(
        verbose_name="id",
        max_length=16,
        unique=True,
        default=public_id,
        editable=False,
    )
    app = models.ForeignKey(
        App,
        verbose_name="app",
        related_name="record_files",
        on_delete=models.CASCADE,
    )
    task = models.ForeignKey(
        RecordTask,
        verbose_name="task",
        related_name="files",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    session = models.ForeignKey(
        PublishSession,
        verbose_name="session",
        related_name="files",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    domain = models.CharField(verbose_name="domain", max_length=253)
    app_name = models.CharField(verbose_name="app name", max_length=128)
    stream_name = models.CharField(verbose_name="stream name", max_length=128, db_index=True)
    format = models.CharField(verbose_name="format", max_length=4, choices=FILE_FORMATS)
    start_time = models.DateTimeField(verbose_name="start time", db_index=True)
    end_time = models.DateTimeField(verbose_name="end time")
    duration = models.FloatField(verbose_name="duration (s)", help_text="Measured from the media.")
    size = models.BigIntegerField(verbose_name="size (bytes)")
    status = models.CharField(
        verbose_name="status",
        max_length=10,
        choices=FileStatus.choices,
        default=FileStatus.PACKAGING,
        db_index=True,
    )
    name = models.CharField(
        verbose_name="name",
        max_length=512,
        help_text="File name without extension, from the template's file name template.",
    )
    object_key = models.CharField(verbose_name="object key", max_length=1024, blank=True)
    local_path = models.CharField(
        verbose_name="local path",
        max_length=1024,
        blank=True,
        help_text="Where the file is on this host's disk (local storage, or the backup spool).",
    )
    storage_time = models.PositiveIntegerField(verbose_name="kept for (s)", default=0)
    expire_at = models.DateTimeField(verbose_name="expires at", null=True, blank=True)
    video_codec = models.CharField(verbose_name="video codec", max_length=32, blank=True)
    audio_codec = models.CharField(verbose_name="audio codec", max_length=32, blank=True)
    width = models.PositiveIntegerField(verbose_name="width", null=True, blank=True)
    height = models.PositiveIntegerField(verbose_name="height", null=True, blank=True)
    error = models.TextField(verbose_name="error", blank=True)
    storage = models.ForeignKey(
        StorageTarget,
        verbose_name="storage target",
        related_name="files",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="Where the file is stored; empty means local storage.",
    )
    checksum = models.CharField(verbose_name="checksum", max_length=160, blank=True)
    upload_attempts = models.PositiveIntegerField(verbose_name="upload attempts", default=0)
    stored_at = models.DateTimeField(verbose_name="stored at", null=True, blank=True)
    backup_since = models.DateTimeField(
        verbose_name="in backup since",
        null=True,
        blank=True,
        help_text="When storage first failed; the file is retried until LIVEREC_BACKUP_RETENTION after this.",
    )
    next_retry_at = models.DateTimeField(verbose_name="next upload retry", null=True, blank=True, db_index=True)
    upload_lease_until = models.DateTimeField(verbose_name="upload claimed until", null=True, blank=True)

    class Meta:
        ordering = ["-start_time"]
        verbose_name = "recorded file"
        indexes = [
            models.Index(fields=["app", "-start_time"], name="file_app_start_idx"),
            # name_prefix: PostgreSQL answers LIKE 'prefix%' from a pattern_ops index whatever the collation
            # (other databases ignore the operator classes: a plain (app, name) index).
            models.Index(
                fields=["app", "name"], name="file_app_name_idx", opclasses=["int8_ops", "varchar_pattern_ops"]
            ),
            # The files list's common filters, newest first (benchmarks/REPORT.md §5).
            models.Index(fields=["app", "stream_name", "-start_time"], name="file_app_stream_idx"),
            models.Index(fields=["app", "format", "status", "-start_time"], name="file_app_format_status_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gte=models.F("start_time")), name="record_file_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}.{self.extension}"

    @property
    def extension(self) -> str:
        return "m3u8" if self.format == Format.HLS else str(self.format)


class SnapshotManager(models.Manager["Snapshot"]):
    def get_queryset(self) -> models.QuerySet[Snapshot]:
        return super().get_queryset().filter(format=SNAPSHOT_FORMAT)


class Snapshot(RecordFile):
    """A JPEG of a live stream (SPEC.md "Snapshots"): a file of format ``jpg``, its frame's wallclock in
    ``start_time``; stored, backed up and expired like any file, announced by a 200, left out of the files API."""

    objects = SnapshotManager()  # type: ignore[misc]

    class Meta:
        proxy = True
        ordering = ["-start_time"]
        verbose_name = "snapshot"
