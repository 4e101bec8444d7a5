"""Property: however a recording is bounded and cut, its files hold each packet exactly once."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workers.engine.conftest import Events, default_name, packet_pts
from workers.engine import RecordingSpec, Spool, StreamRecorder
from workers.engine.file_series import EPS
from workers.engine.media import read_chunk
from workers.engine.packager import Packager


@pytest.fixture(scope="module")
def spool_dir(tmp_path_factory: pytest.TempPathFactory, av_clip: Path) -> Path:
    path = tmp_path_factory.mktemp("prop") / "spool"
    StreamRecorder(str(av_clip), path, listener=Events(), lookback_seconds=1e9).run()
    return path


@pytest.fixture(scope="module")
def timeline(spool_dir: Path) -> list[tuple[str, float, bool]]:
    """Every spooled packet in packaging order: (kind, wallclock, keyframe)."""
    out = []
    for info in Spool(spool_dir).chunks():
        data = read_chunk(info)
        out += [(p.kind, p.wall, p.keyframe) for p in data.packets]
        data.close()
    return out


def expected(timeline, start: float, end: float | None, *, video: bool) -> dict[str, int]:
    n = len(timeline)
    stop = next((i for i, (_, w, _) in enumerate(timeline) if end is not None and w >= end - EPS), n)

    def is_start(kind: str, wall: float, key: bool) -> bool:
        return wall >= start - EPS and ((kind == "video" and key) if video else kind == "audio")

    begin = next((i for i, p in enumerate(timeline) if is_start(*p)), n)
    kept = timeline[begin:stop]
    return {kind: sum(1 for k, _, _ in kept if k == kind) for kind in ("video", "audio")}


@settings(
    max_examples=int(os.environ.get("ENGINE_PROPERTY_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    interval=st.integers(min_value=1, max_value=9),
    audio_interval=st.integers(min_value=1, max_value=9),
    start_at=st.floats(min_value=-2, max_value=24),
    length=st.one_of(st.none(), st.floats(min_value=0.2, max_value=30)),
)
def test_files_neither_lose_nor_repeat_packets(spool_dir, timeline, interval, audio_interval, start_at, length):
    t0 = timeline[0][1]
    start = t0 + start_at
    end = None if length is None else start + length
    out = Path(tempfile.mkdtemp())
    try:
        files = []
        spool = Spool(spool_dir, lookback_seconds=1e9)
        packager = Packager(spool, on_file=files.append, on_finished=lambda r: None, on_error=lambda e: None)
        formats = {"flv": interval, "aac": audio_interval}
        packager.add(RecordingSpec("p", formats, out, default_name, start_wallclock=start, end_wallclock=end))
        packager.finish_all()
        assert not [f for f in files if f.error]
        for fmt, video in (("flv", True), ("aac", False)):
            got = [packet_pts(f.path) for f in files if f.format == fmt]
            want = expected(timeline, start, end, video=video)
            kinds = ("video", "audio") if video else ("audio",)
            for kind in kinds:
                assert sum(len(set(p[kind])) for p in got) == want[kind], (fmt, kind)
                assert all(len(set(p[kind])) == len(p[kind]) for p in got), (fmt, kind)
            # Each file but the last runs at least its interval.
            durations = [f.duration for f in files if f.format == fmt]
            limit = interval if video else audio_interval
            assert all(d >= limit - 0.05 for d in durations[:-1])
    finally:
        shutil.rmtree(out, ignore_errors=True)
