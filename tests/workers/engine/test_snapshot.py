"""Snapshots from the spool: due times, the keyframe nearest each, real JPEGs at the stream's resolution."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import av
import pytest

from tests.workers.engine.conftest import Events, Recorded
from workers.engine import ChunkInfo, RecordingSpec, SnapshotFile, Snapshotter, StreamParams, StreamRecorder
from workers.engine.snapshot import Frame

VIDEO = StreamParams(kind="video", codec="h264", width=160, height=120)
AUDIO = StreamParams(kind="audio", codec="aac", sample_rate=44100, channels=1)


def chunk(seq: int, first: float, duration: float, *, streams: tuple[StreamParams, ...] = (VIDEO,)) -> ChunkInfo:
    return ChunkInfo(
        seq=seq,
        file=f"{seq}.ts",
        first_wallclock=first,
        last_wallclock=first + duration,
        first_pts=first,
        last_pts=first + duration,
        duration=duration,
        starts_with_keyframe=True,
        discontinuity=False,
        streams=streams,
        first_dts_ts=0,
        end_dts_ts=0,
        packets=1,
        bytes=1,
    )


def fake_grab(info: ChunkInfo) -> Frame:
    return Frame(jpeg=b"\xff\xd8jpeg\xff\xd9", wallclock=info.first_wallclock, width=160, height=120)


def shots_over(tmp_path: Path, chunks: list[ChunkInfo], *, interval: float, start: float) -> list[SnapshotFile]:
    shots: list[SnapshotFile] = []
    snapper = Snapshotter("r", interval=interval, start=start, output_dir=tmp_path, emit=shots.append, grab=fake_grab)
    for info in chunks:
        snapper.feed(info)
    return shots


def test_each_due_time_takes_the_chunk_whose_keyframe_is_nearest(tmp_path: Path) -> None:
    # Chunks of 2 s from 0 to 16; due every 5 s: 0 → 0, 5 → 4 (a chunk serves up to its middle), 10 → 10, 15 → 14.
    chunks = [chunk(i, 2.0 * i, 2.0) for i in range(8)]
    assert [s.wallclock for s in shots_over(tmp_path, chunks, interval=5, start=0.0)] == [0.0, 4.0, 10.0, 14.0]


def test_an_interval_shorter_than_a_chunk_takes_every_chunk_once(tmp_path: Path) -> None:
    chunks = [chunk(i, 3.0 * i, 3.0) for i in range(5)]
    shots = shots_over(tmp_path, chunks, interval=2, start=0.0)
    assert [s.wallclock for s in shots] == [0.0, 3.0, 6.0, 9.0, 12.0]
    assert len({s.path for s in shots}) == 5


def test_a_long_interval_skips_chunks_and_starts_at_the_start(tmp_path: Path) -> None:
    chunks = [chunk(i, 100.0 + 2.0 * i, 2.0) for i in range(40)]
    assert [s.wallclock for s in shots_over(tmp_path, chunks, interval=30, start=101.5)] == [102.0, 132.0, 162.0]


def test_chunks_without_video_make_no_snapshot(tmp_path: Path) -> None:
    chunks = [chunk(i, 2.0 * i, 2.0, streams=(AUDIO,)) for i in range(5)]
    assert shots_over(tmp_path, chunks, interval=2, start=0.0) == []


def test_a_name_taken_twice_gets_a_suffix(tmp_path: Path) -> None:
    shots: list[SnapshotFile] = []
    snapper = Snapshotter(
        "r", interval=2, start=0.0, output_dir=tmp_path, emit=shots.append, grab=fake_grab, name_for=lambda _w: "same"
    )
    for info in [chunk(0, 0.0, 2.0), chunk(1, 2.0, 2.0)]:
        snapper.feed(info)
    assert [s.path.name for s in shots] == ["same.jpg", "same_1.jpg"]
    assert all(s.path.read_bytes() == b"\xff\xd8jpeg\xff\xd9" for s in shots)


def test_a_bad_interval_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="snapshot interval"):
        RecordingSpec("r", {}, tmp_path, lambda *_: "x", snapshot_interval=0)


def record_snapshots(tmp: Path, clip: Path, interval: float, formats: dict[str, int] | None = None) -> Recorded:
    events = Events()
    recorder = StreamRecorder(str(clip), tmp / "spool", listener=events)
    recorder.add_recording(
        RecordingSpec("snap", formats or {}, tmp / "out", lambda f, s, e: f"{f}_{s:.3f}", snapshot_interval=interval)
    )
    stats = recorder.run()
    return Recorded(events=events, stats=stats, spool_dir=tmp / "spool", out_dir=tmp / "out")


def test_real_snapshots_decode_at_the_stream_size_spaced_by_the_interval(tmp_path: Path, av_clip: Path) -> None:
    rec = record_snapshots(tmp_path, av_clip, interval=4)
    shots = rec.events.snapshots
    assert not rec.events.errors
    assert rec.events.finished == ["snap"]
    assert rec.events.files == []  # snapshots only: no format asked
    assert 6 <= len(shots) <= 7  # 25 s, one every 4 s from the start
    for shot in shots:
        assert shot.path.exists() and shot.path.stat().st_size == shot.size > 500
        with av.open(str(shot.path)) as jpeg:
            assert jpeg.streams.video[0].codec_context.name == "mjpeg"
            frame = next(jpeg.decode(video=0))
        assert (frame.width, frame.height) == (shot.width, shot.height) == (160, 120)
    gaps = [b.wallclock - a.wallclock for a, b in pairwise(shots)]
    assert all(abs(g - 4) <= 1.0 + 1e-6 for g in gaps), gaps  # the nearest chunk start: within half a chunk each
    assert sum(gaps) / len(gaps) == pytest.approx(4, abs=0.35)


def test_snapshots_come_beside_files_of_the_same_recording(tmp_path: Path, short_clip: Path) -> None:
    rec = record_snapshots(tmp_path, short_clip, interval=5, formats={"mp4": 6})
    assert len(rec.events.of("mp4")) == 2
    shots = rec.events.snapshots
    assert len(shots) == 3  # 12 s: due at 0, 5 and 10 s
    # The first frame of the chunk nearest each due time: within half a chunk (2 s chunks) of it.
    assert all(abs(s.wallclock - shots[0].wallclock - 5 * k) <= 1.0 + 1e-6 for k, s in enumerate(shots))


def test_an_audio_only_stream_makes_no_snapshot(tmp_path: Path, audio_clip: Path) -> None:
    rec = record_snapshots(tmp_path, audio_clip, interval=2, formats={"aac": 60})
    assert rec.events.snapshots == []
    assert len(rec.events.of("aac")) == 1
