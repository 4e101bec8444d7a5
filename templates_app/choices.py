from __future__ import annotations

from django.db import models


class Format(models.TextChoices):
    FLV = "flv", "FLV"
    HLS = "hls", "HLS"
    MP4 = "mp4", "MP4"
    AAC = "aac", "AAC"
    MP3 = "mp3", "MP3"


class RecordType(models.TextChoices):
    VIDEO = "video", "audio and video, as pushed"
    AUDIO = "audio", "audio only"
