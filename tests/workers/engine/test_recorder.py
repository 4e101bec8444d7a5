from __future__ import annotations

import json
import shutil
import signal
import socket
import subprocess
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


def test_stop_recording_ends_one_recording_and_not_the_others(tmp_path, av_clip):
    events = Events()
    recorder = StreamRecorder(str(av_clip), tmp_path / "spool", listener=events, native_rate=True)
    for rid in ("stopped", "running"):
        recorder.add_recording(RecordingSpec(rid, {"flv": 600}, tmp_path / rid, default_name))
    threading.Timer(3.0, recorder.stop_recording, args=("stopped",)).start()
    threading.Timer(6.0, recorder.stop).start()
    started = time.monotonic()
    recorder.run()
    assert time.monotonic() - started < 9
    [stopped] = events.of("flv", "stopped")
    [running] = events.of("flv", "running")
    assert stopped.duration == pytest.approx(3.0, abs=0.6)
    assert running.duration == pytest.approx(6.0, abs=0.6)
    assert sorted(events.finished) == ["running", "stopped"]
    assert len(events.heartbeats) >= 2


def test_an_unreachable_source_raises_and_finishes_its_recordings(tmp_path):
    events = Events()
    recorder = StreamRecorder(str(tmp_path / "missing.flv"), tmp_path / "spool", listener=events)
    recorder.add_recording(RecordingSpec("r", {"flv": 60}, tmp_path / "out", default_name))
    with pytest.raises(SourceError):
        recorder.run()
    assert events.finished == ["r"] and events.files == [] and events.errors


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_live_push_starts_fast_and_a_stall_ends_it(tmp_path, av_clip):
    """ffmpeg pushes FLV in real time over TCP, then freezes: the recorder must give up on its own."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    port = free_port()
    push = subprocess.Popen(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re", "-i", str(av_clip), "-c", "copy", "-f", "flv",
         f"tcp://127.0.0.1:{port}?listen=1"],
    )  # fmt: skip
    try:
        time.sleep(0.5)  # let ffmpeg listen
        events = Events()
        recorder = StreamRecorder(
            f"tcp://127.0.0.1:{port}", tmp_path / "spool", listener=events, stall_timeout=1.5, heartbeat_seconds=0.5
        )
        recorder.add_recording(RecordingSpec("r", {"mp4": 600, "hls": 0}, tmp_path / "out", default_name))
        opened: list[float] = []
        events.on_started = lambda stats: opened.append(time.monotonic())  # type: ignore[method-assign]
        threading.Timer(3.5, push.send_signal, args=(signal.SIGSTOP,)).start()
        began = time.monotonic()
        recorder.run()
        ended = time.monotonic()
    finally:
        push.kill()
        push.wait()
    assert opened and opened[0] - began < 1.0  # short probe: spooling starts within a second
    assert any(isinstance(e, StallError) for e in events.errors)
    assert ended - began < 3.5 + 1.5 + 2.5
    [mp4] = events.of("mp4")
    assert 2.0 < mp4.duration < 4.0
    assert events.finished == ["r"]
