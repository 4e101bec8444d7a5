"""Read the ingest's own FLV record of a push while nginx-rtmp is still writing it.

Why: nginx-rtmp keeps no GOP cache, so a recorder that joins a live stream over RTMP gets its first usable
packet at the *second* keyframe, one GOP after the push began, and the first GOP is never recorded. nginx-rtmp
can also write every push to disk itself (``record all``) from its very first packet. When the recorder runs
on the ingest host, it follows that file as it grows instead of pulling: the spool starts at the push's first
keyframe, milliseconds after the push starts.

The file ends when nginx closes it: with ``record_lock on`` nginx holds a POSIX write lock on the file while it
records, so "no more bytes and no lock" is the end of the push. A writer that dies (nginx killed) drops its
lock too. The bytes already read are released with ``FALLOC_FL_PUNCH_HOLE`` where the filesystem allows it
(the head of the file, its FLV header and codec headers, stays), so a push that lasts days does not keep days
of FLV on disk; a record file nobody follows is trimmed the same way by the ingest (``trim_record``).

A recorder that starts late (a highlight asked mid-push, a window opening into a push nothing recorded, a
recorder re-queued after a crash) does not read the backlog: it reads the head, then skips by tag headers
(``flv.start_for``) to the last keyframe before the media time it needs. A follower holds a shared ``flock``
on the file; the trimmer takes it exclusively, so it never punches what a follower is about to read.
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

from workers.engine import flv
from workers.engine.errors import StallError

log = logging.getLogger(__name__)

#: How long the recorder waits for nginx to create the record file before it pulls over RTMP instead.
LOCATE_TIMEOUT = 1.0
#: Sleep between reads that found no new bytes.
POLL_SECONDS = 0.04
#: A read returns less than the demuxer asked for only once this long has passed since the last one.
BATCH_SECONDS = 0.1
#: Bytes read between two hole punches.
PUNCH_EVERY = 1024 * 1024
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

    def punch(self, fd: int, offset: int, length: int) -> bool:
        if self.func is None or length <= 0:
            return False
        return self.func(fd, _FALLOC_FL_PUNCH_HOLE | _FALLOC_FL_KEEP_SIZE, offset, length) == 0


_fallocate = _Fallocate()


def trim_record(path: Path, *, keep_seconds: float) -> int:
    """Punch out all but the head and the last keep_seconds of media of a record file no reader follows.

    Returns the bytes released (0 when a follower holds the file, or nothing is old enough). What is left is
    a valid FLV once the hole is skipped: the head, then whole tags from a keyframe on (``flv.start_for``).
    """
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return 0
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return 0  # a recorder follows it and punches what it read itself
        size = os.fstat(fd).st_size
        head = flv.head_end(fd, size)
        if head is None:
            return 0
        last = _last_timestamp(fd, size)
        if last is None:
            return 0
        start = flv.start_for(fd, head, size, max(0, last - int(keep_seconds * 1000)))
        if start is None:
            return 0
        # Exactly from the head's end to the kept tag: the filesystem frees the whole blocks and zeroes the
        # partial ones at both ends, so no stale tag is left between the head and what is kept.
        before = os.fstat(fd).st_blocks
        if start.offset <= head or not _fallocate.punch(fd, head, start.offset - head):
            return 0
        return max(0, before - os.fstat(fd).st_blocks) * 512
    finally:
        os.close(fd)  # drops the flock


def _last_timestamp(fd: int, size: int, *, window: int = 1 << 18) -> int | None:
    """The media time (ms) near the end of the file: the last whole tag within the last 256 KiB."""
    tag = flv.resync(fd, max(flv.FILE_HEADER_SIZE, size - window), size)
    last = None
    if tag is not None:
        for t in flv.iter_tags(fd, tag.offset, size):
            last = t.timestamp
    return last


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
        skip_to_ms: int | None = None,
    ) -> None:
        """skip_to_ms: read the head, then only from the last keyframe at or before this media time (ms)."""
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
        fcntl.flock(self._fd, fcntl.LOCK_SH)  # waits out a trim pass in progress; see trim_record
        self._stop = threading.Event()
        self.offset = 0
        self._punched = 0
        self.finished = False
        self._last_data = time.monotonic()
        self.skip_to_ms = skip_to_ms
        #: Bytes from the file's start to hand over before jumping (the head), then where the jump goes.
        self._head: bytes | None = None
        self._jump_to: int | None = None
        self.skipped = 0

    def _plan_skip(self) -> bool:
        """Once the head is written: serve it, then the rest from the tag a late reader needs. False: not yet."""
        size = os.fstat(self._fd).st_size
        end = flv.head_end(self._fd, size)
        if end is None:
            return False
        start = flv.start_for(self._fd, end, size, self.skip_to_ms)
        if start is None:
            return False
        self._head = os.pread(self._fd, end, 0)
        self._jump_to = start.offset
        self._punched = end
        self.skipped = start.offset - end
        if self.skipped:
            log.info("%s: skipped %d bytes to media time %d ms", self.path, self.skipped, start.timestamp)
        return True

    def stop(self) -> None:
        self._stop.set()

    def read(self, size: int = -1) -> bytes:
        size = size if size and size > 0 else 1 << 16
        while self.skip_to_ms is not None and self._head is None:
            if self._plan_skip():
                break
            if self._stop.is_set() or not writer_active(self._fd):
                self.skip_to_ms = None  # a closed or broken file: read it as it is
                break
            if time.monotonic() - self._last_data > self.stall_timeout:
                raise StallError(f"no FLV head in {self.path} for {self.stall_timeout:.0f} s")
            self._stop.wait(self.poll_seconds)
        if self._head is not None and self.offset < len(self._head):
            data = self._head[self.offset : self.offset + size]
            self.offset += len(data)
            if self.offset == len(self._head):
                assert self._jump_to is not None
                self.offset = self._jump_to
            return data
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
            if self._punched == 0:  # the head stays: another reader (after a crash) opens the file with it
                head = flv.head_end(self._fd, self.offset)
                if head is None and os.pread(self._fd, 3, 0) == b"FLV":
                    return  # the head is not whole yet
                self._punched = head or 0
            # From the head's end exactly (partial blocks are zeroed, not left with stale tags) to what was read.
            if _fallocate.punch(self._fd, self._punched, self.offset - self._punched):
                self._punched = self.offset
            else:
                self._can_punch = False  # the filesystem cannot: the file is deleted at the end instead

    def close(self) -> None:
        """Close; a file read to its real end is deleted (the spool holds everything it had)."""
        with contextlib.suppress(OSError):
            os.close(self._fd)
        if self.finished:
            with contextlib.suppress(OSError):
                self.path.unlink()
