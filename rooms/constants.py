"""Ranges of SPEC.md "Rooms and cloud recordings"."""

from __future__ import annotations

from typing import Any

SUBSCRIPTION_LIST_MAX = 32
MAX_IDLE_TIME_MIN = 5
MAX_IDLE_TIME_MAX = 86400
MAX_IDLE_TIME_DEFAULT = 30
MAX_RECORD_TIME_MIN = 300
MAX_RECORD_TIME_MAX = 86400
MAX_RECORD_TIME_DEFAULT = 86400
SNAPSHOT_INTERVAL_MIN = 2
SNAPSHOT_INTERVAL_MAX = 3600
SPLIT_AFTER_MAX = 86400
STORAGE_TIME_MAX = 129600000
DEFAULT_FORMATS: dict[str, dict[str, Any]] = {"mp4": {}}
#: Single-mode files' default name (SPEC.md).
SINGLE_FILE_NAME_TEMPLATE = (
    "{RoomID}_{UserID}_{StreamID}_{StartYear}{StartMonth}{StartDay}{StartHour}{StartMinute}{StartSecond}"
)
MEDIA = ("audio", "video")
