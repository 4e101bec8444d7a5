from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import av

from tests.workers.engine.conftest import FPS, ffprobe_json
from workers.engine import Spool
from workers.engine.params import parameter_sets
from workers.engine.spool import INDEX_NAME
from workers.engine.timeline import TIMELINE_ORIGIN, Timeline, WallClock

REPO = Path(__file__).resolve().parents[3]


def index_lines(spool_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (spool_dir / INDEX_NAME).read_text().splitlines()]


def first_video_packet(path: Path) -> av.Packet:
    with av.open(str(path)) as c:
        return next(p for p in c.demux(video=0) if p.size)


def test_chunks_start_with_keyframes_and_the_index_matches_them(record, short_clip):
    run = record(short_clip, {}, lookback_seconds=3600)
    lines = index_lines(run.spool_dir)
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))
    assert len(lines) == 6  # 12 s in ~2 s chunks
    for line in lines:
        chunk = run.spool_dir / line["file"]
        assert chunk.exists()
        assert line["starts_with_keyframe"] is True
        assert first_video_packet(chunk).is_keyframe
        assert line["discontinuity"] is False
        assert {s["kind"] for s in line["streams"]} == {"video", "audio"}
        assert line["first_wallclock"] <= line["last_wallclock"]
        assert line["first_pts"] <= line["last_pts"]
    for prev, nxt in pairwise(lines):
        assert abs(prev["duration"] - 2.0) < 1 / FPS
        assert prev["end_dts_ts"] == nxt["first_dts_ts"]  # contiguous: nothing between two chunks
        assert abs(prev["first_wallclock"] + prev["duration"] - nxt["first_wallclock"]) < 1e-3
    clip_packets = sum(1 for p in av.open(str(short_clip)).demux() if p.size)
    assert sum(line["packets"] for line in lines) == clip_packets
    assert run.events.chunks and [c.seq for c in run.events.chunks] == [line["seq"] for line in lines]


def test_chunk_length_follows_chunk_seconds_at_keyframes(record, short_clip):
    run = record(short_clip, {}, chunk_seconds=3.0, lookback_seconds=3600)
    durations = [line["duration"] for line in index_lines(run.spool_dir)]
    assert all(abs(d - 3.0) < 1 / FPS for d in durations[:-1])


def test_chunks_nobody_needs_are_deleted_without_lookback(record, short_clip):
    run = record(short_clip, {"r": {"flv": 60}}, lookback_seconds=0)
    # Only the newest chunk (the live edge) may stay.
    assert len(list(run.spool_dir.glob("chunk_*.ts"))) <= 1
    assert len(index_lines(run.spool_dir)) == 6  # the index itself is append-only


def test_recover_indexes_a_truncated_chunk_up_to_its_last_readable_packet(record, short_clip):
    run = record(short_clip, {}, lookback_seconds=3600)
    index = run.spool_dir / INDEX_NAME
    lines = index.read_text().splitlines()
    last = json.loads(lines[-1])
    # Simulate a crash while the last chunk was written: not indexed, cut mid-packet, a torn index line.
    index.write_text("\n".join(lines[:-1]) + "\n" + '{"seq": ' + str(last["seq"]))
    chunk = run.spool_dir / last["file"]
    chunk.write_bytes(chunk.read_bytes()[: chunk.stat().st_size // 2 + 77])

    spool = Spool.recover(run.spool_dir)

    recovered = spool.chunk(last["seq"])
    assert recovered is not None and recovered.recovered
    assert recovered.starts_with_keyframe
    assert 0 < recovered.packets < last["packets"]
    assert 0.3 < recovered.duration < last["duration"]
    # Its wallclock continues the chunk before it.
    assert abs(recovered.first_wallclock - last["first_wallclock"]) < 1e-3
    assert spool.next_seq == last["seq"] + 1
    # Recovering twice changes nothing.
    again = Spool.recover(run.spool_dir)
    assert [c.seq for c in again.chunks()] == [c.seq for c in spool.chunks()]


def test_kill_9_loses_at_most_the_last_second(tmp_path, av_clip):
    spool_dir = tmp_path / "spool"
    script = (
        "import sys; from pathlib import Path; from workers.engine import StreamRecorder, RecorderListener;"
        f"StreamRecorder({str(av_clip)!r}, Path({str(spool_dir)!r}), listener=RecorderListener(),"
        " native_rate=True, lookback_seconds=3600).run()"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    try:
        time.sleep(4.5)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    spool = Spool.recover(spool_dir)
    chunks = spool.chunks()
    assert chunks and chunks[-1].recovered
    spooled = sum(c.duration for c in chunks)
    # The push ran ~4.5 s (minus start-up); at most about a second may be missing.
    assert spooled > 2.0
    assert all(c.starts_with_keyframe for c in chunks)
    probe = ffprobe_json(chunks[-1].path, "-show_entries", "format=duration")
    assert float(probe["format"]["duration"]) > 0


def test_timeline_keeps_dts_monotonic_through_jumps():
    tl = Timeline()
    out = [tl.map("video", t, t, 3600).dts for t in (0, 3600, 7200)]
    out.append(tl.map("video", -900_000, -900_000, 3600).dts)  # 10 s backwards: a restart
    out.append(tl.map("video", 90_000_000, 90_000_000, 3600).dts)  # 1000 s forward
    out.append(tl.map("video", 90_000_000, 90_000_000, 3600).dts)  # a repeated timestamp
    out.append(tl.map("video", None, None, None).dts)  # none at all
    assert out[0] == TIMELINE_ORIGIN
    assert all(b > a for a, b in pairwise(out))
    assert out[3] - out[2] == 3600 and out[4] - out[3] == 3600  # jumps collapse to one frame
    assert tl.jumps == 2


def test_timeline_keeps_audio_video_offset_as_pushed():
    tl = Timeline()
    v = tl.map("video", 1000, 1000, 3600)
    a = tl.map("audio", 1900, 1900, 1920)
    assert a.dts - v.dts == 900


def test_parameter_sets_are_found_in_annexb_and_length_prefixed_h264():
    sps, pps, idr = b"\x67\x42\x00\x1e\xab", b"\x68\xce\x38\x80", b"\x65\x88\x84\x00"
    annexb = b"\0\0\0\1" + sps + b"\0\0\0\1" + pps + b"\0\0\1" + idr
    avcc = b"".join(len(n).to_bytes(4, "big") + n for n in (sps, pps, idr))
    assert parameter_sets(annexb, "h264") == sps
    assert parameter_sets(avcc, "h264") == sps
    assert parameter_sets(b"\0\0\1" + idr, "h264") is None


def test_an_anchored_clock_places_a_backlog_at_its_own_time_never_ahead_of_now():
    """Issue 16 item 1: read 90 s late, a packet still gets the push start plus its own timestamp."""
    clock = WallClock(live=True, epoch=1000.0)
    # The recorder reads at t=1090 what was pushed at 1002 and 1003 (a burst of backlog).
    assert clock.wall(0, now=1090.0, source_ts=2 * 90_000) == 1002.0
    assert clock.wall(0, now=1090.0, source_ts=3 * 90_000) == 1003.0
    # A timestamp ahead of the real clock: the epoch was late; the packet is placed at now and the epoch moves.
    assert clock.wall(0, now=1095.0, source_ts=96 * 90_000) == 1095.0
    assert clock.epoch == 999.0
    # Timestamps that restart continue from the last packet instead of going back in time.
    assert clock.wall(0, now=1096.0, source_ts=0) == 1095.0
    assert clock.wall(0, now=1097.0, source_ts=90_000) == 1096.0
