"""The consecutive FLV, MP4 and AAC files of one format of one recording (MP3 in ``mp3_series``).

A writer sees the recording's packets in spool order (sorted by dts) and
decides where files start and end. The cut rule is the whole contract: a
file starts at a start point (a video keyframe, or any packet when the file
has no video) and the next file starts at the first start point at or after
``interval`` seconds; every packet between goes to exactly one file.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from workers.engine.datatypes import FORMAT_EXTENSIONS, TS_HZ, ChunkInfo, PackagedFile, RecordingSpec, codec_name
from workers.engine.errors import PackagingError
from workers.engine.media import ChunkData, ChunkPacket

log = logging.getLogger(__name__)

TS_TIME_BASE = Fraction(1, TS_HZ)
MUXERS = {"flv": "flv", "mp4": "mp4", "aac": "adts", "mp3": "mp3"}
# faststart: moov before mdat so a browser plays before the download ends. The
# mov muxer switches to 64-bit chunk offsets by itself past 4 GiB.
MUX_OPTIONS: dict[str, dict[str, str]] = {"mp4": {"movflags": "+faststart"}}
#: Tolerance when comparing a cut time with a wallclock bound (floating point noise).
EPS = 1e-6
#: How far a chunk's packets may sit before its first keyframe's wallclock (audio
#: sorted ahead of the keyframe), so chunk-level shortcuts never cut what a
#: per-packet check would keep.
MAX_LEAD = 1.0

Emit = Callable[[PackagedFile], None]


def final_path(output_dir: Path, name: str, ext: str) -> Path:
    """Where a finished file goes; never inside-out, never over an existing file."""
    if not name or "\x00" in name or any(ord(c) < 32 for c in name) or Path(name).is_absolute():
        raise PackagingError(f"bad file name {name!r}")
    root = output_dir.resolve()
    path = (root / f"{name}.{ext}").resolve()
    if root not in path.parents:
        raise PackagingError(f"file name {name!r} climbs out of {output_dir}")
    n = 1
    candidate = path
    while candidate.exists():  # finished files are never rewritten
        candidate = path.with_name(f"{path.stem}_{n}{path.suffix}")
        n += 1
    candidate.parent.mkdir(parents=True, exist_ok=True)
    return candidate


def audio_specific_config(chunk: ChunkData) -> bytes | None:
    """The AAC AudioSpecificConfig of the chunk's first ADTS frame, exactly as ``aac_adtstoasc`` builds it."""
    first = next((p for p in chunk.packets if p.kind == "audio"), None)
    if first is None:
        return None
    h = bytes(first.packet)[:4]
    if len(h) < 4 or h[0] != 0xFF or h[1] & 0xF0 != 0xF0:
        return None  # not ADTS (already raw AAC with its own extradata, or another codec)
    object_type = (h[2] >> 6) + 1
    sampling_index = (h[2] >> 2) & 0x0F
    channels = ((h[2] & 0x01) << 2) | (h[3] >> 6)
    if object_type > 4 or sampling_index > 12 or channels == 0:
        return None  # a program config element would be needed: let the bitstream filter do it
    return ((object_type << 11) | (sampling_index << 7) | (channels << 3)).to_bytes(2, "big")


@dataclass
class _File:
    tmp: Path
    container: Any
    out: dict[str, Any]
    offset: int
    start_dts: int
    start_wall: float
    end_wall: float
    last_dts: dict[str, int] = field(default_factory=dict)
    # What was muxed, per track, in 90 kHz: the file's duration without reading it back.
    first_pts: dict[str, int] = field(default_factory=dict)
    end_pts: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    packets: int = 0
    first_seq: int = -1  # the spool chunk it starts in: kept until the file is finished (crash safety)


class FileSeries:
    """Consecutive FLV, MP4, AAC or MP3 files of one recording."""

    def __init__(self, spec: RecordingSpec, fmt: str, interval: float, start: float, emit: Emit) -> None:
        self.spec = spec
        self.fmt = fmt
        self.interval_ts = int(interval * TS_HZ)
        self.start = start
        self.emit = emit
        self.audio_only = fmt in ("aac", "mp3") or spec.record_type == "audio"
        self.video_only = not self.audio_only and spec.record_type == "noaudio"
        self.muxer = MUXERS[fmt]
        self.file: _File | None = None
        self.finished = False
        self._has_video = False

    # --- what the recording asks of a writer ---

    def needs(self, info: ChunkInfo) -> bool:
        return not self.finished and (self.file is not None or info.last_wallclock + MAX_LEAD >= self.start)

    def begin_chunk(self, info: ChunkInfo) -> None:
        self._has_video = info.has_video and not self.audio_only
        if info.discontinuity and self.file is not None:
            # New codec parameters (or a restarted spool): a new file with its own headers. It ends with its
            # last packet, so a gap in the spool (a resumed recorder) shows between the files.
            self._close(end_wall=None)

    def feed(self, cp: ChunkPacket, chunk: ChunkData) -> None:
        if self.finished or (self.audio_only and cp.kind != "audio") or (self.video_only and cp.kind != "video"):
            return
        start_point = (cp.kind == "video" and cp.keyframe) if self._has_video else True
        try:
            if self.file is None:
                if not start_point or cp.wall < self.start - EPS:
                    return
                self._open(cp, chunk)
            elif start_point and cp.dts - self.file.start_dts >= self.interval_ts:
                self._close(end_wall=cp.wall)
                self._open(cp, chunk)
            assert self.file is not None
            self._write(self.file, cp)
        except av.FFmpegError as exc:
            if self.file is not None and self.file.packets:
                self._cut_after_error(exc, cp, chunk, start_point)
            else:
                self._fail(exc, cp.wall)
        except Exception as exc:  # noqa: BLE001 - one bad file must not kill the recording
            self._fail(exc, cp.wall)

    def transcoding(self) -> bool:
        """True while files cut here are still being made elsewhere (``Mp3Series``): not announced yet."""
        return False

    def poll(self, *, wait: bool = False) -> None:
        """Announce the files made elsewhere that are ready (``Mp3Series``); nothing to do here."""

    def oldest_seq(self) -> int | None:
        """The spool chunk the oldest file not announced yet starts in (kept until it is: crash safety)."""
        return self.file.first_seq if self.file is not None and self.file.first_seq >= 0 else None

    def finish(self) -> None:
        if not self.finished:
            self.finished = True
            if self.file is not None:
                self._close(end_wall=None)

    def _cut_after_error(self, exc: av.FFmpegError, cp: ChunkPacket, chunk: ChunkData, start_point: bool) -> None:
        """The muxer refused a packet (``ArgumentError ... returned 22``) of a file that already holds packets:
        what it holds is good, and every packet is still in the spool. So the file ends before this packet and
        the next one starts here (or at the next start point when this packet is none): a muxer error costs at
        most the packets up to the next keyframe, never the file."""
        log.warning(
            "%s %s: the muxer refused a packet (%s); the file is cut there", self.spec.recording_id, self.fmt, exc
        )
        self._close(end_wall=cp.wall)
        self.start = cp.wall - EPS if start_point else cp.wall + EPS
        if not start_point:
            return
        try:
            self._open(cp, chunk)
            assert self.file is not None
            self._write(self.file, cp)
        except Exception as again:  # noqa: BLE001 - the packet itself is bad: drop it, not a file
            log.warning("%s %s: packet dropped: %s", self.spec.recording_id, self.fmt, again)
            self._discard()
            self.start = cp.wall + EPS

    def _discard(self) -> None:
        """Throw away the open file without a trace when it holds nothing; else close it as it is."""
        f = self.file
        if f is None:
            return
        if f.packets:
            self._close(end_wall=None)
            return
        self.file = None
        try:
            f.container.close()
        except Exception:  # an empty file is thrown away anyway
            log.debug("closing an empty file", exc_info=True)
        f.tmp.unlink(missing_ok=True)

    # --- files ---

    def _open(self, cp: ChunkPacket, chunk: ChunkData) -> None:
        kinds = ["audio"] if self.audio_only else ["video"] if self.video_only else ["video", "audio"]
        templates = {k: chunk.streams[k] for k in kinds if k in chunk.streams}
        if not templates:
            raise PackagingError(f"{self.fmt}: nothing to record in chunk {chunk.info.seq}")
        self.spec.output_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{self.spec.recording_id}.",
            suffix=f".{FORMAT_EXTENSIONS[self.fmt]}.part",
            dir=self.spec.output_dir,
        )
        os.close(fd)
        tmp = Path(tmp_name)
        container: Any = av.open(str(tmp), "w", format=self.muxer, options=dict(MUX_OPTIONS.get(self.fmt, {})))
        f = _File(
            tmp=tmp,
            container=container,
            out={},
            # Offset by the first packet: every timestamp of the file starts at 0.
            offset=cp.dts,
            start_dts=cp.dts,
            start_wall=cp.wall,
            end_wall=cp.wall,
        )
        f.first_seq = chunk.info.seq
        self.file = f
        self._add_streams(f, templates)
        audio = f.out.get("audio")
        if self.fmt == "flv" and audio is not None and not audio.codec_context.extradata:
            asc = audio_specific_config(chunk)
            if asc is not None:
                # Without it the FLV muxer writes an empty AAC sequence header (``af00``) first and the real
                # one with the first packet (from aac_adtstoasc); players such as mpegts.js reject the empty one.
                audio.codec_context.extradata = asc

    def _add_streams(self, f: _File, templates: dict[str, Any]) -> None:
        for kind, st in templates.items():
            f.out[kind] = f.container.add_stream_from_template(st)

    def _write(self, f: _File, cp: ChunkPacket) -> None:
        out = f.out.get(cp.kind)
        if out is None:
            return  # a stream that appeared after the file started has no track in it
        dts = max(cp.dts - f.offset, 0)
        prev = f.last_dts.get(cp.kind)
        if prev is not None and dts <= prev:
            dts = prev + 1
        f.last_dts[cp.kind] = dts
        pkt = cp.packet
        pkt.stream = out
        pkt.time_base = TS_TIME_BASE
        pkt.dts = dts
        pts = pkt.pts = max(cp.pts - f.offset, dts)
        pkt.duration = cp.duration
        f.container.mux(pkt)
        f.packets += 1
        f.first_pts[cp.kind] = min(f.first_pts.get(cp.kind, pts), pts)
        f.end_pts[cp.kind] = max(f.end_pts.get(cp.kind, 0), pts + cp.duration)
        f.end_wall = max(f.end_wall, cp.wall + cp.duration / TS_HZ)

    def _close(self, end_wall: float | None) -> None:
        f = self.file
        self.file = None
        if f is None:
            return
        if not f.packets:
            # Opened on a packet that had no track to go to: nothing was recorded.
            try:
                f.container.close()
            except Exception:  # an empty file is thrown away anyway
                log.debug("closing an empty file", exc_info=True)
            f.tmp.unlink(missing_ok=True)
            return
        end = f.end_wall if end_wall is None else max(end_wall, f.start_wall)
        try:
            self._close_container(f)
            self.emit(self._finalize(f, end))
        except Exception as exc:  # noqa: BLE001
            f.tmp.unlink(missing_ok=True)
            self.emit(self._error_file(f.start_wall, end, exc))

    def _close_container(self, f: _File) -> None:
        f.container.close()

    def _finalize(self, f: _File, end_wall: float) -> PackagedFile:
        name = self.spec.name_for(self.fmt, f.start_wall, end_wall)
        path = final_path(self.spec.output_dir, name, FORMAT_EXTENSIONS[self.fmt])
        os.replace(f.tmp, path)
        video = f.out.get("video")
        audio = f.out.get("audio")
        return PackagedFile(
            recording_id=self.spec.recording_id,
            format=self.fmt,
            path=path,
            start_wallclock=f.start_wall,
            end_wallclock=end_wall,
            duration=round(self._duration(f), 6),
            size=path.stat().st_size,
            video_codec=codec_name(video.codec_context) if video is not None else None,
            audio_codec=codec_name(audio.codec_context) if audio is not None else None,
            width=(video.codec_context.width or None) if video is not None else None,
            height=(video.codec_context.height or None) if video is not None else None,
        )

    def _duration(self, f: _File) -> float:
        """The longest track, like ffprobe (a B-frame stream's first pts sits a frame or two after its audio,
        and summing that gap per file would drift). Counted while muxing: reading every finished file back
        to measure it cost a tenth of the recorder's CPU (benchmarks/REPORT.md §1)."""
        spans = [f.end_pts[kind] - first for kind, first in f.first_pts.items()]
        return max(spans, default=0) / TS_HZ

    def _error_file(self, start: float, end: float, exc: BaseException) -> PackagedFile:
        log.warning("%s %s: file failed: %s", self.spec.recording_id, self.fmt, exc)
        return PackagedFile(
            recording_id=self.spec.recording_id,
            format=self.fmt,
            path=None,
            start_wallclock=start,
            end_wallclock=end,
            duration=0.0,
            size=0,
            video_codec=None,
            audio_codec=None,
            width=None,
            height=None,
            error=f"{type(exc).__name__}: {exc}",
        )

    def _fail(self, exc: BaseException, wall: float) -> None:
        f = self.file
        self.file = None
        start = f.start_wall if f is not None else wall
        if f is not None:
            try:
                f.container.close()
            except Exception:  # the file is being thrown away anyway
                log.debug("closing a failed file", exc_info=True)
            f.tmp.unlink(missing_ok=True)
        # Resume at the next start point after this one.
        self.start = wall + EPS
        self.emit(self._error_file(start, wall, exc))
