"""MP3 files of a recording that drops or splits on muted audio (SPEC.md ``mute_audio``, ZEGO RecordMuteAudio).

Muting is only known from the decoded samples, so these files are transcoded here, on the packaging thread
(AAC decoded, encoded with libmp3lame), as every MP3 was before ``mp3_series`` moved the plain ones to a pool of
encoder processes. Only a recording with ``mute_skip`` or ``mute_split_after`` takes this path.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from typing import Any

import av
import numpy as np

from workers.engine.datatypes import TS_HZ, RecordingSpec
from workers.engine.file_series import TS_TIME_BASE, Emit, FileSeries, _File
from workers.engine.media import ChunkData, ChunkPacket
from workers.engine.mp3_transcode import MP3_ENCODER_OPTIONS, MP3_RATES

log = logging.getLogger(__name__)

#: Muted audio (SPEC.md ``mute_audio``): every sample below -60 dBFS, for at least a second.
MUTE_PEAK = 10 ** (-60 / 20)
MUTE_MIN_SECONDS = 1.0


def is_muted(frame: Any) -> bool:
    """Every sample of the decoded frame below -60 dBFS (full scale: 1.0 for float samples, the type's max else)."""
    data = frame.to_ndarray()
    if not data.size:
        return True
    peak = float(np.max(np.abs(data.astype(np.float64))))
    if data.dtype.kind in "iu":
        peak /= float(np.iinfo(data.dtype).max)
    return peak < MUTE_PEAK


class MutedMp3Series(FileSeries):
    """MP3 files: the one transcode (AAC decoded, libmp3lame encoded).

    The decoder lives as long as the series so a cut does not drop the
    decoder's priming; each file gets its own encoder so it stands alone.
    """

    def __init__(self, spec: RecordingSpec, fmt: str, interval: float, start: float, emit: Emit) -> None:
        super().__init__(spec, fmt, interval, start, emit)
        self._decoder: Any = None
        self._decoder_codec: str | None = None
        self._mute = spec.mute_skip or spec.mute_split_after > 0
        self._muted: list[Any] = []  # decoded frames of the muted stretch going on, not yet written or dropped
        self._muted_seconds = 0.0
        self._chunk: ChunkData | None = None

    def feed(self, cp: ChunkPacket, chunk: ChunkData) -> None:
        self._chunk = chunk  # a split opens the next file on this packet
        super().feed(cp, chunk)

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
        if self._mute:
            self._write_muting(f, cp, frames)
            return
        for frame in frames:
            self._encode(f, st, frame)
        f.packets += 1
        f.end_wall = max(f.end_wall, cp.wall + cp.duration / TS_HZ)

    def _encode(self, f: _File, st: Any, frame: Any) -> None:
        frame.pts = f.extra["samples"]
        frame.time_base = Fraction(1, frame.sample_rate)
        f.extra["samples"] += frame.samples
        f.extra["seconds"] += frame.samples / frame.sample_rate
        f.container.mux(st.encode(frame))

    def _write_muting(self, f: _File, cp: ChunkPacket, frames: list[Any]) -> None:
        """Muted frames wait; a loud one decides: a short stretch is written, a long one dropped (``mute_skip``),
        and one of ``mute_split_after`` seconds or more ends the file: the loud frame starts the next one."""
        for frame in frames:
            if is_muted(frame):
                self._muted.append(frame)
                self._muted_seconds += frame.samples / frame.sample_rate
                continue
            split_after = self.spec.mute_split_after
            if split_after > 0 and self._muted_seconds >= split_after and f.packets:
                self._muted, self._muted_seconds = [], 0.0
                self._close(end_wall=None)
                assert self._chunk is not None
                self._open(cp, self._chunk)
                assert self.file is not None
                f = self.file
            self._flush_muted(f)
            self._encode(f, f.out["audio"], frame)
            f.packets += 1
            f.end_wall = max(f.end_wall, cp.wall + cp.duration / TS_HZ)

    def _flush_muted(self, f: _File) -> None:
        keep = not self.spec.mute_skip or self._muted_seconds < MUTE_MIN_SECONDS
        for frame in self._muted if keep else ():
            self._encode(f, f.out["audio"], frame)
        self._muted, self._muted_seconds = [], 0.0

    def _duration(self, f: _File) -> float:
        """The audio it was given (LAME adds no time: its priming and padding are marked as such)."""
        return float(f.extra["seconds"])

    def _close_container(self, f: _File) -> None:
        if self._mute:
            self._flush_muted(f)
        try:
            f.container.mux(f.out["audio"].encode(None))
        finally:
            f.container.close()
