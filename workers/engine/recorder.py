"""StreamRecorder: one pull, one spool, any number of recordings.

Threads, and why there are three:

* the demux thread is the hot loop: read a packet, spool it, nothing else;
* the packaging thread owns the Packager and every listener call about
  chunks and files, so muxing or a slow listener never delays the spool;
* the caller of ``run()`` supervises: heartbeats, stall and stop detection.
  A blocked network read cannot be interrupted from Python, so ``stop()``
  does not wait for it: the spool is closed under its lock and the demux
  thread, when its read returns, finds it closed.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from workers.engine.datatypes import (
    ChunkInfo,
    PackagedFile,
    RecorderListener,
    RecordingSpec,
    SnapshotFile,
    StreamStats,
    codec_name,
)
from workers.engine.errors import EngineError, SourceError, SpoolError, StallError
from workers.engine.follow import IngestRecord
from workers.engine.packager import Packager
from workers.engine.source import Source, SourcePacket
from workers.engine.spool import Spool

log = logging.getLogger(__name__)

#: How long run() waits for the demux thread to notice stop() before leaving it behind.
STOP_GRACE = 2.0


class StreamRecorder:
    """Pull ``url`` once, spool it, and package the recordings added to it."""

    def __init__(
        self,
        url: str,
        spool_dir: Path,
        *,
        listener: RecorderListener,
        chunk_seconds: float = 2.0,
        stall_timeout: float = 60.0,
        heartbeat_seconds: float = 2.0,
        lookback_seconds: float = 0.0,
        open_timeout: float = 10.0,
        native_rate: bool = False,
        source_options: dict[str, str] | None = None,
        ingest_record: IngestRecord | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.listener = listener
        #: Seconds, monotonic: when heartbeats are due and how long the source has been silent (tests inject one).
        self.clock = clock
        self.heartbeat_seconds = heartbeat_seconds
        self.stall_timeout = stall_timeout
        self.source = Source(
            url,
            open_timeout=open_timeout,
            stall_timeout=stall_timeout,
            native_rate=native_rate,
            options=source_options,
            ingest_record=ingest_record,
            clock=clock,
        )
        self.spool = Spool.recover(
            Path(spool_dir),
            chunk_seconds=chunk_seconds,
            lookback_seconds=lookback_seconds,
            on_chunk_closed=self._chunk_closed,
        )
        self.packager = Packager(
            self.spool,
            on_file=self._on_file,
            on_finished=self._on_finished,
            on_error=self._on_error,
            on_snapshot=self._on_snapshot,
        )
        self._commands: queue.Queue[tuple[str, Any]] = queue.Queue()
        self._stop = threading.Event()
        self._stats = StreamStats()
        self._stats_lock = threading.Lock()
        self._last_key_wall: float | None = None
        self._video_packets = 0
        self._reader_error: BaseException | None = None
        self.lookback_seconds = lookback_seconds
        self._starts: list[float] = []

    # --- thread-safe control ---

    def add_recording(self, spec: RecordingSpec) -> None:
        self._starts.append(spec.start_wallclock if spec.start_wallclock is not None else time.time())
        self._commands.put(("add", spec))

    def need_from(self, now: float) -> float:
        """The earliest wallclock the spool must hold when the source opens: the start of the earliest
        recording added so far, or the look-back window; a resumed spool goes on after its last chunk."""
        chunks = self.spool.chunks()
        if chunks:
            return chunks[-1].last_wallclock
        return min([now - self.lookback_seconds, *self._starts])

    def stop_recording(self, recording_id: str, at_wallclock: float | None = None) -> None:
        self._commands.put(("stop", (recording_id, at_wallclock)))

    def stop(self) -> None:
        self._stop.set()
        self.source.stop()

    @property
    def follows_ingest_record(self) -> bool:
        """True when it reads the ingest's record file: it ends by itself once nginx closes the file, after the
        file's last byte. Stopping it at the push's end instead would cut the tail of a push it is behind on."""
        return self.source.follower is not None

    @property
    def stats(self) -> StreamStats:
        with self._stats_lock:
            return replace(self._stats)

    # --- run ---

    def run(self) -> StreamStats:
        """Record until end of stream, a stall or ``stop()``; then finish every recording.

        Raises SourceError if the source cannot be opened (recordings are
        finished, with no files) and SpoolError if the spool cannot be
        written; a source that breaks after opening just ends the stream.
        """
        packaging = threading.Thread(target=self._package_loop, name=f"package {self.url}", daemon=True)
        packaging.start()
        self.source.need_from = self.need_from(time.time())
        try:
            self.source.open()
        except SourceError as exc:
            self._safe("on_error", exc)
            self._commands.put(("eos", None))
            packaging.join()
            raise
        src = self.source
        self.spool.begin(src.video, src.audio, live=src.live, epoch=src.epoch)
        with self._stats_lock:
            if src.video is not None:
                cc = src.video.codec_context
                self._stats.video_codec = cc.name
                self._stats.width, self._stats.height = cc.width or None, cc.height or None
            if src.audio is not None:
                self._stats.audio_codec = codec_name(src.audio.codec_context)
        self._safe("on_started", self.stats)
        reader = threading.Thread(target=self._read_loop, name=f"demux {self.url}", daemon=True)
        reader.start()
        next_beat = self.clock() + self.heartbeat_seconds
        while reader.is_alive():
            reader.join(timeout=min(0.25, self.heartbeat_seconds))
            now = self.clock()
            if now >= next_beat:
                next_beat = now + self.heartbeat_seconds
                self._safe("on_heartbeat", self.stats)
            if self._stop.is_set():
                break
            if reader.is_alive() and now - src.last_packet_monotonic > self.stall_timeout:
                self._safe("on_error", StallError(f"no data from {self.url} for {self.stall_timeout:.0f} s"))
                src.stop()
                break
        reader.join(timeout=STOP_GRACE)
        try:
            self.spool.close()
        except EngineError as exc:
            self._safe("on_error", exc)
        self._commands.put(("eos", None))
        packaging.join()
        if isinstance(self._reader_error, SpoolError):
            raise self._reader_error
        return self.stats

    def _read_loop(self) -> None:
        try:
            for sp in self.source.packets():
                self.spool.write(sp)
                self._count(sp)
        except SourceError as exc:
            # The stream ended badly (stall, broken connection): still the end of the stream.
            self._safe("on_error", exc)
        except BaseException as exc:  # reported by run(); the thread must not die silently
            log.exception("demux loop of %s died", self.url)
            self._reader_error = exc
            self._safe("on_error", exc)
        finally:
            self.source.close()

    def _count(self, sp: SourcePacket) -> None:
        wall = self.spool.live_edge_wallclock
        with self._stats_lock:
            s = self._stats
            s.packets += 1
            s.bytes += sp.packet.size
            if wall is None:
                return
            if s.first_packet_wallclock is None:
                s.first_packet_wallclock = wall
            s.last_packet_wallclock = wall
            span = wall - s.first_packet_wallclock
            if span > 0:
                s.bitrate = round(s.bytes * 8 / span, 1)
            if sp.kind == "video":
                self._video_packets += 1
                if span > 0:
                    s.fps = round(self._video_packets / span, 3)
                if sp.keyframe:
                    if self._last_key_wall is not None and wall > self._last_key_wall:
                        gop = wall - self._last_key_wall
                        s.gop_seconds = round(gop if s.gop_seconds is None else 0.8 * s.gop_seconds + 0.2 * gop, 3)
                    self._last_key_wall = wall

    # --- packaging thread ---

    def _chunk_closed(self, info: ChunkInfo) -> None:
        self._commands.put(("chunk", info))

    def _package_loop(self) -> None:
        eos = False
        while not eos:
            eos = self._handle([self._commands.get(), *self._drain()])
            if eos:
                # Listeners may have queued commands while we worked (a highlight added
                # from on_chunk_closed): they still get served from the spool.
                while more := self._drain():
                    self._handle(more)
            try:
                if eos:
                    self.packager.finish_all()
                else:
                    self.packager.process_available()
            except Exception as exc:  # the packager must outlive any one bug
                log.exception("packaging failed")
                self._safe("on_error", exc)
                if eos:
                    for job in list(self.packager.jobs.values()):
                        self._on_finished(job.spec.recording_id)

    def _drain(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = []
        while True:
            try:
                out.append(self._commands.get_nowait())
            except queue.Empty:
                return out

    def _handle(self, commands: list[tuple[str, Any]]) -> bool:
        eos = False
        for name, arg in commands:
            try:
                if name == "add":
                    self.packager.add(arg)
                elif name == "stop":
                    self.packager.stop(*arg)
                elif name == "chunk":
                    self._safe("on_chunk_closed", arg)
                elif name == "eos":
                    eos = True
            except Exception as exc:
                log.exception("packaging command %s failed", name)
                self._safe("on_error", exc)
        return eos

    def _on_file(self, f: PackagedFile) -> None:
        self._safe("on_file", f)

    def _on_snapshot(self, snapshot: SnapshotFile) -> None:
        self._safe("on_snapshot", snapshot)

    def _on_finished(self, recording_id: str) -> None:
        self._safe("on_recording_finished", recording_id)

    def _on_error(self, exc: BaseException) -> None:
        self._safe("on_error", exc)

    def _safe(self, method: str, *args: Any) -> None:
        try:
            getattr(self.listener, method)(*args)
        except Exception:  # a listener bug must not stop a recording
            log.exception("listener %s raised", method)
