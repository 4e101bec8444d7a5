"""Snapshots: a JPEG of the stream every ``interval`` seconds, taken from the spool.

At each due time the recording takes the chunk whose first keyframe is nearest (a chunk serves the due times
up to its middle), reads that chunk only up to its first video packet, decodes that one keyframe alone (no
decoding of the stream: well under 1 % of a core per stream at a 10 s interval) and writes it as a JPEG at the
stream's own resolution. It runs on the packaging thread, never in the demux loop.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from workers.engine.datatypes import ChunkInfo, SnapshotFile
from workers.engine.errors import PackagingError
from workers.engine.media import unwrap
from workers.engine.spool import to_ticks

#: MJPEG quantiser (2 best … 31 worst): 3 keeps a 720p frame at about 60–120 kB.
JPEG_QUALITY = 3


@dataclass(frozen=True)
class Frame:
    """The first video frame of a chunk, encoded as JPEG."""

    jpeg: bytes
    wallclock: float
    width: int
    height: int


def first_frame_jpeg(info: ChunkInfo, *, quality: int = JPEG_QUALITY) -> Frame:
    """The chunk's first video frame (the keyframe it was cut at), decoded alone and encoded as JPEG."""
    if info.path is None or not info.path.exists():
        raise PackagingError(f"chunk {info.seq} is gone")
    try:
        with av.open(str(info.path)) as container:
            stream = next((s for s in container.streams if s.type == "video"), None)
            if stream is None:
                raise PackagingError(f"chunk {info.seq} has no video")
            packet = next((p for p in container.demux(stream) if p.size), None)
            if packet is None:
                raise PackagingError(f"chunk {info.seq} has no video packet")
            decoder: Any = stream.codec_context
            frames = [*decoder.decode(packet), *decoder.decode(None)]  # one packet in, flushed: the keyframe out
            if not frames:
                raise PackagingError(f"the first frame of chunk {info.seq} does not decode alone")
            raw = packet.dts if packet.dts is not None else packet.pts
            dts = unwrap(to_ticks(raw, packet.time_base) or 0, info.first_dts_ts) if raw is not None else None
            wall = info.wall_at(dts) if dts is not None else info.first_wallclock
            return Frame(
                jpeg=_encode_jpeg(frames[0], quality), wallclock=wall, width=frames[0].width, height=frames[0].height
            )
    except (av.FFmpegError, OSError) as exc:
        raise PackagingError(f"cannot snapshot chunk {info.file}: {exc}") from exc


def _encode_jpeg(frame: Any, quality: int) -> bytes:
    encoder: Any = av.CodecContext.create("mjpeg", "w")
    encoder.width, encoder.height = frame.width, frame.height
    encoder.pix_fmt = "yuvj420p"
    encoder.time_base = Fraction(1, 25)
    encoder.qmin = encoder.qmax = quality
    packets = [*encoder.encode(frame.reformat(format="yuvj420p")), *encoder.encode(None)]
    return b"".join(bytes(p) for p in packets)


def default_snapshot_name(wallclock: float) -> str:
    return f"snapshot_{round(wallclock * 1000)}"


class Snapshotter:
    """The snapshots of one recording: which chunks are due, and their JPEGs.

    Due times are ``start``, ``start + interval``, …; each is served by the chunk whose first keyframe is
    nearest to it (a chunk serves the due times up to its middle), so at an interval shorter than a chunk
    some due times share a snapshot. A chunk without video (an audio-only push) makes none.
    """

    def __init__(
        self,
        recording_id: str,
        *,
        interval: float,
        start: float,
        output_dir: Path,
        emit: Callable[[SnapshotFile], None],
        name_for: Callable[[float], str] = default_snapshot_name,
        grab: Callable[[ChunkInfo], Frame] = first_frame_jpeg,
    ) -> None:
        if not (interval > 0 and math.isfinite(interval)):
            raise ValueError("snapshot interval must be a positive number of seconds")
        self.recording_id = recording_id
        self.interval = interval
        self.next_due = start if math.isfinite(start) else None
        self.output_dir = Path(output_dir)
        self.emit = emit
        self.name_for = name_for
        self.grab = grab

    def due(self, info: ChunkInfo) -> bool:
        if not (info.has_video and info.starts_with_keyframe):
            return False
        if self.next_due is None:  # "from now" over an empty spool: the first chunk is the start
            self.next_due = info.first_wallclock
        return self.next_due <= info.first_wallclock + info.duration / 2

    def feed(self, info: ChunkInfo) -> SnapshotFile | None:
        """Take this chunk's snapshot if a due time falls on it; raises PackagingError if it cannot be made."""
        if not self.due(info):
            return None
        assert self.next_due is not None
        middle = info.first_wallclock + info.duration / 2
        while self.next_due <= middle:
            self.next_due += self.interval
        frame = self.grab(info)
        path = self._free_path(self.name_for(frame.wallclock))
        self.output_dir.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{path.name}.part")
        part.write_bytes(frame.jpeg)
        part.replace(path)
        shot = SnapshotFile(
            recording_id=self.recording_id,
            path=path,
            wallclock=frame.wallclock,
            size=len(frame.jpeg),
            width=frame.width,
            height=frame.height,
        )
        self.emit(shot)
        return shot

    def _free_path(self, name: str) -> Path:
        path = self.output_dir / f"{name}.jpg"
        n = 1
        while path.exists():
            path = self.output_dir / f"{name}_{n}.jpg"
            n += 1
        return path
