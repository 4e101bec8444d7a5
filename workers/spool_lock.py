"""Which recorder owns a session's spool, from the kernel's point of view (no Django, no media).

A recorder holds an exclusive ``flock`` on ``<spool>/recorder.lock`` while it runs: the lock dies with its
process, so the kernel knows a recorder is dead the moment it is killed, long before its heartbeat goes stale
in the database. :func:`spool_fence` takes the lock; :func:`spool_held` reads ``/proc/locks`` to tell whether
anyone holds it without taking it (taking it, even for an instant, could turn a starting recorder away).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

LOCK_NAME = "recorder.lock"
PROC_LOCKS = Path("/proc/locks")


@contextlib.contextmanager
def spool_fence(spool_dir: Path) -> Iterator[bool]:
    """Hold the session's spool for this recorder alone: True if no live recorder on this host holds it.

    The watchdog judges by heartbeats in the database, which a loaded machine can delay; the kernel knows
    better. The lock dies with its process, so a killed recorder's successor gets it at once, while a recorder
    that is merely slow keeps it and a second one never writes into the same spool.
    """
    spool_dir.mkdir(parents=True, exist_ok=True)
    with open(spool_dir / LOCK_NAME, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _flock_inodes() -> set[int] | None:
    """Inodes with a FLOCK lock held, from ``/proc/locks`` (``1: FLOCK ADVISORY WRITE <pid> <maj:min:ino> ...``)."""
    try:
        text = PROC_LOCKS.read_text()
    except OSError:
        return None
    inodes = set()
    for line in text.splitlines():
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[2] != "->":
            with contextlib.suppress(ValueError):
                inodes.add(int(fields[5].rsplit(":", 1)[1]))
    return inodes


@functools.lru_cache(maxsize=8)
def _probe_works(folder: str) -> bool:
    """``/proc/locks`` names inodes as the lock's filesystem sees them, which an overlay may not show to
    ``stat``: check once per folder that a lock we take is seen, else do not trust the probe there."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".lockprobe.") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            inodes = _flock_inodes()
            return inodes is not None and os.fstat(handle.fileno()).st_ino in inodes
    except OSError:
        return False


def spool_held(spool_dir: Path) -> bool | None:
    """True if a recorder on this host holds the spool, False if none does (the one that ran here is dead),
    None if this host cannot tell (the spool is not here: the recorder runs on another host; no /proc/locks)."""
    lock = spool_dir / LOCK_NAME
    try:
        inode = lock.stat().st_ino
    except OSError:
        return None
    if not _probe_works(str(spool_dir.parent)):
        return None
    inodes = _flock_inodes()
    return None if inodes is None else inode in inodes
