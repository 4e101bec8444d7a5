"""Reading chunks back and measuring finished files."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import av

from workers.engine.datatypes import TS_HZ, ChunkInfo
from workers.engine.errors import PackagingError
from workers.engine.spool import to_ticks

WRAP = 1 << 33  # MPEG-TS timestamps are 33-bit: the spool timeline wraps after ~26.5 h


def unwrap(value: int, reference: int) -> int:
    """The value congruent to ``value`` mod 2**33 nearest to ``reference``."""
    return value + round((reference - value) / WRAP) * WRAP


@dataclass
class ChunkPacket:
    """A packet of a chunk on the spool timeline, with its wallclock."""

    kind: str
    packet: av.Packet
    dts: int
    pts: int
    duration: int
    wall: float
    keyframe: bool


@dataclass
class ChunkData:
    info: ChunkInfo
    streams: dict[str, Any]
    packets: list[ChunkPacket]
    container: Any

    def close(self) -> None:
        self.container.close()


def read_chunk(info: ChunkInfo) -> ChunkData:
    """Demux a whole chunk, sorted by dts (video first on ties).

    The TS demuxer hands a video frame over only when the next one starts, so
    demux order lags; sorting gives every consumer the same, time-true order,
    which is what file cuts are defined on.
    """
    if info.path is None or not info.path.exists():
        raise PackagingError(f"chunk {info.seq} is gone")
    try:
        container: Any = av.open(str(info.path))
    except (av.FFmpegError, OSError) as exc:
        raise PackagingError(f"cannot open chunk {info.file}: {exc}") from exc
    streams: dict[str, Any] = {}
    for st in container.streams:
        if st.type in ("video", "audio") and st.type not in streams:
            streams[st.type] = st
    kinds = {st.index: kind for kind, st in streams.items()}
    packets: list[ChunkPacket] = []
    try:
        for pkt in container.demux(list(streams.values())):
            if pkt.size == 0 or pkt.stream.index not in kinds:
                continue
            raw_dts = pkt.dts if pkt.dts is not None else pkt.pts
            if raw_dts is None:
                continue
            tb = pkt.time_base
            dts = unwrap(to_ticks(raw_dts, tb) or 0, info.first_dts_ts)
            pts = unwrap(to_ticks(pkt.pts, tb) or 0, dts) if pkt.pts is not None else dts
            kind = kinds[pkt.stream.index]
            packets.append(
                ChunkPacket(
                    kind=kind,
                    packet=pkt,
                    dts=dts,
                    pts=max(pts, dts),
                    duration=to_ticks(pkt.duration, tb) or 0,
                    wall=info.wall_at(dts),
                    keyframe=bool(pkt.is_keyframe) or kind == "audio",
                )
            )
    except (av.FFmpegError, OSError):
        pass  # a torn tail (recovered chunk): what was readable is the chunk
    packets.sort(key=lambda p: (p.dts, p.kind != "video"))
    _fill_durations(packets, info)
    if packets and info.has_video and info.starts_with_keyframe:
        # The chunk was cut at this keyframe; the TS demuxer does not always flag the first one.
        first_video = next((p for p in packets if p.kind == "video"), None)
        if first_video is not None:
            first_video.keyframe = True
    return ChunkData(info=info, streams=streams, packets=packets, container=container)


def _fill_durations(packets: list[ChunkPacket], info: ChunkInfo) -> None:
    last: dict[str, ChunkPacket] = {}
    for p in packets:
        prev = last.get(p.kind)
        if prev is not None and p.dts > prev.dts:
            prev.duration = p.dts - prev.dts
        last[p.kind] = p
    for kind, p in last.items():
        if kind == "video" and info.end_dts_ts > p.dts:
            p.duration = min(info.end_dts_ts - p.dts, TS_HZ)
        if p.duration <= 0:
            p.duration = TS_HZ // 25
