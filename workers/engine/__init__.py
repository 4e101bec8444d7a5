"""The media engine: pull a live stream once, spool it, package it many ways.

Plain Python over PyAV, no Django: ``workers.session_recorder`` wires it to
the models. See DESIGN.md, "The media engine".
"""

from __future__ import annotations

from workers.engine.datatypes import (
    ChunkInfo,
    PackagedFile,
    RecorderListener,
    RecordingSpec,
    SnapshotFile,
    StreamParams,
    StreamStats,
)
from workers.engine.errors import EngineError, PackagingError, SourceError, SpoolError, StallError
from workers.engine.follow import IngestRecord, sweep_orphans
from workers.engine.hls import HlsPlaylistWriter
from workers.engine.recorder import StreamRecorder
from workers.engine.snapshot import Snapshotter, first_frame_jpeg
from workers.engine.spool import Spool

__all__ = [
    "ChunkInfo",
    "EngineError",
    "HlsPlaylistWriter",
    "IngestRecord",
    "PackagedFile",
    "PackagingError",
    "RecorderListener",
    "RecordingSpec",
    "SnapshotFile",
    "Snapshotter",
    "SourceError",
    "Spool",
    "SpoolError",
    "StallError",
    "StreamParams",
    "StreamRecorder",
    "StreamStats",
    "first_frame_jpeg",
    "sweep_orphans",
]
