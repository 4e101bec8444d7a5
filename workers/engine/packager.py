"""Turning closed spool chunks into the deliverables of every recording.

Each recording keeps a cursor (the next chunk it needs). The packager always
serves the lowest cursor first and demuxes a chunk once for every recording
standing at it, so live recordings share the work and a highlight that starts
in the past catches up through the look-back chunks on its own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from workers.engine.datatypes import ChunkInfo, PackagedFile, RecordingSpec, SnapshotFile
from workers.engine.errors import PackagingError
from workers.engine.file_series import EPS, MAX_LEAD, FileSeries
from workers.engine.hls_series import HlsSeries
from workers.engine.media import ChunkData, read_chunk
from workers.engine.mp3_mute_series import MutedMp3Series
from workers.engine.mp3_series import Mp3Series
from workers.engine.snapshot import Snapshotter, default_snapshot_name
from workers.engine.spool import Spool

log = logging.getLogger(__name__)


class RecordingJob:
    """One RecordingSpec being packaged: its bounds, cursor and writers."""

    def __init__(
        self,
        spec: RecordingSpec,
        start: float,
        cursor: int,
        emit: Callable[[PackagedFile], None],
        emit_snapshot: Callable[[SnapshotFile], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
    ) -> None:
        self.spec = spec
        self.on_error = on_error or (lambda exc: log.warning("%s", exc))
        self.start = start
        self.end = spec.end_wallclock
        self.cursor = cursor
        self.done = False
        self.series: list[FileSeries] = []
        self.hls: HlsSeries | None = None
        self.snapshots: Snapshotter | None = None
        if spec.snapshot_interval is not None:
            self.snapshots = Snapshotter(
                spec.recording_id,
                interval=spec.snapshot_interval,
                start=start,
                output_dir=spec.output_dir,
                emit=emit_snapshot or (lambda _shot: None),
                name_for=spec.snapshot_name_for or default_snapshot_name,
            )
        for fmt, interval in spec.formats.items():
            if fmt == "hls":
                self.hls = HlsSeries(spec, start, emit)
            elif fmt == "mp3":
                mp3 = MutedMp3Series if spec.mute_skip or spec.mute_split_after > 0 else Mp3Series
                self.series.append(mp3(spec, fmt, interval, start, emit))
            else:
                self.series.append(FileSeries(spec, fmt, interval, start, emit))

    def needs_packets(self, info: ChunkInfo) -> bool:
        """Call once per chunk before ``process``: it also plans the HLS segment."""
        if self.end is not None and info.first_wallclock - MAX_LEAD >= self.end:
            return False
        need = any(w.needs(info) for w in self.series)
        if self.hls is not None:
            need = self.hls.plan(info, self.end) or need
        return need

    def process(self, info: ChunkInfo, data: ChunkData | None) -> None:
        if self.end is not None and info.first_wallclock - MAX_LEAD >= self.end:
            self.finish()  # the whole chunk is past the end (per-packet checks decide near it)
            return
        if self.snapshots is not None and (self.end is None or info.first_wallclock < self.end):
            try:
                self.snapshots.feed(info)
            except (PackagingError, OSError) as exc:  # a snapshot lost, never the files
                self.on_error(exc)
        for w in self.series:
            w.begin_chunk(info)
        if self.hls is not None:
            self.hls.begin_chunk(info)
        if data is not None:
            for cp in data.packets:
                if self.end is not None and cp.wall >= self.end - EPS:
                    if self.hls is not None:
                        self.hls.end_chunk(info, ended=True)
                    self.finish()
                    return
                for w in self.series:
                    w.feed(cp, data)
                if self.hls is not None:
                    self.hls.feed(cp, data)
        if self.hls is not None:
            self.hls.end_chunk(info, ended=False)

    def oldest_needed_seq(self) -> int:
        """The oldest chunk this recording may still need: its cursor, or the start of a file it is writing.

        Keeping the chunks of unfinished files means a killed worker's successor can package them again.
        """
        open_starts = [seq for w in self.series if (seq := w.oldest_seq()) is not None]
        return min([self.cursor, *open_starts])

    def transcoding(self) -> bool:
        """Files of it are still being encoded away from the packager (MP3): the recording is not finished."""
        return any(w.transcoding() for w in self.series)

    def poll(self, *, wait: bool = False) -> None:
        for w in self.series:
            w.poll(wait=wait)

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        for w in self.series:
            w.finish()
        if self.hls is not None:
            self.hls.finish()


class Packager:
    """Runs the recordings over one spool. Not thread-safe: one thread drives it."""

    def __init__(
        self,
        spool: Spool,
        *,
        on_file: Callable[[PackagedFile], None],
        on_finished: Callable[[str], None],
        on_error: Callable[[BaseException], None],
        on_snapshot: Callable[[SnapshotFile], None] | None = None,
    ) -> None:
        self.spool = spool
        self.on_file = on_file
        self.on_snapshot = on_snapshot
        self.on_finished = on_finished
        self.on_error = on_error
        self.jobs: dict[str, RecordingJob] = {}
        self.finished_ids: set[str] = set()

    def add(self, spec: RecordingSpec) -> None:
        if spec.recording_id in self.jobs or spec.recording_id in self.finished_ids:
            log.warning("recording %s is already known; ignored", spec.recording_id)
            return
        start = spec.start_wallclock
        if start is None:
            # "From now": the next keyframe after what is already spooled.
            edge = self.spool.live_edge_wallclock
            start = edge if edge is not None else float("-inf")
            cursor = self.spool.open_seq if edge is None else self.spool.first_seq_for(edge)
        else:
            cursor = self.spool.first_seq_for(start)
        self.jobs[spec.recording_id] = RecordingJob(
            spec, start, cursor, self.on_file, emit_snapshot=self.on_snapshot, on_error=self.on_error
        )

    def stop(self, recording_id: str, at_wallclock: float | None = None) -> None:
        job = self.jobs.get(recording_id)
        if job is None:
            return
        if at_wallclock is None:
            edge = self.spool.live_edge_wallclock
            # Everything spooled so far is in; a hair past the last packet.
            at_wallclock = (edge + 1e-3) if edge is not None else float("-inf")
        job.end = at_wallclock if job.end is None else min(job.end, at_wallclock)
        if job.end <= job.start and job.cursor > self.spool.last_closed_seq and not self._has_output(job):
            self._finish(job)

    def process_available(self) -> None:
        """Package every closed chunk some recording still needs."""
        while True:
            last = self.spool.last_closed_seq
            pending = [j for j in self.jobs.values() if not j.done and j.cursor <= last]
            if not pending:
                break
            seq = min(j.cursor for j in pending)
            group = [j for j in pending if j.cursor == seq]
            info = self.spool.chunk(seq)
            if info is not None:
                self._process_chunk(info, group)
            for job in group:
                job.cursor = seq + 1
        for job in self.jobs.values():
            job.poll()
        for job in [j for j in self.jobs.values() if j.done and not j.transcoding()]:
            self._finish(job)
        self.spool.release(self.keep_from())

    def finish_all(self) -> None:
        """End of stream: package what is left and close every recording."""
        self.process_available()
        for job in list(self.jobs.values()):
            self._finish(job)
        self.spool.release(self.keep_from())

    def keep_from(self) -> int:
        cursors = [j.oldest_needed_seq() for j in self.jobs.values() if not j.done or j.transcoding()]
        return min(cursors) if cursors else self.spool.last_closed_seq + 1

    def _process_chunk(self, info: ChunkInfo, group: list[RecordingJob]) -> None:
        needs = [job.needs_packets(info) for job in group]
        data: ChunkData | None = None
        if any(needs):
            try:
                data = read_chunk(info)
            except PackagingError as exc:
                self.on_error(exc)
        try:
            for job in group:
                try:
                    job.process(info, data)
                except Exception as exc:  # writers report their own failures; this is a bug guard
                    log.exception("recording %s failed on chunk %s", job.spec.recording_id, info.seq)
                    self.on_error(exc)
        finally:
            if data is not None:
                data.close()

    def _has_output(self, job: RecordingJob) -> bool:
        return any(w.file is not None for w in job.series) or (job.hls is not None and job.hls.started)

    def _finish(self, job: RecordingJob) -> None:
        job.finish()
        job.poll(wait=True)  # a recording is finished once its last MP3 file is encoded and announced
        if self.jobs.pop(job.spec.recording_id, None) is not None:
            self.finished_ids.add(job.spec.recording_id)
            self.on_finished(job.spec.recording_id)
