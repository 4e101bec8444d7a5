"""Ranges of SPEC.md's recording templates (they follow Tencent CSS live recording)."""

from __future__ import annotations

from templates_app.choices import Format

FORMATS: tuple[str, ...] = tuple(Format.values)
DEFAULT_RECORD_INTERVAL = 1800
RECORD_INTERVAL_MAX = {Format.FLV: 43200, Format.MP4: 43200, Format.AAC: 7200, Format.MP3: 7200, Format.HLS: 43200}
STORAGE_TIME_MAX = 129_600_000
HLS_CONTINUE_DURATION_MAX = 1800
NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
DESCRIPTION_MAX = 1024
FILE_NAME_TEMPLATE_MAX = 256
DEFAULT_FILE_NAME_TEMPLATE = (
    "{StreamID}_{StartYear}-{StartMonth}-{StartDay}-{StartHour}-{StartMinute}-{StartSecond}"
    "_{EndYear}-{EndMonth}-{EndDay}-{EndHour}-{EndMinute}-{EndSecond}"
)
SNAPSHOT_INTERVAL_MIN = 2
SNAPSHOT_INTERVAL_MAX = 3600
DEFAULT_SNAPSHOT_INTERVAL = 10
#: SPEC.md "Snapshots": the time placeholders are the frame's.
DEFAULT_SNAPSHOT_NAME_TEMPLATE = "{StreamID}_{Year}{Month}{Day}{Hour}{Minute}{Second}"
