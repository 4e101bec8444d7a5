"""The HLS playlist of one recording, whose segments are the spool chunks (linked or re-muxed)."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

import av

from workers.engine.datatypes import TS_HZ, ChunkInfo, PackagedFile, RecordingSpec
from workers.engine.file_series import EPS, MAX_LEAD, TS_TIME_BASE, Emit, _File, final_path
from workers.engine.hls import HlsPlaylistWriter
from workers.engine.media import ChunkData, ChunkPacket
from workers.engine.spool import TS_MUX_OPTIONS

log = logging.getLogger(__name__)


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
        self._drop_audio = spec.record_type == "noaudio"

    def needs(self, info: ChunkInfo) -> bool:
        return not self.finished and (self.started or info.last_wallclock + MAX_LEAD >= self.start)

    def plan(self, info: ChunkInfo, end: float | None) -> bool:
        """Choose link or re-mux for this chunk; True if it needs the packets."""
        if not self.needs(info):
            self._mode = "skip"
            return False
        covers_start = self.started or (info.starts_with_keyframe and info.first_wallclock >= self.start - EPS)
        covers_end = end is None or info.last_wallclock < end - EPS
        drop = (self._drop_video and info.has_video) or self._drop_audio
        self._mode = "link" if covers_start and covers_end and not drop else "remux"
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
        if (self._drop_video and cp.kind == "video") or (self._drop_audio and cp.kind == "audio"):
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
                self._name_by_end(self.playlist)
            else:
                self.playlist.write()  # a later push continues it; whoever closes it names it
            self.emit(self._packaged(self.playlist.path, error=self._error))
        except Exception as exc:  # noqa: BLE001
            self.emit(self._packaged(None, error=f"{type(exc).__name__}: {exc}"))

    # --- internals ---

    def _name_by_end(self, playlist: HlsPlaylistWriter) -> None:
        """The playlist was named when it started (its end unknown); now that it ended, its name says when."""
        assert self.first_wall is not None
        name = self.spec.name_for("hls", self.first_wall, max(self.last_wall, self.first_wall))
        if name != playlist.path.stem:
            playlist.rename(final_path(self.spec.output_dir, name, "m3u8"))

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
        kinds = ["audio"] if self._drop_video else ["video"] if self._drop_audio else ["video", "audio"]
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
