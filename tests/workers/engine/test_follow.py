"""Following the ingest's record file while another process (nginx in production) writes it under a lock."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import pytest

from tests.workers.engine.conftest import Events, default_name, media_duration
from workers.engine import RecordingSpec, StreamRecorder, follow
from workers.engine.errors import StallError
from workers.engine.follow import FollowReader, IngestRecord, locate_record, sweep_orphans

# A writer like nginx-rtmp with record_lock on: open, take the POSIX write lock, append what stdin says.
WRITER = r"""
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
fcntl.lockf(fd, fcntl.LOCK_EX)
print("locked", flush=True)
for line in sys.stdin:
    os.write(fd, bytes.fromhex(line.strip()))
    print("wrote", flush=True)
os.close(fd)
"""


class Writer:
    def __init__(self, path: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "locked"

    def write(self, data: bytes) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(data.hex() + "\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "wrote"

    def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        self.process.wait(timeout=10)


@pytest.fixture
def writer(tmp_path: Path) -> Iterator[Writer]:
    w = Writer(tmp_path / "demo-1700000000.flv")
    yield w
    w.close()
    if w.process.poll() is None:
        w.process.kill()


def read_all(reader: FollowReader, into: bytearray) -> None:
    while chunk := reader.read(1 << 16):
        into.extend(chunk)


def test_reads_while_the_writer_appends_and_ends_when_it_closes(tmp_path: Path, writer: Writer) -> None:
    path = tmp_path / "demo-1700000000.flv"
    reader = FollowReader(path, stall_timeout=10, poll_seconds=0.01)
    got = bytearray()
    thread = threading.Thread(target=read_all, args=(reader, got))
    thread.start()
    parts = [os.urandom(1000 + i) for i in range(20)]
    for part in parts:
        writer.write(part)
        time.sleep(0.01)
    time.sleep(0.2)
    assert thread.is_alive(), "no end of file while the writer holds its lock"
    writer.close()
    thread.join(timeout=5)
    assert not thread.is_alive()
    assert bytes(got) == b"".join(parts)
    assert reader.finished
    reader.close()
    assert not path.exists(), "a file read to its end is deleted"


def test_a_killed_writer_ends_the_file_and_nothing_written_is_lost(tmp_path: Path, writer: Writer) -> None:
    path = tmp_path / "demo-1700000000.flv"
    data = os.urandom(50_000)
    writer.write(data)
    writer.process.kill()
    writer.process.wait()
    reader = FollowReader(path, stall_timeout=10, poll_seconds=0.01)
    got = bytearray()
    read_all(reader, got)
    assert bytes(got) == data


def test_a_silent_writer_is_a_stall(tmp_path: Path, writer: Writer) -> None:
    reader = FollowReader(tmp_path / "demo-1700000000.flv", stall_timeout=0.3, poll_seconds=0.01)
    started = time.monotonic()
    with pytest.raises(StallError):
        reader.read(100)
    assert time.monotonic() - started >= 0.3
    reader.close()
    assert (tmp_path / "demo-1700000000.flv").exists(), "a file not read to its end is kept"


def test_stop_ends_a_waiting_read(tmp_path: Path, writer: Writer) -> None:
    reader = FollowReader(tmp_path / "demo-1700000000.flv", stall_timeout=30, poll_seconds=0.01)
    threading.Timer(0.1, reader.stop).start()
    assert reader.read(100) == b""
    assert not reader.finished


def test_read_bytes_are_punched_out_of_the_file(
    tmp_path: Path, writer: Writer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(follow, "PUNCH_EVERY", 256 * 1024)
    path = tmp_path / "demo-1700000000.flv"
    data = os.urandom(2 * 1024 * 1024)
    writer.write(data)
    reader = FollowReader(path, stall_timeout=10, poll_seconds=0.01)
    got = bytearray()
    while len(got) < len(data):
        got.extend(reader.read(1 << 16))
    assert bytes(got) == data
    allocated = path.stat().st_blocks * 512
    assert path.stat().st_size == len(data)
    if follow._fallocate.func is None or not reader._can_punch:
        pytest.skip("this filesystem cannot punch holes")
    assert allocated <= 512 * 1024, "what was read no longer takes disk space"


def test_locate_finds_the_file_nginx_writes_for_this_push(tmp_path: Path) -> None:
    hook_at = 1_700_000_000.4
    (tmp_path / "demo-1699990000.flv").write_bytes(b"an old push, closed")
    (tmp_path / "demo-1700000000.flv").write_bytes(b"closed: not this push's")
    (tmp_path / "other-1700000001.flv").write_bytes(b"another stream")
    live = Writer(tmp_path / "demo-1700000001.flv")
    try:
        found = locate_record(IngestRecord(tmp_path, "demo", hook_at), timeout=0.2)
        assert found == tmp_path / "demo-1700000001.flv"
        assert locate_record(IngestRecord(tmp_path, "nobody", hook_at), timeout=0.2) is None
        assert locate_record(IngestRecord(tmp_path, "demo", hook_at + 3600), timeout=0.2) is None
    finally:
        live.close()


def test_locate_waits_for_nginx_to_create_the_file(tmp_path: Path) -> None:
    writers: list[Writer] = []
    timer = threading.Timer(0.3, lambda: writers.append(Writer(tmp_path / f"late-{int(time.time())}.flv")))
    timer.start()
    try:
        found = locate_record(IngestRecord(tmp_path, "late", time.time()), timeout=3)
        assert found is not None and found.name.startswith("late-")
    finally:
        timer.join()
        for w in writers:
            w.close()


def test_sweep_deletes_only_old_files_nobody_writes(tmp_path: Path) -> None:
    old = tmp_path / "gone-1.flv"
    old.write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    recent = tmp_path / "recent-2.flv"
    recent.write_bytes(b"x")
    live = Writer(tmp_path / "live-3.flv")
    try:
        os.utime(tmp_path / "live-3.flv", (time.time() - 7200, time.time() - 7200))
        assert sweep_orphans(tmp_path, older_than=3600) == 1
        assert not old.exists() and recent.exists() and (tmp_path / "live-3.flv").exists()
    finally:
        live.close()


# --- late readers and trimming (issue 16 items 1, 2) ---


def flv_video_timestamps(data: bytes | Path) -> list[tuple[int, bool]]:
    """(dts ms, keyframe) of every video packet PyAV demuxes from FLV bytes or a file."""
    source = io.BytesIO(data) if isinstance(data, bytes) else str(data)
    with av.open(source, format="flv") as c:
        packets = [p for p in c.demux(video=0) if p.size and p.dts is not None]
        return [(int(p.dts * p.time_base * 1000), bool(p.is_keyframe)) for p in packets]


def test_a_late_reader_gets_the_head_then_the_keyframe_before_the_time_it_needs(
    writer: Writer, tmp_path: Path, av_clip: Path
) -> None:
    writer.write(av_clip.read_bytes())  # 25 s of a push already on disk, nginx still writing
    reader = FollowReader(tmp_path / "demo-1700000000.flv", stall_timeout=10, skip_to_ms=12_500)
    got = bytearray()
    while len(got) < 64 or reader.offset < (tmp_path / "demo-1700000000.flv").stat().st_size:
        got.extend(reader.read(1 << 16))
    reader.close()
    video = flv_video_timestamps(bytes(got))
    assert video[0] == (12_000, True), video[:3]  # the keyframe at or before 12.5 s (1 s GOP), nothing earlier
    assert video[-1][0] >= 24_000
    assert reader.skipped > av_clip.stat().st_size // 3


def test_trim_keeps_the_head_and_the_last_seconds_and_stays_playable(tmp_path: Path, av_clip: Path) -> None:
    path = tmp_path / "demo-1700000000.flv"
    path.write_bytes(av_clip.read_bytes())
    released = follow.trim_record(path, keep_seconds=5)
    if follow._fallocate.func is None:
        pytest.skip("this filesystem cannot punch holes")
    assert released > av_clip.stat().st_size // 2
    assert path.stat().st_size == av_clip.stat().st_size  # the writer's offset is untouched
    assert path.stat().st_blocks * 512 < av_clip.stat().st_size * 0.4
    assert follow.trim_record(path, keep_seconds=5) == 0, "a second pass finds nothing more to release"
    reader = FollowReader(path, stall_timeout=10, skip_to_ms=0)
    got = bytearray()
    read_all(reader, got)
    video = flv_video_timestamps(bytes(got))
    assert video[0][1] and 19_000 <= video[0][0] <= 20_000, video[:2]  # a keyframe 5-6 s before the end
    assert len(video) >= 5 * 25


def test_trim_leaves_a_followed_file_alone(writer: Writer, tmp_path: Path, av_clip: Path) -> None:
    writer.write(av_clip.read_bytes())
    path = tmp_path / "demo-1700000000.flv"
    reader = FollowReader(path, stall_timeout=10)  # holds its shared flock from here on
    try:
        assert follow.trim_record(path, keep_seconds=1) == 0
    finally:
        reader.close()
    assert follow.trim_record(path, keep_seconds=1) > 0


def test_a_recorder_that_starts_late_records_its_own_seconds_at_their_true_time(tmp_path: Path, av_clip: Path) -> None:
    """A push that began 25 s ago, nothing recorded it; a highlight from 5 s ago gets those 5 s, stamped then."""
    pushed_at = time.time() - 25
    record_dir = tmp_path / "record"
    record_dir.mkdir()
    w = Writer(record_dir / f"late-{int(pushed_at)}.flv")
    try:
        w.write(av_clip.read_bytes())
        events = Events()
        recorder = StreamRecorder(
            "rtmp://127.0.0.1:9/live/late",
            tmp_path / "spool",
            listener=events,
            ingest_record=IngestRecord(record_dir=record_dir, stream_name="late", not_before=pushed_at),
        )
        start = pushed_at + 20
        recorder.add_recording(RecordingSpec("hl", {"mp4": 60}, tmp_path / "out", default_name, start_wallclock=start))
        runner = threading.Thread(target=recorder.run)
        runner.start()
        time.sleep(1.0)
        w.close()  # the push ends
        runner.join(timeout=30)
    finally:
        w.close()
    assert not runner.is_alive()
    (f,) = events.of("mp4")
    assert recorder.source.follower is None  # closed at the end
    assert start - 0.05 <= f.start_wallclock <= start + 1.05  # the first keyframe at or after its start
    assert media_duration(f.path) == pytest.approx(25 - (f.start_wallclock - pushed_at), abs=0.2)
    assert events.started[0].packets == 0
    assert recorder.stats.packets < 10 * (25 + 44), "the backlog before the keyframe it needs was skipped, not read"
