"""Ranges of SPEC.md's push domains, storage targets and rules."""

from __future__ import annotations

CATCH_ALL_DOMAIN = "*"
DEFAULT_SOURCE_URL_TEMPLATE = "rtmp://{ingest}/{app}/{stream}"
SOURCE_URL_PLACEHOLDERS = frozenset({"ingest", "app", "stream", "domain"})
SOURCE_URL_SCHEMES = ("rtmp", "rtmps", "rtsp", "srt", "http", "https")
LOOKBACK_SECONDS_MAX = 1800
PUSH_KEY_PATTERN = r"^[\x21-\x7e]{8,128}$"
PUSH_KEY_MESSAGE = "must be 8–128 printable characters without spaces"
CALLBACK_KEY_PATTERN = r"^[\x21-\x7e]{1,128}$"
CALLBACK_KEY_MESSAGE = "must be 1–128 printable characters without spaces"
STREAM_PART_PATTERN = r"^[^\s/?#&%\\]*$"
STREAM_PART_MESSAGE = "must not contain spaces, slashes, backslashes, percent signs or any of ? # &"
PRESIGN_SECONDS_MIN = 60
PRESIGN_SECONDS_MAX = 604800
PREFIX_MAX = 128
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
REGION_PATTERN = r"^[a-z0-9-]{1,32}$"
NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
