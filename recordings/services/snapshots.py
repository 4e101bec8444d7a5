"""Writes on snapshots (SPEC.md "Snapshots"). A snapshot is a ``RecordFile`` of format ``jpg``: it goes through
the files' verified upload, backup spool, retention and deletion unchanged; only its callback (200) differs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from recordings.choices import SNAPSHOT_FORMAT
from recordings.models import RecordFile, RecordTask
from recordings.services.files import PackagedResult, record_file_store


@dataclass(frozen=True)
class SnapshotResult:
    """A JPEG the media engine wrote (``workers.session_recorder.results.snapshot_result`` translates it)."""

    path: Path
    time: datetime
    size: int
    width: int
    height: int


def snapshot_store(*, task: RecordTask, result: SnapshotResult, name: str) -> RecordFile:
    """Record a snapshot and queue its upload; its 200 follows the verified upload, like a file's 100."""
    return record_file_store(
        task=task,
        result=PackagedResult(
            format=SNAPSHOT_FORMAT,
            path=result.path,
            start=result.time,
            end=result.time,
            duration=0.0,
            size=result.size,
            video_codec="mjpeg",
            audio_codec=None,
            width=result.width,
            height=result.height,
            error=None,
        ),
        name=name,
        storage_time=int((task.snapshot or {}).get("storage_time", 0)),
    )
