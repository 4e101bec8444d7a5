"""Markers that tell the record janitor a recording waits for a push's record file (no Django, no media).

The janitor (``deploy.record_janitor``) trims a record file nobody follows to its head and its last seconds.
That is right for a push nothing records, but a push whose recorder is queued and not started yet (every
worker full, or the box starved) would lose its start. So whoever knows a recorder is coming (the publish
hook, a worker that turned the job down for now) leaves ``<record_dir>/.waiting/<stream>-<unix seconds>``,
and the janitor leaves alone the record file nginx opened for that push (``<stream>-<T>.flv``, T within a few
seconds of the hook, as ``workers.engine.follow.locate_record`` finds it). The recorder removes the marker
when it is done with the file (while it runs it holds the file's flock, which keeps the janitor out anyway).
A marker nobody removed (a recorder that never came) expires with the record file's orphan age.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from pathlib import Path
from urllib.parse import quote

log = logging.getLogger(__name__)

WAITING_DIR = ".waiting"
#: nginx names the file after the hook answered: its unix seconds lie in [hook - 1, hook + 5].
BEFORE_HOOK = 1
AFTER_HOOK = 5
#: A marker this old is dropped (the recorder never came; ``follow.ORPHAN_SECONDS`` deletes the file itself).
EXPIRES_SECONDS = 3600.0
_STAMPED = re.compile(r"^(?P<name>.+)-(?P<t>\d+)(?:\.flv)?$")


def _file_name(stream_name: str) -> str:
    """The stream's part of a record file name, as ``locate_record`` matches it."""
    return quote(stream_name, safe="-_.~")


def _marker(record_dir: Path, stream_name: str, hook_time: float) -> Path:
    return Path(record_dir) / WAITING_DIR / f"{_file_name(stream_name)}-{int(hook_time)}"


def record_wait_mark(*, record_dir: Path, stream_name: str, hook_time: float) -> bool:
    """A recorder is coming for this push: keep its record file whole. False when this host cannot see the
    record folder (the ingest runs elsewhere; a worker on the ingest host marks it when it turns the job down)."""
    if not Path(record_dir).is_dir():
        return False
    marker = _marker(record_dir, stream_name, hook_time)
    try:
        marker.parent.mkdir(exist_ok=True)
        marker.touch()
    except OSError as exc:
        log.warning("cannot mark %s as awaited: %s", marker, exc)
        return False
    return True


def record_wait_clear(*, record_dir: Path, stream_name: str, hook_time: float) -> None:
    """The recorder is done with this push's record file: the janitor may trim it again."""
    with contextlib.suppress(OSError):
        _marker(record_dir, stream_name, hook_time).unlink()


def awaited_files(record_dir: Path, *, now: float | None = None) -> set[str]:
    """Names of the record files (``<stream>-<T>.flv``) some recording waits for; expired markers are removed."""
    folder = Path(record_dir) / WAITING_DIR
    now = time.time() if now is None else now
    awaited: set[str] = set()
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return awaited
    for entry in entries:
        m = _STAMPED.match(entry.name)
        if m is None:
            continue
        with contextlib.suppress(OSError):
            if now - entry.stat().st_mtime > EXPIRES_SECONDS:
                os.unlink(entry.path)
                continue
        hook = int(m.group("t"))
        awaited.update(f"{m.group('name')}-{t}.flv" for t in range(hook - BEFORE_HOOK, hook + AFTER_HOOK + 1))
    return awaited
