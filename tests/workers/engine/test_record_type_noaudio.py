"""``record_type`` ``noaudio`` (a cloud recording's ``video`` and ``audio_video_separate`` stream types): files
that carry video drop the audio; AAC files of the same recording still hold it."""

from __future__ import annotations

import av
import m3u8

from tests.workers.engine.conftest import packet_pts


def test_record_type_noaudio_drops_audio_but_not_from_aac(record, short_clip):
    run = record(short_clip, {"s": {"mp4": 5, "flv": 5, "hls": 0, "aac": 5}}, specs={"s": {"record_type": "noaudio"}})
    assert run.events.files and not [f for f in run.events.files if f.error]
    for fmt in ("flv", "mp4"):
        files = run.events.of(fmt)
        assert files
        for f in files:
            assert f.audio_codec is None and f.video_codec == "h264"
            pts = packet_pts(f.path)
            assert pts["audio"] == [] and pts["video"]
    [hls] = run.events.of("hls")
    for seg in m3u8.load(str(hls.path)).segments:
        with av.open(str(hls.path.parent / seg.uri)) as c:
            assert c.streams.video and not c.streams.audio
    aac = run.events.of("aac")
    assert aac and all(f.audio_codec == "aac" and f.video_codec is None for f in aac)
    video_seconds = sum(f.duration for f in run.events.of("mp4"))
    assert abs(sum(f.duration for f in aac) - video_seconds) < 0.5, "the AAC beside covers the same time"
