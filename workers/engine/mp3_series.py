"""MP3 files of one recording: the engine's one transcode, done away from the recorder (``mp3_transcode``).

The series cuts its files exactly as the other formats do (same packets, same names, same bounds), but writes
each one as a copy of its AAC packets into a temporary ADTS file; when the file is cut, the pool encodes that
to MP3 in another process and the file is announced once the encode is done. A user waits for an MP3 file the
time of its encode after the file's end (about 0.3 s of one core per minute of audio, more while the box is busy);
the other formats and the stream's spool never wait for it.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from workers.engine import mp3_transcode
from workers.engine.datatypes import PackagedFile, RecordingSpec
from workers.engine.file_series import Emit, FileSeries, final_path

log = logging.getLogger(__name__)


@dataclass
class _Encoding:
    """One MP3 file cut and handed to the pool."""

    future: Future[float]
    adts: Path
    mp3: Path
    start_wall: float
    end_wall: float
    first_seq: int


class Mp3Series(FileSeries):
    """MP3 files: AAC packets copied to ADTS by the packager, encoded by ``mp3_transcode``'s pool."""

    def __init__(self, spec: RecordingSpec, fmt: str, interval: float, start: float, emit: Emit) -> None:
        super().__init__(spec, fmt, interval, start, emit)
        self.muxer = "adts"
        self.encoding: list[_Encoding] = []

    def transcoding(self) -> bool:
        return bool(self.encoding)

    def oldest_seq(self) -> int | None:
        """The spool chunk the oldest file not announced yet starts in: kept until it is (crash safety)."""
        seqs = [e.first_seq for e in self.encoding if e.first_seq >= 0]
        if self.file is not None and self.file.first_seq >= 0:
            seqs.append(self.file.first_seq)
        return min(seqs, default=None)

    def _close(self, end_wall: float | None) -> None:
        f = self.file
        if f is None or not f.packets:
            super()._close(end_wall)
            return
        self.file = None
        end = f.end_wall if end_wall is None else max(end_wall, f.start_wall)
        mp3 = f.tmp.with_name(f.tmp.name.replace(".mp3.part", ".lame.mp3.part"))
        try:
            f.container.close()
            future = mp3_transcode.submit(str(f.tmp), str(mp3), self.spec.mp3_bitrate)
        except Exception as exc:  # noqa: BLE001 - one bad file must not kill the recording
            f.tmp.unlink(missing_ok=True)
            self.emit(self._error_file(f.start_wall, end, exc))
            return
        self.encoding.append(_Encoding(future, f.tmp, mp3, f.start_wall, end, f.first_seq))

    def poll(self, *, wait: bool = False) -> None:
        """Announce the files whose encode is done, in their order (all of them, waiting, when ``wait``)."""
        while self.encoding and (wait or self.encoding[0].future.done()):
            e = self.encoding.pop(0)
            try:
                seconds = e.future.result()
                name = self.spec.name_for(self.fmt, e.start_wall, e.end_wall)
                path = final_path(self.spec.output_dir, name, "mp3")
                os.replace(e.mp3, path)
            except Exception as exc:  # noqa: BLE001
                e.mp3.unlink(missing_ok=True)
                self.emit(self._error_file(e.start_wall, e.end_wall, exc))
                continue
            finally:
                e.adts.unlink(missing_ok=True)
            self.emit(
                PackagedFile(
                    recording_id=self.spec.recording_id,
                    format=self.fmt,
                    path=path,
                    start_wallclock=e.start_wall,
                    end_wallclock=e.end_wall,
                    duration=round(seconds, 6),
                    size=path.stat().st_size,
                    video_codec=None,
                    audio_codec="mp3",
                    width=None,
                    height=None,
                )
            )
