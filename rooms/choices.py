from __future__ import annotations

from django.db import models


class RecordingMode(models.TextChoices):
    SINGLE = "single", "one recording per stream"
    MIXED = "mixed", "the room mixed into one stream"


class CloudStatus(models.TextChoices):
    IDLE = "idle", "waiting for a stream"
    RECORDING = "recording", "recording"
    STOPPING = "stopping", "stopping"
    FINISHED = "finished", "finished"
    FAILED = "failed", "failed"


RUNNING_STATUSES = (CloudStatus.IDLE, CloudStatus.RECORDING)
FINAL_STATUSES = (CloudStatus.FINISHED, CloudStatus.FAILED)


class StreamType(models.TextChoices):
    AUDIO_VIDEO = "audio_video", "audio and video"
    AUDIO = "audio", "audio only"
    VIDEO = "video", "video only"
    AUDIO_VIDEO_SEPARATE = "audio_video_separate", "video files without audio, AAC files beside them"


class EndReason(models.TextChoices):
    STOPPED = "stopped", "stopped through the API"
    MAX_IDLE_TIME = "max_idle_time", "the room had no live stream for max_idle_time"
    MAX_RECORD_TIME = "max_record_time", "max_record_time reached"
    ERROR = "error", "error"
