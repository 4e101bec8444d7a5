"""The crash-safe spool: keyframe-aligned MPEG-TS chunks plus an append-only index.

Layout of a spool directory::

    chunk_000001.ts   # ~chunk_seconds each, first video packet is a keyframe
    chunk_000002.ts
    index.jsonl       # one ChunkInfo per closed chunk, appended, never rewritten

The chunk being written is flushed packet by packet (``flush_packets``), so a
``kill -9`` loses at most what the demuxer had not handed over yet; the index
lacks only that last chunk, which ``Spool.recover()`` probes and indexes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from workers.engine.datatypes import TS_HZ, ChunkInfo, StreamParams, codec_name
from workers.engine.errors import SpoolError
from workers.engine.params import PS_CODECS, decoded_size, parameter_sets
from workers.engine.source import SourcePacket
from workers.engine.timeline import Timeline, WallClock

log = logging.getLogger(__name__)

INDEX_NAME = "index.jsonl"
CHUNK_RE = re.compile(r"^chunk_(\d{6,})\.ts$")
TS_TIME_BASE = Fraction(1, TS_HZ)
# mpegts_copyts: keep our timeline as is (no muxer delay added); pes_payload_size=0:
# one PES per audio frame, so a chunk demuxes to exactly the packets written;
# flush_packets: every packet reaches the kernel at once (crash loses < 1 s);
# max_interleave_delta=1: never hold packets back waiting for the other stream.
TS_MUX_OPTIONS: dict[str, str] = {
    "mpegts_copyts": "1",
    "pes_payload_size": "0",
    "flush_packets": "1",
    "max_interleave_delta": "1",
}
#: A stream whose video never shows a keyframe flag is spooled anyway after this long.
MAX_KEYFRAME_WAIT = 10 * TS_HZ
#: Consecutive write failures after which the spool gives up (disk full, ...).
MAX_WRITE_ERRORS = 50


def chunk_name(seq: int) -> str:
    return f"chunk_{seq:06d}.ts"


def to_ticks(value: int | None, time_base: Fraction) -> int | None:
    if value is None:
        return None
    return (value * time_base.numerator * TS_HZ) // time_base.denominator


class _OpenChunk:
    """The chunk being written: its muxer and what its index line will say."""

    def __init__(self, path: Path, seq: int, templates: dict[str, Any], params: tuple[StreamParams, ...]) -> None:
        self.path = path
        self.seq = seq
        self.params = params
        self.container: Any = av.open(str(path), "w", format="mpegts", options=dict(TS_MUX_OPTIONS))
        self.out = {kind: self.container.add_stream_from_template(st) for kind, st in templates.items()}
        self.first_dts: int | None = None
        self.first_pts = 0
        self.max_pts = 0
        self.end = 0
        self.first_wall = 0.0
        self.last_wall = 0.0
        self.starts_with_keyframe = False
        self.discontinuity = False
        self.packets = 0
        self.bytes = 0

    def close(self) -> None:
        self.container.close()


class Spool:
    """Writes and indexes the chunks of one live stream.

    ``write()`` is the hot path (one packet, no decoding except on a codec
    change); everything else is bookkeeping the packager asks for. Methods
    are thread-safe: the demux thread writes while the packaging thread reads
    the index and releases chunks.
    """

    def __init__(
        self,
        spool_dir: Path,
        *,
        chunk_seconds: float = 2.0,
        lookback_seconds: float = 0.0,
        on_chunk_closed: Callable[[ChunkInfo], None] | None = None,
    ) -> None:
        self.dir = Path(spool_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.chunk_seconds = chunk_seconds
        self.lookback_seconds = lookback_seconds
        self.on_chunk_closed = on_chunk_closed
        self._lock = threading.RLock()
        self._chunks: dict[int, ChunkInfo] = {}
        self._cur: _OpenChunk | None = None
        self._closed = False
        self._templates: dict[str, Any] = {}
        self._params: dict[str, StreamParams] = {}
        self._timeline = Timeline()
        self._clock = WallClock(live=False)
        self._pending_discontinuity = False
        self._inband_ps: bytes | None = None
        self._extradata: bytes | None = None
        self._waited_from: int | None = None
        self._write_errors = 0
        self.live_edge_wallclock: float | None = None
        self.next_seq = 1
        self._load_index()

    # --- index ---

    @property
    def index_path(self) -> Path:
        return self.dir / INDEX_NAME

    def _load_index(self) -> None:
        if not self.index_path.exists():
            return
        with self.index_path.open("r", encoding="utf-8") as fh:
            for line in fh:
                try:
                    info = ChunkInfo.from_json(json.loads(line), self.dir)
                except (ValueError, TypeError, KeyError):
                    log.warning("skipping a torn index line in %s", self.index_path)
                    continue
                self.next_seq = max(self.next_seq, info.seq + 1)
                if info.path is not None and info.path.exists():
                    self._chunks[info.seq] = info

    def _append_index(self, info: ChunkInfo) -> None:
        line = json.dumps(info.to_json(), separators=(",", ":")) + "\n"
        # One write() of a whole line in append mode: a crash leaves at most a torn last line.
        with self.index_path.open("a", encoding="utf-8") as fh:
            fh.write(line)
        self._chunks[info.seq] = info

    @classmethod
    def recover(cls, spool_dir: Path, **kwargs: Any) -> Spool:
        """Open a spool left behind by a dead recorder and index its last chunk.

        Chunk files newer than the index (at most one, the one being written
        at the crash) are demuxed up to their last readable packet and
        appended to the index marked ``recovered``; unreadable ones are removed.
        """
        spool = cls(spool_dir, **kwargs)
        indexed = max(spool._chunks, default=0)
        orphans = sorted(
            (int(m.group(1)), p)
            for p in spool.dir.iterdir()
            if (m := CHUNK_RE.match(p.name)) and int(m.group(1)) >= spool.next_seq
        )
        for seq, path in orphans:
            info = probe_chunk(path, seq, previous=spool._chunks.get(indexed))
            if info is None:
                log.warning("removing unreadable chunk %s", path)
                path.unlink(missing_ok=True)
                continue
            spool._append_index(info)
            indexed = seq
            spool.next_seq = max(spool.next_seq, seq + 1)
        return spool

    # --- reading, for the packager ---

    def chunk(self, seq: int) -> ChunkInfo | None:
        with self._lock:
            return self._chunks.get(seq)

    def chunks(self) -> list[ChunkInfo]:
        with self._lock:
            return [self._chunks[s] for s in sorted(self._chunks)]

    @property
    def last_closed_seq(self) -> int:
        with self._lock:
            return self.next_seq - 1 if self._cur is None else self._cur.seq - 1

    @property
    def open_seq(self) -> int:
        """The chunk being written, or the next one to be."""
        with self._lock:
            return self._cur.seq if self._cur is not None else self.next_seq

    def first_seq_for(self, wallclock: float) -> int:
        """The first chunk a recording starting at ``wallclock`` needs."""
        with self._lock:
            for seq in sorted(self._chunks):
                # A second of margin: the packager's per-packet checks make the exact cut.
                if self._chunks[seq].last_wallclock + 1.0 >= wallclock:
                    return seq
            return self._cur.seq if self._cur is not None else self.next_seq

    def release(self, keep_from: int) -> list[int]:
        """Delete chunks before ``keep_from`` that are older than the look-back window."""
        removed: list[int] = []
        with self._lock:
            edge = self.live_edge_wallclock
            if edge is None:  # a spool opened after the fact: its newest chunk is "now"
                edge = max((c.last_wallclock for c in self._chunks.values()), default=None)
            for seq in sorted(self._chunks):
                if seq >= keep_from:
                    break
                info = self._chunks[seq]
                if edge is not None and info.last_wallclock >= edge - self.lookback_seconds:
                    break
                if info.path is not None:
                    info.path.unlink(missing_ok=True)
                del self._chunks[seq]
                removed.append(seq)
        return removed

    # --- writing, from the demux thread ---

    def begin(self, video: Any, audio: Any, *, live: bool, epoch: float | None = None) -> None:
        """Declare the source's streams; packets follow with ``write()``.

        epoch: the wallclock of the source's time 0 when the source knows it (DESIGN.md, ``Source``).
        """
        with self._lock:
            self._templates = {k: s for k, s in (("video", video), ("audio", audio)) if s is not None}
            self._params = {k: _stream_params(k, s) for k, s in self._templates.items()}
            self._clock = WallClock(live=live, epoch=epoch)
            self._timeline = Timeline()
            if video is not None and video.codec_context.extradata:
                self._extradata = bytes(video.codec_context.extradata)
            # A spool that already has chunks is being resumed: timestamps restart.
            self._pending_discontinuity = bool(self._chunks)

    def write(self, sp: SourcePacket) -> ChunkInfo | None:
        """Spool one packet; returns the chunk this packet closed, if any."""
        with self._lock:
            if self._closed:
                return None
            pkt = sp.packet
            tb = pkt.time_base
            source_dts = to_ticks(pkt.dts, tb)
            m = self._timeline.map(sp.kind, source_dts, to_ticks(pkt.pts, tb), to_ticks(pkt.duration or None, tb))
            has_video = "video" in self._templates
            is_key_video = sp.kind == "video" and sp.keyframe
            changed = is_key_video and self._parameters_changed(pkt)
            closed: ChunkInfo | None = None
            cur = self._cur
            if cur is None:
                if has_video and not is_key_video:
                    if self._waited_from is None:
                        self._waited_from = m.dts
                    if m.dts - self._waited_from < MAX_KEYFRAME_WAIT:
                        return None  # a chunk starts at a keyframe; what comes before is undecodable
                self._start_chunk(sp, m.dts, changed)
            else:
                assert cur.first_dts is not None
                boundary = is_key_video if has_video else True
                due = (m.dts - cur.first_dts) >= (self.chunk_seconds - 0.05) * TS_HZ
                if changed or (boundary and due):
                    closed = self._close_chunk(end=m.dts)
                    self._start_chunk(sp, m.dts, changed)
            cur = self._cur
            assert cur is not None
            wall = self._clock.wall(m.dts, sp.received, source_dts)
            self.live_edge_wallclock = wall
            pkt.stream = cur.out[sp.kind]
            pkt.time_base = TS_TIME_BASE
            pkt.dts = m.dts
            pkt.pts = m.pts
            pkt.duration = m.duration
            size = pkt.size
            try:
                cur.container.mux(pkt)
                self._write_errors = 0
            except (av.FFmpegError, ValueError) as exc:
                self._write_errors += 1
                log.warning("dropping a packet the muxer refused: %s", exc)
                if self._write_errors >= MAX_WRITE_ERRORS:
                    raise SpoolError(f"cannot write {cur.path}: {exc}") from exc
                return closed
            if cur.first_dts is None:
                cur.first_dts = m.dts
                cur.first_pts = m.pts
                cur.first_wall = wall
                cur.starts_with_keyframe = is_key_video or not has_video
            cur.max_pts = max(cur.max_pts, m.pts)
            cur.end = max(cur.end, m.dts + m.duration)
            cur.last_wall = wall
            cur.packets += 1
            cur.bytes += size
        if closed is not None and self.on_chunk_closed is not None:
            self.on_chunk_closed(closed)
        return closed

    def close(self) -> ChunkInfo | None:
        """Close and index the last chunk; further writes are ignored."""
        with self._lock:
            if self._closed:
                return None
            self._closed = True
            closed = self._close_chunk(end=None) if self._cur is not None else None
        if closed is not None and self.on_chunk_closed is not None:
            self.on_chunk_closed(closed)
        return closed

    def _parameters_changed(self, pkt: av.Packet) -> bool:
        codec = self._params["video"].codec
        changed = False
        if pkt.has_sidedata("new_extradata"):
            extradata = bytes(pkt.get_sidedata("new_extradata"))
            if self._extradata is not None and extradata != self._extradata:
                changed = True
            self._extradata = extradata
        ps = parameter_sets(bytes(pkt), codec) if codec in PS_CODECS else None
        if ps is not None:
            if self._inband_ps is not None and ps != self._inband_ps:
                changed = True
            self._inband_ps = ps
        if changed:
            width, height = decoded_size(codec, self._extradata, bytes(pkt))
            old = self._params["video"]
            self._params["video"] = StreamParams(kind="video", codec=codec, width=width, height=height)
            log.info("video parameters changed: %sx%s -> %sx%s", old.width, old.height, width, height)
        return changed

    def _start_chunk(self, sp: SourcePacket, dts: int, changed: bool) -> None:
        seq = self.next_seq
        self.next_seq += 1
        path = self.dir / chunk_name(seq)
        params = tuple(self._params[k] for k in self._templates)
        try:
            cur = _OpenChunk(path, seq, self._templates, params)
        except (av.FFmpegError, OSError) as exc:
            raise SpoolError(f"cannot create {path}: {exc}") from exc
        if changed and self._extradata and "video" in cur.out:
            try:
                cur.out["video"].codec_context.extradata = self._extradata
            except Exception:  # in-band parameter sets still make the chunk decodable
                log.debug("could not set new extradata", exc_info=True)
        cur.discontinuity = changed or self._pending_discontinuity
        self._pending_discontinuity = False
        self._cur = cur

    def _close_chunk(self, end: int | None) -> ChunkInfo | None:
        cur = self._cur
        self._cur = None
        if cur is None:
            return None
        try:
            cur.close()
        except (av.FFmpegError, OSError) as exc:
            log.warning("closing %s failed: %s", cur.path, exc)
        if cur.first_dts is None:
            cur.path.unlink(missing_ok=True)
            return None
        end_dts = end if end is not None else cur.end
        info = ChunkInfo(
            seq=cur.seq,
            file=cur.path.name,
            first_wallclock=cur.first_wall,
            last_wallclock=cur.last_wall,
            first_pts=cur.first_pts / TS_HZ,
            last_pts=cur.max_pts / TS_HZ,
            duration=round((end_dts - cur.first_dts) / TS_HZ, 6),
            starts_with_keyframe=cur.starts_with_keyframe,
            discontinuity=cur.discontinuity,
            streams=cur.params,
            first_dts_ts=cur.first_dts,
            end_dts_ts=end_dts,
            packets=cur.packets,
            bytes=cur.path.stat().st_size if cur.path.exists() else cur.bytes,
            path=cur.path,
        )
        self._append_index(info)
        return info


def _stream_params(kind: str, stream: Any) -> StreamParams:
    cc = stream.codec_context
    if kind == "video":
        return StreamParams(kind="video", codec=codec_name(cc), width=cc.width or None, height=cc.height or None)
    return StreamParams(
        kind="audio", codec=codec_name(cc), sample_rate=cc.sample_rate or None, channels=cc.channels or None
    )


def probe_chunk(path: Path, seq: int, previous: ChunkInfo | None = None) -> ChunkInfo | None:
    """Index a chunk that was never closed, up to its last readable packet."""
    try:
        container: Any = av.open(str(path))
    except (av.FFmpegError, OSError):
        return None
    first_dts: int | None = None
    first_pts: int | None = None
    max_pts = end = 0
    packets = 0
    first_key: bool | None = None
    try:
        kinds = {s.index: s.type for s in container.streams if s.type in ("video", "audio")}
        has_video = "video" in kinds.values()
        params = tuple(_stream_params(k, s) for s in container.streams if (k := kinds.get(s.index)))
        try:
            for pkt in container.demux():
                if pkt.size == 0 or pkt.dts is None or pkt.stream.index not in kinds:
                    continue
                kind = kinds[pkt.stream.index]
                dts = to_ticks(pkt.dts, pkt.time_base) or 0
                pts = to_ticks(pkt.pts, pkt.time_base) if pkt.pts is not None else dts
                assert pts is not None
                # The chunk "starts" at its first video packet (the demuxer hands
                # video over late, so an audio packet may come out first).
                if first_key is None and (kind == "video" or not has_video):
                    first_key = bool(pkt.is_keyframe) or not has_video
                    first_dts, first_pts = dts, pts
                max_pts = max(max_pts, pts)
                end = max(end, dts + (to_ticks(pkt.duration, pkt.time_base) or 0))
                packets += 1
        except (av.FFmpegError, OSError):
            pass  # a torn tail: keep what was readable
    finally:
        container.close()
    starts_with_keyframe = bool(first_key)
    if first_dts is None or first_pts is None:
        return None
    duration = (end - first_dts) / TS_HZ
    if previous is not None and previous.end_dts_ts == first_dts:
        first_wall = previous.wall_at(first_dts)
    else:
        first_wall = os.path.getmtime(path) - duration
    return ChunkInfo(
        seq=seq,
        file=path.name,
        first_wallclock=first_wall,
        last_wallclock=first_wall + duration,
        first_pts=first_pts / TS_HZ,
        last_pts=max_pts / TS_HZ,
        duration=round(duration, 6),
        starts_with_keyframe=starts_with_keyframe,
        discontinuity=False,
        streams=params,
        first_dts_ts=first_dts,
        end_dts_ts=end,
        packets=packets,
        bytes=path.stat().st_size,
        recovered=True,
        path=path,
    )
