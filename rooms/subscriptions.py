"""Which media of a stream a cloud recording records: its ``stream_type`` and its subscription lists.

Pure functions (no database), property-tested against an oracle in ``tests/rooms/test_subscriptions.py``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rooms.choices import StreamType

AUDIO_TYPES = (StreamType.AUDIO_VIDEO, StreamType.AUDIO, StreamType.AUDIO_VIDEO_SEPARATE)
VIDEO_TYPES = (StreamType.AUDIO_VIDEO, StreamType.VIDEO, StreamType.AUDIO_VIDEO_SEPARATE)


@dataclass(frozen=True)
class Subscription:
    """The four lists; ``None`` or an empty list means "not given" (as ZEGO and Agora read an empty list)."""

    subscribe_audio: Sequence[str] | None = None
    subscribe_video: Sequence[str] | None = None
    unsubscribe_audio: Sequence[str] | None = None
    unsubscribe_video: Sequence[str] | None = None

    @classmethod
    def of(cls, source: Any) -> Subscription:
        """The lists of a model row or of a mapping of them."""
        get = source.get if isinstance(source, Mapping) else lambda name: getattr(source, name)
        return cls(
            *(get(name) for name in ("subscribe_audio", "subscribe_video", "unsubscribe_audio", "unsubscribe_video"))
        )


LIST_NAMES = ("subscribe_audio", "subscribe_video", "unsubscribe_audio", "unsubscribe_video")


def lists_updated(
    current: Mapping[str, Sequence[str] | None], update: Mapping[str, Sequence[str] | None]
) -> dict[str, list[str] | None]:
    """``update-subscription``: a medium named in the update (either of its lists) takes the update's two lists
    (one left out is cleared); a medium left out keeps its lists. Empty lists are stored as none."""
    merged: dict[str, list[str] | None] = {name: list(current.get(name) or ()) or None for name in LIST_NAMES}
    for medium in ("audio", "video"):
        pair = (f"subscribe_{medium}", f"unsubscribe_{medium}")
        if any(name in update for name in pair):
            for name in pair:
                value = update.get(name)
                merged[name] = list(value) if value else None
    return merged


def _picked(name: str, only: Sequence[str] | None, but: Sequence[str] | None) -> bool:
    if only:
        return name in only
    if but:
        return name not in but
    return True


def media_recorded(*, stream_name: str, stream_type: str, subscription: Subscription) -> tuple[bool, bool]:
    """(audio, video): what of this stream the recording records."""
    audio = stream_type in AUDIO_TYPES and _picked(
        stream_name, subscription.subscribe_audio, subscription.unsubscribe_audio
    )
    video = stream_type in VIDEO_TYPES and _picked(
        stream_name, subscription.subscribe_video, subscription.unsubscribe_video
    )
    return audio, video


@dataclass(frozen=True)
class TaskMedia:
    """A stream's record task as the recorder reads it: the task's ``record_type`` and ``formats``."""

    record_type: str
    formats: dict[str, dict[str, int]]


def task_media(
    *, audio: bool, video: bool, stream_type: str, formats: Mapping[str, Mapping[str, int]]
) -> TaskMedia | None:
    """The record task for a stream whose ``audio`` / ``video`` are recorded; None when nothing is.

    ``audio_video_separate`` writes the video formats without audio and the audio as AAC beside them
    (the AAC at the longest interval of the video formats). AAC and MP3 hold audio only: with the audio not
    recorded they are left out.
    """
    chosen = {fmt: dict(opts) for fmt, opts in formats.items()}
    if stream_type == StreamType.AUDIO_VIDEO_SEPARATE and audio and video and "aac" not in chosen:
        intervals = [opts.get("record_interval", 0) for fmt, opts in chosen.items() if fmt != "hls"]
        storage = max((opts.get("storage_time", 0) for opts in chosen.values()), default=0)
        chosen["aac"] = {"record_interval": max(intervals, default=1800), "storage_time": storage}
    if not audio:
        chosen = {fmt: opts for fmt, opts in chosen.items() if fmt not in ("aac", "mp3")}
    if audio and video:
        record_type = "noaudio" if stream_type == StreamType.AUDIO_VIDEO_SEPARATE else "video"
    elif audio:
        record_type = "audio"
    elif video:
        record_type = "noaudio"
    else:
        return None
    return TaskMedia(record_type=record_type, formats=chosen)
