"""Pulling a live stream (or a local file) with PyAV."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import av

from workers.engine.errors import SourceError, StallError
from workers.engine.follow import FollowReader, IngestRecord, locate_record

log = logging.getLogger(__name__)

# Short probe: the FLV/RTMP demuxer learns the codecs from the sequence headers
# in the first few packets, so a long analysis only delays the first chunk.
# ``fpsprobesize=0`` stops find_stream_info from waiting for 20 frames to guess
# a frame rate we measure ourselves. Deliberately NOT ``fflags=nobuffer``: it
# makes libavformat drop the packets read while probing, i.e. the first keyframe.
PROBE_OPTIONS: dict[str, str] = {
    "probesize": "262144",
    "analyzeduration": "500000",
    "fpsprobesize": "0",
}
OPEN_RETRY_DELAY = 0.1
#: A late follower jumps to the last keyframe this long before the media time it needs (the push start it is
#: anchored on is the publish hook's time, a few milliseconds before nginx's first tag).
SKIP_MARGIN_MS = 1000
NETWORK_OPTIONS: dict[str, str] = {
    # rtmp/tcp/http: let the socket give up on its own too (microseconds).
    "rw_timeout": "{stall_us}",
    "tcp_nodelay": "1",
}


def is_local(url: str) -> bool:
    return "://" not in url or url.startswith("file:")


@dataclass
class SourcePacket:
    """One demuxed packet with what the spool needs to know about it."""

    kind: str  # "video" or "audio"
    packet: av.Packet
    keyframe: bool
    received: float  # time.time() when demuxed


class Source:
    """Opens ``url`` and yields its audio and video packets.

    Only the first video and the first audio stream are kept (FLV's data
    stream and any extra tracks are ignored). ``native_rate`` paces a local
    file at its own speed, like ``ffmpeg -re``; by default a file is read as
    fast as possible.

    With ``ingest_record`` (the recorder runs on the ingest host), the source
    follows the ingest's own FLV record of the push (see ``follow.py``) and
    pulls ``url`` only if that file does not show up. Its packets are then
    placed at ``epoch`` (the push's start) plus their own timestamps, and the
    follower skips straight to the keyframe before ``need_from`` (the earliest
    wallclock any recording needs; None: from the push's first packet).
    """

    def __init__(
        self,
        url: str,
        *,
        open_timeout: float = 10.0,
        stall_timeout: float = 60.0,
        native_rate: bool = False,
        options: dict[str, str] | None = None,
        ingest_record: IngestRecord | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        #: Times ``last_packet_monotonic`` (what stall detection compares with); tests inject one.
        self.clock = clock
        self.ingest_record = ingest_record
        self.follower: FollowReader | None = None
        self.open_timeout = open_timeout
        self.stall_timeout = stall_timeout
        self.native_rate = native_rate
        self.live = not is_local(url) or native_rate
        self.extra_options = options or {}
        self.container: Any = None
        self.video: Any = None
        self.audio: Any = None
        self._stop = threading.Event()
        self.last_packet_monotonic = time.monotonic()
        self.need_from: float | None = None
        #: The wallclock of media time 0, when the source knows it (a followed record file).
        self.epoch: float | None = None

    def open(self) -> None:
        if self.ingest_record is not None and self._open_ingest_record():
            return
        options = dict(PROBE_OPTIONS)
        if not is_local(self.url):
            for key, value in NETWORK_OPTIONS.items():
                options[key] = value.format(stall_us=int(self.stall_timeout * 1_000_000))
        options.update(self.extra_options)
        url = self.url[len("file:") :] if self.url.startswith("file:") else self.url
        # A live stream exists for players only once the ingest's publish hook has answered, and the
        # recorder job may start before that: retry "not found" and refused connections for a while.
        deadline = time.monotonic() + self.open_timeout
        while True:
            try:
                self.container = av.open(url, options=options, timeout=(self.open_timeout, self.stall_timeout))
                break
            except (av.FFmpegError, OSError) as exc:
                if is_local(self.url) or self._stop.is_set() or time.monotonic() + OPEN_RETRY_DELAY > deadline:
                    raise SourceError(f"cannot open {self.url}: {exc}") from exc
                time.sleep(OPEN_RETRY_DELAY)
        self._pick_streams()

    def _open_ingest_record(self) -> bool:
        """Follow the ingest's record file of this push; False if it is not there (pull instead)."""
        assert self.ingest_record is not None
        path = locate_record(self.ingest_record, stop=self._stop)
        if path is None:
            log.info("no ingest record of %s in %s: pulling", self.url, self.ingest_record.record_dir)
            return False
        epoch = self.ingest_record.not_before
        skip_to = None if self.need_from is None else max(0, int((self.need_from - epoch) * 1000) - SKIP_MARGIN_MS)
        follower = FollowReader(path, stall_timeout=self.stall_timeout, skip_to_ms=skip_to)
        try:
            self.container = av.open(follower, format="flv", options=dict(PROBE_OPTIONS))
        except (av.FFmpegError, OSError, StallError) as exc:
            follower.close()
            log.warning("cannot follow %s (%s): pulling %s", path, exc, self.url)
            return False
        self.follower = follower
        self.epoch = epoch
        self.url = f"file:{path}"
        self._pick_streams()
        return True

    def _pick_streams(self) -> None:
        self.video = next((s for s in self.container.streams.video), None)
        self.audio = next((s for s in self.container.streams.audio), None)
        if self.video is None and self.audio is None:
            self.close()
            raise SourceError(f"{self.url} has neither audio nor video")
        self.last_packet_monotonic = self.clock()

    def stop(self) -> None:
        """Ask ``packets()`` to return after the packet it is waiting for."""
        self._stop.set()
        if self.follower is not None:
            self.follower.stop()

    def packets(self) -> Iterator[SourcePacket]:
        """Yield packets until end of stream, a stall or ``stop()``.

        End of stream returns normally; a stall raises StallError, any other
        read failure SourceError (the recorder treats both as the end).
        """
        streams = [s for s in (self.video, self.audio) if s is not None]
        kinds = {s.index: s.type for s in streams}
        paced_from: tuple[float, float] | None = None
        try:
            for packet in self.container.demux(streams):
                if self._stop.is_set():
                    return
                self.last_packet_monotonic = self.clock()
                if packet.size == 0 or (packet.dts is None and packet.pts is None):
                    continue  # PyAV's end-of-stream flush packets carry nothing to keep
                kind = kinds[packet.stream.index]
                if self.native_rate and packet.dts is not None:
                    # Pacing follows real time whatever the injected clock: it imitates a live source.
                    now_mono = time.monotonic()
                    t = float(packet.dts * packet.time_base)
                    if paced_from is None:
                        paced_from = (now_mono, t)
                    ahead = (t - paced_from[1]) - (now_mono - paced_from[0])
                    if ahead > 0 and self._stop.wait(ahead):
                        return
                yield SourcePacket(
                    kind=kind,
                    packet=packet,
                    keyframe=bool(packet.is_keyframe) or kind == "audio",
                    received=time.time(),
                )
        except av.ExitError as exc:
            # PyAV's interrupt callback fired: no data within the read timeout.
            raise StallError(f"no data from {self.url} for {self.stall_timeout:.0f} s") from exc
        except (av.FFmpegError, OSError) as exc:
            if isinstance(exc, av.FFmpegError) and "timed out" in str(exc).lower():
                raise StallError(f"no data from {self.url} for {self.stall_timeout:.0f} s") from exc
            raise SourceError(f"reading {self.url} failed: {exc}") from exc

    def close(self) -> None:
        if self.container is not None:
            try:
                self.container.close()
            except Exception:  # closing a broken connection may fail; nothing to save
                log.debug("closing %s failed", self.url, exc_info=True)
            self.container = None
        if self.follower is not None:
            self.follower.close()
            self.follower = None
