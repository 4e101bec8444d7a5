from __future__ import annotations

import io
import json
import socket
import threading
import time

import av
import m3u8
import pytest

from tests.workers.engine.conftest import FPS, Events, decodes_to_end, default_name, packet_pts
from workers.engine import RecordingSpec, SourceError, StallError, StreamRecorder
from workers.engine.spool import INDEX_NAME


def test_audio_only_stream_is_cut_at_any_packet(record, audio_clip):
    run = record(audio_clip, {"r": {"flv": 3, "mp4": 3, "hls": 0, "aac": 3, "mp3": 3}})
    ev = run.events
    assert not [f for f in ev.files if f.error]
    for fmt in ("flv", "mp4", "aac", "mp3"):
        files = ev.of(fmt)
        assert len(files) == 4, fmt  # 10 s in 3 s files
        # MP3 frames are 1152 samples and each file carries the encoder's padding.
        slack = 0.06 * len(files) if fmt == "mp3" else 0.1
        assert sum(f.duration for f in files) == pytest.approx(10, abs=slack)
        assert all(f.video_codec is None for f in files)
        assert all(decodes_to_end(f.path) for f in files)
    assert ev.of("hls")[0].duration == pytest.approx(10, abs=0.1)
    assert run.stats.video_codec is None and run.stats.audio_codec == "aac"


def test_video_only_stream_records_video_formats_and_skips_audio_ones(record, video_clip):
    run = record(video_clip, {"r": {"flv": 4, "mp4": 4, "hls": 0, "aac": 4, "mp3": 4}})
    ev = run.events
    assert len(ev.of("flv")) == 3 and len(ev.of("mp4")) == 3 and len(ev.of("hls")) == 1
    assert ev.of("aac") == [] and ev.of("mp3") == []  # nothing to put in them, and no crash
    assert not [f for f in ev.files if f.error]
    for f in ev.of("mp4"):
        assert f.audio_codec is None and f.video_codec == "h264"
        assert decodes_to_end(f.path)
    assert sum(f.duration for f in ev.of("flv")) == pytest.approx(10, abs=1 / FPS)
    assert ev.finished == ["r"]


def test_h265_stream(record, hevc_clip):
    run = record(hevc_clip, {"r": {"mp4": 3, "hls": 0, "flv": 3}})
    ev = run.events
    assert run.stats.video_codec == "hevc"
    mp4 = ev.of("mp4")
    assert len(mp4) == 3 and not [f for f in mp4 if f.error]
    for f in mp4:
        assert f.video_codec == "hevc" and f.audio_codec == "aac"
        with av.open(str(f.path)) as c:
            assert next(p for p in c.demux(video=0) if p.size).is_keyframe
        assert decodes_to_end(f.path)
    [hls] = ev.of("hls")
    assert hls.video_codec == "hevc" and hls.duration == pytest.approx(8, abs=0.1)
    # FLV carries HEVC only as "enhanced FLV"; whatever the muxer says, the recording survives it.
    assert all(f.error or decodes_to_end(f.path) for f in ev.of("flv"))


def test_resolution_change_starts_a_new_chunk_and_new_files(record, resolution_change_clip):
    run = record(resolution_change_clip, {"r": {"mp4": 60, "hls": 0}}, lookback_seconds=3600)
    lines = [json.loads(x) for x in (run.spool_dir / INDEX_NAME).read_text().splitlines()]
    changed = [x for x in lines if x["discontinuity"]]
    assert len(changed) == 1
    assert changed[0]["streams"][0]["width"] == 320 and changed[0]["starts_with_keyframe"]
    assert lines[0]["streams"][0]["width"] == 160
    mp4 = run.events.of("mp4")
    assert [(f.width, f.height) for f in mp4] == [(160, 120), (320, 240)]
    assert sum(f.duration for f in mp4) == pytest.approx(10, abs=0.2)  # each part is ~5.04 s of audio
    assert all(decodes_to_end(f.path) for f in mp4)
    [hls] = run.events.of("hls")
    pl = m3u8.load(str(hls.path))
    assert sum(s.discontinuity for s in pl.segments) == 1
    # Timestamps restarted in the second part; the spool timeline did not.
    for f in mp4:
        dts = packet_pts(f.path)["video"]
        assert dts == sorted(dts) or len(set(dts)) == len(dts)


def test_highlight_that_starts_in_the_past_is_served_from_the_lookback(tmp_path, av_clip):
    events = Events()
    recorder = StreamRecorder(str(av_clip), tmp_path / "spool", listener=events, lookback_seconds=60)
    added = threading.Event()

    def on_chunk_closed(chunk):
        events.chunks.append(chunk)
        if chunk.seq == 8 and not added.is_set():
            t0 = events.chunks[0].first_wallclock
            recorder.add_recording(
                RecordingSpec(
                    "hl", {"mp4": 600, "aac": 600}, tmp_path / "out", default_name,
                    start_wallclock=t0 + 3.5, end_wallclock=t0 + 9.5,
                )
            )  # fmt: skip
            added.set()

    events.on_chunk_closed = on_chunk_closed  # type: ignore[method-assign]
    recorder.run()
    [mp4] = events.of("mp4", "hl")
    t0 = events.chunks[0].first_wallclock
    # Starts at the first keyframe at or after 3.5 s (4.0 s), ends before 9.5 s.
    assert mp4.start_wallclock == pytest.approx(t0 + 4.0, abs=1e-3)
    assert mp4.duration == pytest.approx(5.5, abs=1 / FPS + 0.03)
    [aac] = events.of("aac", "hl")
    assert aac.start_wallclock == pytest.approx(t0 + 3.5, abs=0.03)
    assert aac.duration == pytest.approx(6.0, abs=0.05)
    assert events.finished == ["hl"]


class MediaClock:
    """The recorder's clock read off the media: seconds of stream spooled so far (0 before the first packet)."""

    def __init__(self) -> None:
        self.recorder: StreamRecorder | None = None
        self.origin: float | None = None

    def __call__(self) -> float:
        edge = self.recorder.spool.live_edge_wallclock if self.recorder is not None else None
        if edge is None:
            return 0.0
        if self.origin is None:
            self.origin = edge
        return edge - self.origin


def test_stop_recording_ends_one_recording_and_not_the_others(tmp_path, av_clip):
    """Stops come on media events (the first chunk asks one recording to end at 3 s; the chunk that reaches 6 s
    stops the recorder), and the recorder's clock is the media's: nothing depends on how fast the test runs."""
    events = Events()
    clock = MediaClock()
    recorder = StreamRecorder(str(av_clip), tmp_path / "spool", listener=events, native_rate=True, clock=clock)
    clock.recorder = recorder
    for rid in ("stopped", "running"):
        recorder.add_recording(RecordingSpec(rid, {"flv": 600}, tmp_path / rid, default_name))

    def on_chunk_closed(chunk):
        events.chunks.append(chunk)
        t0 = events.chunks[0].first_wallclock
        if "stopped" not in asked:  # asked during the first chunk, for 3 s: before the packager passes it
            asked.append("stopped")
            recorder.stop_recording("stopped", t0 + 3.0)
        if chunk.last_wallclock - t0 >= 5.9 and "all" not in asked:
            asked.append("all")
            recorder.stop()

    asked: list[str] = []
    events.on_chunk_closed = on_chunk_closed  # type: ignore[method-assign]
    recorder.run()
    [stopped] = events.of("flv", "stopped")
    [running] = events.of("flv", "running")
    assert stopped.duration == pytest.approx(3.0, abs=0.6)
    assert running.duration == pytest.approx(6.0, abs=0.6)
    assert recorder.stats.last_packet_wallclock - recorder.stats.first_packet_wallclock < 8, (
        "stop() ended the run: the 25 s clip was not read to its end"
    )
    assert sorted(events.finished) == ["running", "stopped"]
    assert len(events.heartbeats) >= 2, "a beat every 2 s of the recorder's clock"


def test_an_unreachable_source_raises_and_finishes_its_recordings(tmp_path):
    events = Events()
    recorder = StreamRecorder(str(tmp_path / "missing.flv"), tmp_path / "spool", listener=events)
    recorder.add_recording(RecordingSpec("r", {"flv": 60}, tmp_path / "out", default_name))
    with pytest.raises(SourceError):
        recorder.run()
    assert events.finished == ["r"] and events.files == [] and events.errors


class ManualClock:
    """The recorder's monotonic clock, moved by the test only: a stall is a matter of events, not of waiting."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def flv_tags(data: bytes) -> list[tuple[int, int, int]]:
    """(start, end, timestamp in ms) of every FLV tag (header: 9 bytes; each tag: 11, its data, a 4-byte size)."""
    tags, offset = [], 9 + 4
    while offset + 11 <= len(data):
        size = int.from_bytes(data[offset + 1 : offset + 4], "big")
        timestamp = int.from_bytes(data[offset + 4 : offset + 7], "big") | data[offset + 7] << 24
        tags.append((offset, offset + 11 + size + 4, timestamp))
        offset += 11 + size + 4
    return tags


def wait_for(condition, what: str, timeout: float = 30.0) -> None:
    """Poll for an event; the timeout only bounds a broken test, no assertion is made on how long it took."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.02)


@pytest.mark.slow
def test_live_push_starts_on_half_a_second_of_media_and_a_stall_ends_it(tmp_path, av_clip):
    """A live TCP push, fed by the test: the first half second of the stream, then up to 3 s, then silence.
    Spooling must start on that half second (a short probe: with ffmpeg's default ``fpsprobesize`` it waits for
    20 frames and this fails); the silence is a stall once the recorder's clock passes
    ``stall_timeout`` since the last packet, and not before."""
    data = av_clip.read_bytes()
    tags = flv_tags(data)
    first_half_second = next(start for start, _, ms in tags if ms >= 500)
    three_seconds = next(start for start, _, ms in tags if ms >= 3000)
    with av.open(io.BytesIO(data[:three_seconds]), format="flv") as prefix:
        sent = sum(1 for p in prefix.demux() if p.size)
    hang_up = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def push() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(data[:first_half_second])  # the header, the sequence headers, 0.5 s of media
            wait_for(lambda: events.started, "spooling starts on the first half second of the push")
            # Then the next two seconds as a live publisher sends them (a live source's packets are timed on
            # arrival), and silence with the connection open: a publisher that froze.
            began = time.monotonic() - 0.5
            for start, end, ms in tags:
                if 500 <= ms < 3000:
                    time.sleep(max(0.0, began + ms / 1000 - time.monotonic()))
                    conn.sendall(data[start:end])
            hang_up.wait(60)

    clock = ManualClock()
    events = Events()
    recorder = StreamRecorder(
        f"tcp://127.0.0.1:{port}",
        tmp_path / "spool",
        listener=events,
        stall_timeout=30,
        heartbeat_seconds=1,
        clock=clock,
    )
    recorder.add_recording(RecordingSpec("r", {"mp4": 600, "hls": 0}, tmp_path / "out", default_name))
    pusher = threading.Thread(target=push, daemon=True)
    pusher.start()
    runner = threading.Thread(target=recorder.run, daemon=True)
    runner.start()
    try:
        wait_for(lambda: events.started, "on_started before the push sent more than half a second")
        wait_for(lambda: recorder.stats.packets == sent, "every packet of the 3 s spooled")
        clock.now = 29.0  # silent for 29 s of the recorder's clock: not yet a stall
        wait_for(lambda: events.heartbeats, "a heartbeat after the clock moved")
        assert runner.is_alive() and not [e for e in events.errors if isinstance(e, StallError)]
        clock.now = 31.0  # past stall_timeout since the last packet
        runner.join(timeout=30)
        assert not runner.is_alive(), "the stall ended the recording on its own"
    finally:
        hang_up.set()
        server.close()
        pusher.join(timeout=10)
    assert any(isinstance(e, StallError) for e in events.errors)
    [mp4] = events.of("mp4")
    assert 2.0 < mp4.duration < 4.0
    assert events.finished == ["r"]
