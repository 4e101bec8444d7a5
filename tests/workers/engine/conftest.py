"""Real media for the engine tests: small clips made by ffmpeg, checked with PyAV and ffprobe.

No Django here: run with ``-p no:django --confcutdir=tests/workers/engine``
(or with the Django plugin, which these tests simply ignore).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import pytest

from workers.engine import (
    ChunkInfo,
    PackagedFile,
    RecorderListener,
    RecordingSpec,
    SnapshotFile,
    StreamRecorder,
    StreamStats,
)

FPS = 25
GOP = 25  # one keyframe a second
VIDEO = ["-f", "lavfi", "-i", f"testsrc2=size=160x120:rate={FPS}"]
AUDIO = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-bf", "2", "-g", str(GOP), "-pix_fmt", "yuv420p"]
AAC = ["-c:a", "aac", "-b:a", "48k"]


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *args], check=True)


def ffprobe_json(path: Path, *entries: str) -> dict[str, Any]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", *entries, str(path)], check=True, capture_output=True, text=True
    )
    return json.loads(out.stdout)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def av_clip(media_dir: Path) -> Path:
    """25 s of H.264 (B-frames, 1 s GOP) and AAC in FLV, as an RTMP push carries it."""
    path = media_dir / "clip.flv"
    ffmpeg(*VIDEO, *AUDIO, *X264, *AAC, "-t", "25", str(path))
    return path


@pytest.fixture(scope="session")
def short_clip(media_dir: Path) -> Path:
    path = media_dir / "short.flv"
    ffmpeg(*VIDEO, *AUDIO, *X264, *AAC, "-t", "12", str(path))
    return path


@pytest.fixture(scope="session")
def audio_clip(media_dir: Path) -> Path:
    path = media_dir / "audio.flv"
    ffmpeg(*AUDIO, *AAC, "-t", "10", str(path))
    return path


@pytest.fixture(scope="session")
def video_clip(media_dir: Path) -> Path:
    path = media_dir / "video.flv"
    ffmpeg(*VIDEO, *X264, "-t", "10", str(path))
    return path


@pytest.fixture(scope="session")
def hevc_clip(media_dir: Path) -> Path:
    path = media_dir / "hevc.ts"
    x265 = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", f"keyint={GOP}:min-keyint={GOP}:log-level=none"]
    ffmpeg(*VIDEO, *AUDIO, *x265, *AAC, "-t", "8", str(path))
    return path


@pytest.fixture(scope="session")
def resolution_change_clip(media_dir: Path) -> Path:
    """Two pushes glued together: 160x120 then 320x240, timestamps restarting (plain ``cat`` of TS)."""
    a, b = media_dir / "part_a.ts", media_dir / "part_b.ts"
    ffmpeg(*VIDEO, *AUDIO, *X264, *AAC, "-t", "5", str(a))
    ffmpeg("-f", "lavfi", "-i", f"testsrc2=size=320x240:rate={FPS}", *AUDIO, *X264, *AAC, "-t", "5", str(b))
    path = media_dir / "change.ts"
    path.write_bytes(a.read_bytes() + b.read_bytes())
    return path


@dataclass
class Events(RecorderListener):
    """A listener that keeps everything it is told."""

    started: list[StreamStats] = field(default_factory=list)
    chunks: list[ChunkInfo] = field(default_factory=list)
    heartbeats: list[StreamStats] = field(default_factory=list)
    files: list[PackagedFile] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    snapshots: list[SnapshotFile] = field(default_factory=list)

    def on_started(self, stats: StreamStats) -> None:
        self.started.append(stats)

    def on_chunk_closed(self, chunk: ChunkInfo) -> None:
        self.chunks.append(chunk)

    def on_heartbeat(self, stats: StreamStats) -> None:
        self.heartbeats.append(stats)

    def on_file(self, f: PackagedFile) -> None:
        self.files.append(f)

    def on_recording_finished(self, recording_id: str) -> None:
        self.finished.append(recording_id)

    def on_snapshot(self, snapshot: SnapshotFile) -> None:
        self.snapshots.append(snapshot)

    def on_error(self, exc: BaseException) -> None:
        self.errors.append(exc)

    def of(self, fmt: str, recording_id: str | None = None) -> list[PackagedFile]:
        return [f for f in self.files if f.format == fmt and (recording_id is None or f.recording_id == recording_id)]


def default_name(fmt: str, start: float, end: float | None) -> str:
    return f"{fmt}_{start:.3f}" if end is None else f"{fmt}_{start:.3f}_{end:.3f}"


@dataclass
class Recorded:
    events: Events
    stats: StreamStats
    spool_dir: Path
    out_dir: Path


@pytest.fixture
def record(tmp_path: Path) -> Callable[..., Recorded]:
    """Run a StreamRecorder over a local file with the given recordings."""

    def run(url: Path | str, recordings: dict[str, dict[str, int]], **kwargs: Any) -> Recorded:
        events = Events()
        spool_dir, out_dir = tmp_path / "spool", tmp_path / "out"
        specs_kw = kwargs.pop("specs", {})
        recorder = StreamRecorder(str(url), spool_dir, listener=events, **kwargs)
        for rid, formats in recordings.items():
            spec_kw = {"name_for": default_name, **specs_kw.get(rid, {})}
            recorder.add_recording(
                RecordingSpec(recording_id=rid, formats=formats, output_dir=out_dir / rid, **spec_kw)
            )
        stats = recorder.run()
        return Recorded(events=events, stats=stats, spool_dir=spool_dir, out_dir=out_dir)

    return run


def decodes_to_end(path: Path) -> int:
    """Decode every frame of every stream; returns the number of frames. Raises on a broken file."""
    frames = 0
    with av.open(str(path)) as c:
        streams = [s for s in c.streams if s.type in ("video", "audio")]
        for frame in c.decode(*streams):
            frames += 1
            assert frame is not None
    return frames


def packet_pts(path: Path) -> dict[str, list[int]]:
    """Packet pts per stream kind, in the file's own time base.

    A packet without any timestamp (a lone ADTS frame) counts under a unique negative key.
    """
    out: dict[str, list[int]] = {"video": [], "audio": []}
    with av.open(str(path)) as c:
        for pkt in c.demux():
            if pkt.size and pkt.stream.type in out:
                ts = pkt.pts if pkt.pts is not None else pkt.dts
                out[pkt.stream.type].append(ts if ts is not None else -1 - len(out[pkt.stream.type]))
    return out


def media_duration(path: Path) -> float:
    with av.open(str(path)) as c:
        return float(c.duration or 0) / 1_000_000
