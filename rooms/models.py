"""Cloud recordings of rooms (SPEC.md "Rooms and cloud recordings") and the streams each has seen."""

from __future__ import annotations

from django.db import models

from liverecord.models import App, TimeStampedModel
from recordings.models import PublishSession, RecordTask, public_id
from rooms.choices import CloudStatus, RecordingMode, StreamType
from rooms.constants import MAX_IDLE_TIME_DEFAULT, MAX_RECORD_TIME_DEFAULT
from rules.models import Domain, StorageTarget
from templates_app.models import RecordTemplate


class CloudRecording(TimeStampedModel):
    """A recording of a room: in ``single`` mode, one record task per subscribed stream of the room.

    ``idle`` → ``recording`` (a stream joined) → ``stopping`` (stop asked, a limit reached: the last files are
    being made) → ``finished``; ``failed`` when it could not go on. ``reason`` says why it ended.
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
        related_name="cloud_recordings",
        on_delete=models.CASCADE,
    )
    domain = models.ForeignKey(
        Domain,
        verbose_name="push domain",
        related_name="cloud_recordings",
        on_delete=models.CASCADE,
    )
    room_id = models.CharField(
        verbose_name="room",
        max_length=128,
    )
    mode = models.CharField(
        verbose_name="mode",
        max_length=8,
        choices=RecordingMode.choices,
        default=RecordingMode.SINGLE,
    )
    status = models.CharField(
        verbose_name="status",
        max_length=10,
        choices=CloudStatus.choices,
        default=CloudStatus.IDLE,
        db_index=True,
    )
    reason = models.CharField(
        verbose_name="end reason",
        max_length=16,
        blank=True,
        help_text="stopped, max_idle_time, max_record_time or error.",
    )
    error = models.TextField(verbose_name="error", blank=True)
    stream_type = models.CharField(
        verbose_name="stream type",
        max_length=20,
        choices=StreamType.choices,
        default=StreamType.AUDIO_VIDEO,
    )
    subscribe_audio = models.JSONField(verbose_name="subscribed audio", null=True, blank=True)
    subscribe_video = models.JSONField(verbose_name="subscribed video", null=True, blank=True)
    unsubscribe_audio = models.JSONField(verbose_name="unsubscribed audio", null=True, blank=True)
    unsubscribe_video = models.JSONField(verbose_name="unsubscribed video", null=True, blank=True)
    template = models.ForeignKey(
        RecordTemplate,
        verbose_name="template",
        related_name="cloud_recordings",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    formats = models.JSONField(
        verbose_name="formats",
        default=dict,
        help_text="Frozen per-format settings of every stream's files; {} records snapshots only.",
    )
    file_name_template = models.CharField(verbose_name="file name template", max_length=256, blank=True)
    snapshot = models.JSONField(
        verbose_name="snapshot",
        null=True,
        blank=True,
        help_text='{"interval": 10, "storage_time": 0}: a JPEG of each recorded stream every interval seconds.',
    )
    fill_blank = models.BooleanField(verbose_name="fill blanks", default=False)
    mute_audio = models.JSONField(verbose_name="mute split", null=True, blank=True)
    max_idle_time = models.PositiveIntegerField(verbose_name="max idle time (s)", default=MAX_IDLE_TIME_DEFAULT)
    max_record_time = models.PositiveIntegerField(verbose_name="max record time (s)", default=MAX_RECORD_TIME_DEFAULT)
    mix = models.JSONField(verbose_name="mix", null=True, blank=True)
    callback_url = models.CharField(verbose_name="callback URL", max_length=1024, blank=True)
    storage = models.ForeignKey(
        StorageTarget,
        verbose_name="storage target",
        related_name="cloud_recordings",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    started_at = models.DateTimeField(verbose_name="started at", null=True, blank=True)
    stopped_at = models.DateTimeField(verbose_name="stopped at", null=True, blank=True)
    empty_since = models.DateTimeField(
        verbose_name="room empty since",
        null=True,
        blank=True,
        help_text="When the room last had no live stream (max_idle_time and callback 334 count from here).",
    )
    idle_callbacks = models.PositiveIntegerField(
        verbose_name="idle callbacks sent",
        default=0,
        help_text="Callbacks 334 sent since the room emptied.",
    )

    class Meta:
        ordering = ["-created"]
        verbose_name = "cloud recording"
        constraints = [
            models.UniqueConstraint(
                fields=["domain", "room_id", "mode"],
                condition=models.Q(status__in=["idle", "recording"]),
                name="cloud_recording_one_running_per_room",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mode} {self.public_id} {self.room_id}"


class CloudRecordingStream(TimeStampedModel):
    """A push a cloud recording has seen in its room, what of it is recorded, and its record task."""

    recording = models.ForeignKey(
        CloudRecording,
        verbose_name="cloud recording",
        related_name="streams",
        on_delete=models.CASCADE,
    )
    session = models.ForeignKey(
        PublishSession,
        verbose_name="session",
        related_name="cloud_streams",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
    )
    task = models.ForeignKey(
        RecordTask,
        verbose_name="record task",
        related_name="cloud_streams",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="The task recording this stream now (empty: nothing of it is subscribed).",
    )
    stream_name = models.CharField(verbose_name="stream name", max_length=128)
    user_id = models.CharField(verbose_name="user", max_length=128)
    joined_at = models.DateTimeField(verbose_name="joined at")
    left_at = models.DateTimeField(verbose_name="left at", null=True, blank=True)
    audio = models.BooleanField(verbose_name="audio recorded", default=False)
    video = models.BooleanField(verbose_name="video recorded", default=False)

    class Meta:
        ordering = ["joined_at", "pk"]
        verbose_name = "stream of a cloud recording"
        constraints = [
            models.UniqueConstraint(fields=["recording", "session"], name="cloud_stream_once_per_session"),
        ]

    def __str__(self) -> str:
        return f"{self.stream_name} in {self.recording_id}"
