"""Read the ingest's own FLV record of a push while nginx-rtmp is still writing it.

Why: nginx-rtmp keeps no GOP cache, so a recorder that joins a live stream over RTMP gets its first usable
packet at the *second* keyframe, one GOP after the push began, and the first GOP is never recorded. nginx-rtmp
can also write every push to disk itself (``record all``) from its very first packet. When the recorder runs
on the ingest host, it follows that file as it grows instead of pulling: the spool starts at the push's first
keyframe, milliseconds after the push starts.

The file ends when nginx closes it: with ``record_lock on`` nginx holds a POSIX write lock on the file while it
records, so "no more bytes and no lock" is the end of the push. A writer that dies (nginx killed) drops its
lock too. The bytes already read are released with ``FALLOC_FL_PUNCH_HOLE`` where the filesystem allows it, so
a push that lasts days does not keep days of FLV on disk.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import glob
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from workers.engine.errors import StallError

log = logging.getLogger(__name__)

#: How long the recorder waits for nginx to create the record file before it pulls over RTMP instead.
LOCATE_TIMEOUT = 1.0
#: Sleep between reads that found no new bytes.
POLL_SECONDS = 0.04
#: A read returns less than the demuxer asked for only once this long has passed since the last one.
BATCH_SECONDS = 0.1
#: Bytes read between two hole punches.
PUNCH_EVERY = 16 * 1024 * 1024
#: Record files nobody followed (the recorder pulled over RTMP, or died) are deleted this long after their end.
ORPHAN_SECONDS = 3600.0

_FALLOC_FL_KEEP_SIZE = 0x01
_FALLOC_FL_PUNCH_HOLE = 0x02
_UNIQUE_SUFFIX = re.compile(r"-(\d+)\.flv$")


@dataclass(frozen=True)
class IngestRecord:
    """Where the ingest records this push: nginx-rtmp's ``record_path`` and the stream name.

    ``not_before`` is the wallclock of the publish hook; nginx opens the file (``record_unique on`` names it
    ``<name>-<unix seconds>.flv``) right after the hook answers.
    """

    record_dir: Path
    stream_name: str
    not_before: float


def writer_active(fd: int) -> bool:
    """True while another process (nginx) holds its write lock on the file."""
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EAGAIN):
            return True
        raise
    fcntl.lockf(fd, fcntl.LOCK_UN)
    return False


def _file_locked(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        return writer_active(fd)
    finally:
        os.close(fd)


def locate_record(
    record: IngestRecord, *, timeout: float = LOCATE_TIMEOUT, stop: threading.Event | None = None
) -> Path | None:
    """The file nginx records this push into, waiting up to timeout for nginx to create it.

    Candidates are ``<name>-<T>.flv`` with T from one second before the hook to a few seconds after it; the
    newest such file that nginx still writes wins (an older push of the same stream is closed before nginx
    accepts the next one).
    """
    pattern = str(record.record_dir / f"{glob.escape(quote(record.stream_name, safe='-_.~'))}-*.flv")
    low, high = int(record.not_before) - 1, int(record.not_before) + 5
    deadline = time.monotonic() + timeout
    while True:
        candidates: list[tuple[int, Path]] = []
        for name in glob.glob(pattern):
            m = _UNIQUE_SUFFIX.search(name)
            if m and low <= int(m.group(1)) <= high:
                candidates.append((int(m.group(1)), Path(name)))
        for _, path in sorted(candidates, reverse=True):
            if _file_locked(path):
                return path
        if time.monotonic() >= deadline or (stop is not None and stop.is_set()):
            return None
        time.sleep(POLL_SECONDS)


def sweep_orphans(record_dir: Path, *, older_than: float = ORPHAN_SECONDS) -> int:
    """Delete record files no writer holds any more and nobody touched for older_than seconds."""
    removed = 0
    cutoff = time.time() - older_than
    for path in Path(record_dir).glob("*.flv"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff and not _file_locked(path):
                path.unlink()
                removed += 1
    return removed


class _Fallocate:
    """libc ``fallocate`` through ctypes (Python has no binding for hole punching)."""

    def __init__(self) -> None:
        self.func = None
        name = ctypes.util.find_library("c")
        if name:
            libc = ctypes.CDLL(name, use_errno=True)
            func = getattr(libc, "fallocate64", None) or getattr(libc, "fallocate", None)
            if func is not None:
                func.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
                func.restype = ctypes.c_int
                self.func = func

    def punch(self, fd: int, length: int) -> bool:
        if self.func is None or length <= 0:
            return False
        return self.func(fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE, 0, length) == 0


_fallocate = _Fallocate()


class FollowReader:
    """A read-only, non-seekable file object over a file another process is still appending to.

    ``read`` blocks (polling) until bytes arrive, and returns ``b""`` (end of file) only once the writer has
    released its lock and every byte it wrote was read, or after ``stop()``. No byte for stall_timeout raises
    StallError. PyAV reads it as a pipe: ``av.open(FollowReader(path), format="flv")``.
    """

    def __init__(
        self,
        path: Path,
        *,
        stall_timeout: float = 60.0,
        poll_seconds: float = POLL_SECONDS,
        batch_seconds: float = BATCH_SECONDS,
    ) -> None:
        self.path = Path(path)
        self.batch_seconds = batch_seconds
        self.stall_timeout = stall_timeout
        self.poll_seconds = poll_seconds
        try:
            self._fd = os.open(self.path, os.O_RDWR)  # write access only to punch holes in what was read
            self._can_punch = True
        except PermissionError:
            self._fd = os.open(self.path, os.O_RDONLY)
            self._can_punch = False
        self._stop = threading.Event()
        self.offset = 0
        self._punched = 0
        self.finished = False
        self._last_data = time.monotonic()

    def stop(self) -> None:
        self._stop.set()

    def read(self, size: int = -1) -> bytes:
        size = size if size and size > 0 else 1 << 16
        while True:
            available = os.fstat(self._fd).st_size - self.offset
            # Hand the demuxer full buffers where it can wait for them: nginx appends one frame at a time, and
            # a read per frame costs a Python call (and the GIL) per frame; BATCH_SECONDS caps the delay.
            if available >= size or (available > 0 and time.monotonic() - self._last_data >= self.batch_seconds):
                data = os.pread(self._fd, size, self.offset)
                if data:
                    self._advance(len(data))
                    return data
            if self._stop.is_set():
                return b""
            if available > 0:
                self._stop.wait(self.poll_seconds)
                continue
            if not writer_active(self._fd):
                # The writer closed the file (or died): what it wrote before is all there is.
                data = os.pread(self._fd, size, self.offset)
                if data:
                    self._advance(len(data))
                    return data
                self.finished = True
                return b""
            if time.monotonic() - self._last_data > self.stall_timeout:
                raise StallError(f"no data in {self.path} for {self.stall_timeout:.0f} s")
            self._stop.wait(self.poll_seconds)

    def _advance(self, n: int) -> None:
        self.offset += n
        self._last_data = time.monotonic()
        if self._can_punch and self.offset - self._punched >= PUNCH_EVERY:
            keep = self.offset - self.offset % 4096
            if _fallocate.punch(self._fd, keep):
                self._punched = keep
            else:
                self._can_punch = False  # the filesystem cannot: the file is deleted at the end instead

    def close(self) -> None:
        """Close; a file read to its real end is deleted (the spool holds everything it had)."""
        with contextlib.suppress(OSError):
            os.close(self._fd)
        if self.finished:
            with contextlib.suppress(OSError):
                self.path.unlink()
