from __future__ import annotations

import math
import struct
from itertools import pairwise
from pathlib import Path

import av
import m3u8
import pytest

from tests.workers.engine.conftest import (
    FPS,
    GOP,
    Events,
    Recorded,
    decodes_to_end,
    default_name,
    ffprobe_json,
    media_duration,
    packet_pts,
)
from workers.engine import HlsPlaylistWriter, RecordingSpec, StreamRecorder
from workers.engine.flv import AUDIO, read_tags

INTERVAL = 5
ALL_FORMATS = {"flv": INTERVAL, "mp4": INTERVAL, "hls": 0, "aac": INTERVAL, "mp3": INTERVAL}
SLACK = 1 / FPS + GOP / FPS  # one frame plus the keyframe snap


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory, av_clip: Path) -> Recorded:
    """The 25 s clip recorded once in every format, 5 s files."""
    base = tmp_path_factory.mktemp("full")
    events = Events()
    recorder = StreamRecorder(str(av_clip), base / "spool", listener=events)
    recorder.add_recording(RecordingSpec("rec", ALL_FORMATS, base / "out", default_name))
    stats = recorder.run()
    return Recorded(events=events, stats=stats, spool_dir=base / "spool", out_dir=base / "out")


def clip_duration(path: Path) -> float:
    return media_duration(path)


def test_every_format_gets_its_files_and_the_recording_finishes(full):
    ev = full.events
    assert not [f for f in ev.files if f.error]
    for fmt in ("flv", "mp4", "aac", "mp3"):
        assert len(ev.of(fmt)) == 5, fmt
    assert len(ev.of("hls")) == 1
    assert ev.finished == ["rec"]
    assert ev.started and ev.started[0].video_codec == "h264" and ev.started[0].audio_codec == "aac"


def test_stats_are_measured(full):
    s = full.stats
    assert s.width == 160 and s.height == 120
    assert s.fps == pytest.approx(FPS, rel=0.05)
    assert s.gop_seconds == pytest.approx(GOP / FPS, rel=0.05)
    assert s.bitrate and s.bitrate > 0
    assert s.packets > 0 and s.bytes > 0
    assert s.last_packet_wallclock - s.first_packet_wallclock == pytest.approx(25, abs=0.2)


@pytest.mark.parametrize("fmt", ["flv", "mp4", "aac", "mp3"])
def test_durations_sum_to_the_clip(full, av_clip, fmt):
    files = full.events.of(fmt)
    total = sum(f.duration for f in files)
    assert total == pytest.approx(clip_duration(av_clip), abs=SLACK)
    for f in files[:-1]:
        assert INTERVAL - 1 / FPS <= f.duration <= INTERVAL + SLACK
    for f in files:
        assert f.path is not None and f.size == f.path.stat().st_size
        assert f.start_wallclock < f.end_wallclock


def test_consecutive_files_are_contiguous_in_wallclock(full):
    for fmt in ("flv", "mp4"):
        files = full.events.of(fmt)
        for a, b in pairwise(files):
            assert a.end_wallclock == pytest.approx(b.start_wallclock, abs=1e-6)


@pytest.mark.parametrize("fmt", ["flv", "mp4"])
def test_video_files_start_with_a_keyframe_at_zero_and_never_go_back(full, fmt):
    for f in full.events.of(fmt):
        with av.open(str(f.path)) as c:
            first = next(p for p in c.demux(video=0) if p.size)
            assert first.is_keyframe
        with av.open(str(f.path)) as c:
            last_dts: dict[int, int] = {}
            first_ts = []
            for p in c.demux():
                if not p.size:
                    continue
                first_ts.append(float(p.dts * p.time_base))
                assert p.dts > last_dts.get(p.stream.index, -(10**12))
                last_dts[p.stream.index] = p.dts
            assert min(first_ts) == pytest.approx(0, abs=0.15)


@pytest.mark.parametrize("fmt", ["flv", "mp4", "aac", "mp3"])
def test_every_file_decodes_to_the_end(full, fmt):
    for f in full.events.of(fmt):
        assert decodes_to_end(f.path) > 0


def test_consecutive_files_neither_lose_nor_repeat_a_packet(full, av_clip):
    source = packet_pts(av_clip)
    for fmt in ("flv", "mp4"):
        per_file = [packet_pts(f.path) for f in full.events.of(fmt)]
        for kind in ("video", "audio"):
            assert sum(len(set(p[kind])) for p in per_file) == len(source[kind]), (fmt, kind)
            assert all(len(set(p[kind])) == len(p[kind]) for p in per_file)
    aac = [packet_pts(f.path)["audio"] for f in full.events.of("aac")]
    assert sum(len(a) for a in aac) == len(source["audio"])


def test_mp4_is_faststart_h264_aac(full):
    for f in full.events.of("mp4"):
        data = f.path.read_bytes()
        boxes, pos = [], 0
        while pos + 8 <= len(data):
            size, kind = struct.unpack(">I4s", data[pos : pos + 8])
            boxes.append(kind.decode())
            pos += size if size else len(data)
        assert boxes.index("moov") < boxes.index("mdat")
        assert (f.video_codec, f.audio_codec) == ("h264", "aac")
        assert (f.width, f.height) == (160, 120)


def test_mp3_is_mp3_and_aac_is_adts(full):
    for f in full.events.of("mp3"):
        probe = ffprobe_json(f.path, "-show_entries", "stream=codec_name:format=format_name")
        assert probe["format"]["format_name"] == "mp3"
        assert [s["codec_name"] for s in probe["streams"]] == ["mp3"]
    for f in full.events.of("aac"):
        probe = ffprobe_json(f.path, "-show_entries", "stream=codec_name:format=format_name")
        assert probe["format"]["format_name"] == "aac"  # FFmpeg's name for the ADTS demuxer
        assert [s["codec_name"] for s in probe["streams"]] == ["aac"]
        head = f.path.read_bytes()[:2]
        assert head[0] == 0xFF and head[1] & 0xF0 == 0xF0  # ADTS sync word
        assert f.video_codec is None


@pytest.mark.parametrize("record_type", ["video", "audio"])
def test_every_flv_file_has_one_correct_aac_sequence_header(full, record, short_clip, record_type):
    """Issue 16 item 11: no empty ``af00`` tag before the real AudioSpecificConfig (mpegts.js rejects it)."""
    if record_type == "video":
        files = full.events.of("flv")
    else:
        files = record(short_clip, {"a": {"flv": 5}}, specs={"a": {"record_type": "audio"}}).events.of("flv")
    assert len(files) >= 2
    for f in files:
        tags = read_tags(f.path)
        headers = [t for t in tags if t.type == AUDIO and t.sequence_header]
        assert len(headers) == 1, f.path
        [header] = headers
        assert header.size == 4  # af 00 + the 2-byte AudioSpecificConfig of 44.1 kHz mono AAC-LC
        assert header.first[2:4] == bytes.fromhex("1208")
        first_audio = next(t for t in tags if t.type == AUDIO)
        assert first_audio is header
        with av.open(str(f.path)) as c:
            assert c.streams.audio[0].codec_context.extradata == bytes.fromhex("1208")


def test_hls_playlist_lists_the_spool_chunks(full, av_clip):
    [f] = full.events.of("hls")
    assert f.path.suffix == ".m3u8"
    text = f.path.read_text()
    assert text.startswith("#EXTM3U\n#EXT-X-VERSION:3\n")
    assert "#EXT-X-MEDIA-SEQUENCE:0" in text
    assert text.rstrip().endswith("#EXT-X-ENDLIST")
    pl = m3u8.load(str(f.path))
    durations = [s.duration for s in pl.segments]
    assert pl.target_duration == math.ceil(max(durations))
    assert sum(durations) == pytest.approx(clip_duration(av_clip), abs=SLACK)
    assert f.duration == pytest.approx(sum(durations), abs=1e-3)
    # Named by its real start and end (issue 16 item 12); segments keep the name it started with.
    assert f.path.stem == default_name("hls", f.start_wallclock, f.end_wallclock)
    assert f.end_wallclock - f.start_wallclock == pytest.approx(f.duration, abs=SLACK)
    size = f.path.stat().st_size
    for i, seg in enumerate(pl.segments):
        assert seg.uri == f"{default_name('hls', f.start_wallclock, None)}_{i}.ts"
        path = f.path.parent / seg.uri
        size += path.stat().st_size
        with av.open(str(path)) as c:
            assert next(p for p in c.demux(video=0) if p.size).is_keyframe
        assert decodes_to_end(path) > 0
    assert f.size == size


def test_record_type_audio_drops_video(record, short_clip):
    run = record(short_clip, {"a": {"flv": 5, "mp4": 5, "hls": 0}}, specs={"a": {"record_type": "audio"}})
    assert run.events.files and not [f for f in run.events.files if f.error]
    for f in run.events.files:
        assert f.video_codec is None and f.audio_codec == "aac"
    for fmt in ("flv", "mp4"):
        for f in run.events.of(fmt):
            assert packet_pts(f.path)["video"] == []
    [hls] = run.events.of("hls")
    for seg in m3u8.load(str(hls.path)).segments:
        with av.open(str(hls.path.parent / seg.uri)) as c:
            assert not c.streams.video


def test_a_file_that_cannot_be_written_is_reported_not_fatal(record, short_clip):
    def name_for(fmt: str, start: float, end: float | None) -> str:
        return "../escape" if fmt == "mp4" else default_name(fmt, start, end)

    run = record(short_clip, {"r": {"mp4": 5, "flv": 5}}, specs={"r": {"name_for": name_for}})
    bad = run.events.of("mp4")
    assert bad and all(f.error and f.path is None for f in bad)
    assert len(run.events.of("flv")) == 3 and not any(f.error for f in run.events.of("flv"))
    assert run.events.finished == ["r"]


def test_several_recordings_share_one_spool(record, short_clip):
    run = record(short_clip, {"one": {"flv": 4}, "two": {"mp4": 6, "hls": 0}})
    assert len(run.events.of("flv", "one")) == 3
    assert len(run.events.of("mp4", "two")) == 2
    assert sorted(run.events.finished) == ["one", "two"]


def test_hls_writer_reopens_and_appends_after_a_discontinuity(tmp_path):
    path = tmp_path / "live.m3u8"
    w = HlsPlaylistWriter(path)
    w.add_segment(w.segment_name(), 2.0)
    w.add_segment(w.segment_name(), 2.5)
    assert "#EXT-X-ENDLIST" not in path.read_text()

    again = HlsPlaylistWriter.reopen(path)
    assert again.next_sequence == 2
    again.add_segment(again.segment_name(), 1.5)
    again.finish()

    pl = m3u8.load(str(path))
    assert [s.uri for s in pl.segments] == ["live_0.ts", "live_1.ts", "live_2.ts"]
    assert [s.discontinuity for s in pl.segments] == [False, False, True]
    assert pl.is_endlist and pl.target_duration == 3 and pl.media_sequence == 0
