"""Value objects the engine exchanges with its caller (data types, not Django models).

They are plain dataclasses so the Celery task can turn them into rows and
the index lines can be read back without the engine's internals.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

#: Output formats the packager knows, with their file extension.
FORMAT_EXTENSIONS: dict[str, str] = {"flv": "flv", "mp4": "mp4", "hls": "m3u8", "aac": "aac", "mp3": "mp3"}

#: Spool time base: MPEG-TS ticks. Every timestamp inside the engine is an int in it.
TS_HZ = 90_000


@dataclass
class StreamStats:
    """What the recorder has measured of the live stream so far."""

    video_codec: str | None = None
    audio_codec: str | None = None
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    gop_seconds: float | None = None
    bitrate: float | None = None
    first_packet_wallclock: float | None = None
    packets: int = 0
    bytes: int = 0
    last_packet_wallclock: float | None = None


@dataclass(frozen=True)
class StreamParams:
    """Codec parameters of one elementary stream of a chunk."""

    kind: str  # "video" or "audio"
    codec: str
    width: int | None = None
    height: int | None = None
    sample_rate: int | None = None
    channels: int | None = None


@dataclass(frozen=True)
class ChunkInfo:
    """One closed spool chunk, exactly as written to a line of ``index.jsonl``.

    Timestamps are on the spool timeline (seconds for humans, 90 kHz ints for
    arithmetic); ``first_wallclock`` is the wallclock of the first packet and
    the packager maps any dts of the chunk to wallclock linearly from it.
    """

    seq: int
    file: str
    first_wallclock: float
    last_wallclock: float
    first_pts: float
    last_pts: float
    duration: float
    starts_with_keyframe: bool
    discontinuity: bool
    streams: tuple[StreamParams, ...]
    first_dts_ts: int
    end_dts_ts: int
    packets: int
    bytes: int
    recovered: bool = False
    path: Path | None = field(default=None, compare=False)

    @property
    def has_video(self) -> bool:
        return any(s.kind == "video" for s in self.streams)

    @property
    def has_audio(self) -> bool:
        return any(s.kind == "audio" for s in self.streams)

    def stream(self, kind: str) -> StreamParams | None:
        return next((s for s in self.streams if s.kind == kind), None)

    def wall_at(self, dts_ts: int) -> float:
        return self.first_wallclock + (dts_ts - self.first_dts_ts) / TS_HZ

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("path")
        data["streams"] = [asdict(s) for s in self.streams]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], spool_dir: Path | None = None) -> ChunkInfo:
        data = dict(data)
        data["streams"] = tuple(StreamParams(**s) for s in data.get("streams", ()))
        known = {f for f in cls.__dataclass_fields__ if f != "path"}
        info = cls(**{k: v for k, v in data.items() if k in known})
        if spool_dir is not None:
            object.__setattr__(info, "path", spool_dir / info.file)
        return info


#: ``video``: audio and video as pushed; ``audio``: no video; ``noaudio``: no audio in the files that carry
#: video (AAC and MP3 files of the same recording still hold the audio: a cloud recording's "separate" type).
RECORD_TYPES = ("video", "audio", "noaudio")


@dataclass
class RecordingSpec:
    """One recording over the spool: a time range and a list of formats.

    ``formats`` maps a format to its record interval in seconds (ignored for
    HLS). ``name_for(format, start, end)`` names a file without extension; HLS
    gets ``end=None`` because its name is fixed when the playlist starts.
    """

    recording_id: str
    formats: dict[str, int]
    output_dir: Path
    name_for: Callable[[str, float, float | None], str]
    record_type: str = "video"
    start_wallclock: float | None = None
    end_wallclock: float | None = None
    #: Continue this existing playlist (after ``#EXT-X-DISCONTINUITY``) instead of starting one.
    hls_append_to: Path | None = None
    #: False leaves the playlist open (no ``#EXT-X-ENDLIST``) for a later push to continue it.
    hls_endlist: bool = True
    mp3_bitrate: int = 128_000
    #: MP3 mute handling (ZEGO RecordMuteAudio): drop muted stretches (below -60 dBFS for 1 s or more), and
    #: start a new file after a muted stretch of at least ``mute_split_after`` seconds (0: never).
    mute_skip: bool = False
    mute_split_after: float = 0.0
    #: A JPEG every this many seconds (None: no snapshots), named by ``snapshot_name_for(wallclock)``.
    snapshot_interval: float | None = None
    snapshot_name_for: Callable[[float], str] | None = None

    def __post_init__(self) -> None:
        self.output_dir = Path(self.output_dir)
        unknown = set(self.formats) - set(FORMAT_EXTENSIONS)
        if unknown:
            raise ValueError(f"unknown formats: {sorted(unknown)}")
        if self.record_type not in RECORD_TYPES:
            raise ValueError(f"record_type must be one of {', '.join(RECORD_TYPES)}, not {self.record_type!r}")
        for fmt, interval in self.formats.items():
            if fmt != "hls" and not (interval > 0 and math.isfinite(interval)):
                raise ValueError(f"{fmt}: record interval must be a positive number of seconds")
        if self.snapshot_interval is not None and not (
            self.snapshot_interval > 0 and math.isfinite(self.snapshot_interval)
        ):
            raise ValueError("snapshot interval must be a positive number of seconds")


@dataclass
class PackagedFile:
    """One finished (or failed) deliverable."""

    recording_id: str
    format: str
    path: Path | None
    start_wallclock: float
    end_wallclock: float
    duration: float
    size: int
    video_codec: str | None
    audio_codec: str | None
    width: int | None
    height: int | None
    error: str | None = None


@dataclass(frozen=True)
class SnapshotFile:
    """One snapshot JPEG of a recording: where it is, the wallclock of its frame, what it shows."""

    recording_id: str
    path: Path
    wallclock: float
    size: int
    width: int
    height: int


class RecorderListener:
    """Receives the recorder's events; override what you need.

    Methods are called from the recorder's threads (``on_started`` and
    ``on_error`` from the caller of ``run()``, ``on_heartbeat`` likewise, the
    others from the packaging thread), never from the demux loop, so a slow
    listener delays files, not the spool. Exceptions raised here are logged
    and swallowed.
    """

    def on_started(self, stats: StreamStats) -> None:
        """The source is open and its first packets are being spooled."""

    def on_chunk_closed(self, chunk: ChunkInfo) -> None:
        """A spool chunk was closed and indexed."""

    def on_heartbeat(self, stats: StreamStats) -> None:
        """Every ``heartbeat_seconds`` while ``run()`` is active."""

    def on_file(self, f: PackagedFile) -> None:
        """A file is finished (or failed: ``f.error`` is set)."""

    def on_snapshot(self, snapshot: SnapshotFile) -> None:
        """A snapshot JPEG is written."""

    def on_recording_finished(self, recording_id: str) -> None:
        """Every file of this recording has been announced."""

    def on_error(self, exc: BaseException) -> None:
        """A non-fatal problem (the source ended badly, a chunk was unreadable...)."""


def codec_name(codec_context: Any) -> str:
    """The codec's own name (``mp3``), not its decoder's (``mp3float``)."""
    codec = getattr(codec_context, "codec", None)
    return str(getattr(codec, "canonical_name", None) or codec_context.name)
