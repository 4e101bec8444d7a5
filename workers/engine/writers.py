"""Per-format writers: the consecutive files of one format of one recording.

A writer sees the recording's packets in spool order (sorted by dts) and
decides where files start and end. The cut rule is the whole contract: a
file starts at a start point (a video keyframe, or any packet when the file
has no video) and the next file starts at the first start point at or after
``interval`` seconds; every packet between goes to exactly one file.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from workers.engine.errors import PackagingError
from workers.engine.hls import HlsPlaylistWriter
from workers.engine.media import ChunkData, ChunkPacket
from workers.engine.models import FORMAT_EXTENSIONS, TS_HZ, ChunkInfo, PackagedFile, RecordingSpec, codec_name
from workers.engine.spool import TS_MUX_OPTIONS

log = logging.getLogger(__name__)

TS_TIME_BASE = Fraction(1, TS_HZ)
MUXERS = {"flv": "flv", "mp4": "mp4", "aac": "adts", "mp3": "mp3"}
# LAME's quality/speed knob (``lame -q``; 0 slowest .. 9 fastest; its default is 3). The MP3 is the engine's one
# transcode and was half of the recorder's CPU (benchmarks/REPORT.md); -q 7 ("fast, ok quality" in LAME's
# docs) halves the encoder's time at the same bitrate.
MP3_ENCODER_OPTIONS = {"compression_level": "7"}
# faststart: moov before mdat so a browser plays before the download ends. The
# mov muxer switches to 64-bit chunk offsets by itself past 4 GiB.
MUX_OPTIONS: dict[str, dict[str, str]] = {"mp4": {"movflags": "+faststart"}}
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
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
        if self.finished or (self.audio_only and cp.kind != "audio"):
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
        except Exception as exc:  # noqa: BLE001 - one bad file must not kill the recording
            self._fail(exc, cp.wall)

    def finish(self) -> None:
        if not self.finished:
            self.finished = True
            if self.file is not None:
                self._close(end_wall=None)

    # --- files ---

    def _open(self, cp: ChunkPacket, chunk: ChunkData) -> None:
        kinds = ["audio"] if self.audio_only else ["video", "audio"]
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
        container: Any = av.open(str(tmp), "w", format=MUXERS[self.fmt], options=dict(MUX_OPTIONS.get(self.fmt, {})))
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


class Mp3Series(FileSeries):
    """MP3 files: the one transcode (AAC decoded, libmp3lame encoded).

    The decoder lives as long as the series so a cut does not drop the
    decoder's priming; each file gets its own encoder so it stands alone.
    """

    def __init__(self, spec: RecordingSpec, fmt: str, interval: float, start: float, emit: Emit) -> None:
        super().__init__(spec, fmt, interval, start, emit)
        self._decoder: Any = None
        self._decoder_codec: str | None = None

    def _add_streams(self, f: _File, templates: dict[str, Any]) -> None:
        tmpl = templates["audio"].codec_context
        if self._decoder is None or self._decoder_codec != tmpl.name:
            self._decoder = av.CodecContext.create(tmpl.name, "r")
            if tmpl.extradata:
                self._decoder.extradata = tmpl.extradata
            self._decoder_codec = tmpl.name
        rate = tmpl.sample_rate if tmpl.sample_rate in MP3_RATES else 48000
        layout = "mono" if (tmpl.channels or 2) == 1 else "stereo"
        st = f.container.add_stream("libmp3lame", rate=rate, layout=layout, options=dict(MP3_ENCODER_OPTIONS))
        st.codec_context.bit_rate = self.spec.mp3_bitrate
        f.out["audio"] = st
        f.extra["samples"] = 0
        f.extra["seconds"] = 0.0

    def _write(self, f: _File, cp: ChunkPacket) -> None:
        st = f.out["audio"]
        pkt = cp.packet
        pkt.time_base = TS_TIME_BASE
        pkt.dts = cp.dts
        pkt.pts = cp.pts
        try:
            frames = self._decoder.decode(pkt)
        except av.FFmpegError as exc:
            # A corrupt AAC frame is skipped, not worth the whole file.
            log.debug("mp3: skipping an undecodable packet: %s", exc)
            frames = []
        for frame in frames:
            frame.pts = f.extra["samples"]
            frame.time_base = Fraction(1, frame.sample_rate)
            f.extra["samples"] += frame.samples
            f.extra["seconds"] += frame.samples / frame.sample_rate
            f.container.mux(st.encode(frame))
        f.packets += 1
        f.end_wall = max(f.end_wall, cp.wall + cp.duration / TS_HZ)

    def _duration(self, f: _File) -> float:
        """The audio it was given (LAME adds no time: its priming and padding are marked as such)."""
        return float(f.extra["seconds"])

    def _close_container(self, f: _File) -> None:
        try:
            f.container.mux(f.out["audio"].encode(None))
        finally:
            f.container.close()


class HlsSeries:
    """One HLS playlist per recording; its segments are the spool chunks.

    A chunk wholly inside the recording is hard-linked (no copy); a chunk the
    recording starts or ends in, or one whose video an audio recording drops,
    is re-muxed keeping spool timestamps, so the playlist stays continuous.
    """

    fmt = "hls"

    def __init__(self, spec: RecordingSpec, start: float, emit: Emit) -> None:
        self.spec = spec
        self.start = start
        self.emit = emit
        self.finished = False
        self.started = False
        self.playlist: HlsPlaylistWriter | None = None
        self.first_wall: float | None = None
        self.last_wall: float = 0.0
        self.params: dict[str, Any] = {}
        self._mode = "skip"
        self._seg: _File | None = None
        self._seg_end = 0
        self._error: str | None = None
        self._drop_video = spec.record_type == "audio"

    def needs(self, info: ChunkInfo) -> bool:
        return not self.finished and (self.started or info.last_wallclock + MAX_LEAD >= self.start)

    def plan(self, info: ChunkInfo, end: float | None) -> bool:
        """Choose link or re-mux for this chunk; True if it needs the packets."""
        if not self.needs(info):
            self._mode = "skip"
            return False
        covers_start = self.started or (info.starts_with_keyframe and info.first_wallclock >= self.start - EPS)
        covers_end = end is None or info.last_wallclock < end - EPS
        drop_video = self._drop_video and info.has_video
        self._mode = "link" if covers_start and covers_end and not drop_video else "remux"
        return self._mode == "remux"

    def begin_chunk(self, info: ChunkInfo) -> None:
        if info.discontinuity and self.playlist is not None:
            self.playlist.mark_discontinuity()
        if self._mode == "link":
            try:
                self._link(info)
            except Exception as exc:  # noqa: BLE001
                self._fail(exc)

    def feed(self, cp: ChunkPacket, chunk: ChunkData) -> None:
        if self._mode != "remux" or self.finished:
            return
        if self._drop_video and cp.kind == "video":
            return
        try:
            if self._seg is None:
                use_video = chunk.info.has_video and not self._drop_video
                start_point = (cp.kind == "video" and cp.keyframe) if use_video else True
                if not (self.started or (start_point and cp.wall >= self.start - EPS)):
                    return
                self._open_segment(cp, chunk)
            assert self._seg is not None
            seg = self._seg
            out = seg.out.get(cp.kind)
            if out is None:
                return
            prev = seg.last_dts.get(cp.kind)
            dts = cp.dts if prev is None or cp.dts > prev else prev + 1
            seg.last_dts[cp.kind] = dts
            pkt = cp.packet
            pkt.stream = out
            pkt.time_base = TS_TIME_BASE
            pkt.dts = dts
            pkt.pts = max(cp.pts, dts)
            pkt.duration = cp.duration
            seg.container.mux(pkt)
            self._seg_end = max(self._seg_end, dts + cp.duration)
            self.last_wall = max(self.last_wall, cp.wall + cp.duration / TS_HZ)
        except Exception as exc:  # noqa: BLE001
            self._fail(exc)

    def end_chunk(self, info: ChunkInfo, *, ended: bool) -> None:
        """Close the re-muxed segment of this chunk (``ended``: the recording stopped inside it)."""
        self._close_segment(None if ended else info.end_dts_ts)

    def _close_segment(self, chunk_end: int | None) -> None:
        seg = self._seg
        self._seg = None
        if seg is None:
            return
        try:
            seg.container.close()
            end = self._seg_end if chunk_end is None else max(self._seg_end, chunk_end)
            assert self.playlist is not None
            name = self.playlist.segment_name()
            dst = self.playlist.path.parent / name
            os.replace(seg.tmp, dst)
            self.playlist.add_segment(name, round((end - seg.start_dts) / TS_HZ, 6))
        except Exception as exc:  # noqa: BLE001
            seg.tmp.unlink(missing_ok=True)
            self._fail(exc)

    def finish(self) -> None:
        if self.finished:
            return
        self.finished = True
        self._close_segment(None)
        if self.playlist is None or self.first_wall is None:
            if self._error:
                self.emit(self._packaged(None, error=self._error))
            return
        try:
            if self.spec.hls_endlist:
                self.playlist.finish()
            else:
                self.playlist.write()
            self.emit(self._packaged(self.playlist.path, error=self._error))
        except Exception as exc:  # noqa: BLE001
            self.emit(self._packaged(None, error=f"{type(exc).__name__}: {exc}"))

    # --- internals ---

    def _ensure_playlist(self, wall: float) -> HlsPlaylistWriter:
        if self.playlist is None:
            if self.spec.hls_append_to is not None and Path(self.spec.hls_append_to).exists():
                self.playlist = HlsPlaylistWriter.reopen(Path(self.spec.hls_append_to))
            else:
                name = self.spec.name_for("hls", wall, None)
                self.playlist = HlsPlaylistWriter(final_path(self.spec.output_dir, name, "m3u8"))
        if self.first_wall is None:
            self.first_wall = wall
        self.started = True
        return self.playlist

    def _link(self, info: ChunkInfo) -> None:
        playlist = self._ensure_playlist(info.first_wallclock)
        assert info.path is not None
        name = playlist.segment_name()
        dst = playlist.path.parent / name
        dst.unlink(missing_ok=True)  # only a stale half-written segment of ours can be there
        try:
            os.link(info.path, dst)
        except OSError:
            shutil.copyfile(info.path, dst)
        playlist.add_segment(name, info.duration)
        self.last_wall = max(self.last_wall, info.first_wallclock + info.duration)
        self._remember(info)

    def _open_segment(self, cp: ChunkPacket, chunk: ChunkData) -> None:
        playlist = self._ensure_playlist(cp.wall)
        kinds = ["audio"] if self._drop_video else ["video", "audio"]
        tmp = playlist.path.parent / f".{uuid.uuid4().hex}.ts.part"
        container: Any = av.open(str(tmp), "w", format="mpegts", options=dict(TS_MUX_OPTIONS))
        out = {k: container.add_stream_from_template(chunk.streams[k]) for k in kinds if k in chunk.streams}
        self._seg = _File(
            tmp=tmp, container=container, out=out, offset=0, start_dts=cp.dts, start_wall=cp.wall, end_wall=cp.wall
        )
        self._seg_end = cp.dts
        self._remember(chunk.info)

    def _remember(self, info: ChunkInfo) -> None:
        v, a = info.stream("video"), info.stream("audio")
        if v is not None and not self._drop_video:
            self.params.update(video_codec=v.codec, width=v.width, height=v.height)
        if a is not None:
            self.params["audio_codec"] = a.codec

    def _fail(self, exc: BaseException) -> None:
        log.warning("%s hls: segment failed: %s", self.spec.recording_id, exc)
        self._error = f"{type(exc).__name__}: {exc}"

    def _packaged(self, path: Path | None, error: str | None) -> PackagedFile:
        duration = self.playlist.duration if self.playlist is not None else 0.0
        return PackagedFile(
            recording_id=self.spec.recording_id,
            format="hls",
            path=path,
            start_wallclock=self.first_wall if self.first_wall is not None else self.start,
            end_wallclock=self.last_wall,
            duration=round(duration, 6),
            size=self.playlist.size() if self.playlist is not None and path is not None else 0,
            video_codec=self.params.get("video_codec"),
            audio_codec=self.params.get("audio_codec"),
            width=self.params.get("width"),
            height=self.params.get("height"),
            error=error,
        )
