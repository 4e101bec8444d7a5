"""A real push through nginx-rtmp, recorded by a real worker into every format; files checked with PyAV."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import av
import m3u8
import pytest

from liverecord.models import App
from recordings.choices import FileStatus, RecorderStatus, SessionStatus, TaskStatus
from recordings.models import PublishSession, RecordFile, RecordTask
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.e2e.conftest import settled_files, wait_until
from tests.support.media import make_clip, push

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

FPS = 25
GOP = 1.0
PUSHED = 25.0


@pytest.fixture(scope="module")
def clip25(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip25.flv", seconds=int(PUSHED), gop_frames=int(FPS * GOP))


def media_duration(path: Path) -> float:
    """Seconds of media: the container's duration, or for ADTS/MP3 (whose header duration is a bitrate
    estimate) the decoded samples over the sample rate."""
    with av.open(str(path)) as container:
        if container.streams.video:
            return float(container.duration or 0) / av.time_base
        audio = container.streams.audio[0]
        samples = sum(frame.samples for frame in container.decode(audio))
        return samples / audio.codec_context.sample_rate


def decode_all(path: Path) -> tuple[bool, int]:
    """(first video packet is a keyframe, frames decoded to the end)."""
    first_key, frames = True, 0
    with av.open(str(path)) as container:
        video = container.streams.video[0] if container.streams.video else None
        seen_video = False
        for packet in container.demux():
            if packet.size == 0:
                continue
            if video is not None and packet.stream is video and not seen_video:
                first_key, seen_video = packet.is_keyframe, True
            frames += len(packet.decode())
    return first_key, frames


def test_a_push_is_recorded_into_every_format(ingest: Any, clip25: Path) -> None:
    app = App.objects.create(name="e2e")
    Domain.objects.create(app=app, name="127.0.0.1")
    template = RecordTemplate.objects.create(
        app=app,
        name="everything",
        flv_enabled=True,
        flv_record_interval=10,
        mp4_enabled=True,
        mp4_record_interval=10,
        aac_enabled=True,
        aac_record_interval=10,
        mp3_enabled=True,
        mp3_record_interval=10,
        hls_enabled=True,
    )
    RecordRule.objects.create(app=app, template=template)

    publisher = push(ingest.rtmp_url("demo"), clip25)
    assert publisher.wait(timeout=60) == 0
    session = wait_until(
        lambda: PublishSession.objects.filter(recorder_status__in=[RecorderStatus.DONE, RecorderStatus.FAILED]).first(),
        45,
        "the recorder to finish",
    )
    assert session.status == SessionStatus.ENDED
    assert session.recorder_status == RecorderStatus.DONE, session.end_reason
    assert (session.video_codec, session.audio_codec, session.width, session.height) == ("h264", "aac", 320, 240)
    assert session.gop_seconds == pytest.approx(GOP, abs=0.05)
    task = RecordTask.objects.get()
    assert task.status == TaskStatus.FINISHED

    files = settled_files()
    assert all(f.status == FileStatus.STORED for f in files), [(f.format, f.error) for f in files]
    by_format: dict[str, list[RecordFile]] = {}
    for f in files:
        by_format.setdefault(f.format, []).append(f)
    assert set(by_format) == {"flv", "mp4", "aac", "mp3", "hls"}

    tolerance = 1 / FPS + GOP
    for fmt in ("flv", "mp4", "aac", "mp3"):
        parts = by_format[fmt]
        assert len(parts) == 3, (fmt, [p.duration for p in parts])
        for part in parts[:-1]:
            # Video formats cut at the first keyframe at or after 10 s; audio ones at the audio frame there.
            low, high = (10, 10 + GOP + 1 / FPS + 0.05) if fmt in ("flv", "mp4") else (9.92, 10.08)
            assert low <= part.duration <= high, (fmt, part.duration)
        total = sum(media_duration(Path(p.local_path)) for p in parts)
        # The recorder follows nginx's own record of the push from its first packet: nothing is lost at the
        # start (a pull over RTMP would begin one GOP late), nothing at the end, no packet twice.
        assert total == pytest.approx(PUSHED, abs=2 / FPS), (fmt, total)
        for part in parts:
            path = Path(part.local_path)
            assert path.is_file() and path.stat().st_size == part.size
            first_key, frames = decode_all(path)
            assert frames > 0
            if fmt in ("flv", "mp4"):
                assert first_key, (fmt, part.name)
                assert (part.video_codec, part.width, part.height) == ("h264", 320, 240)
    assert {f.audio_codec for f in by_format["mp3"]} == {"mp3"}

    (playlist_row,) = by_format["hls"]
    playlist = m3u8.load(playlist_row.local_path)
    assert playlist.is_endlist
    extinf_sum = sum(segment.duration for segment in playlist.segments)
    assert extinf_sum == pytest.approx(PUSHED, abs=tolerance + 0.6)
    for segment in playlist.segments:
        assert (Path(playlist_row.local_path).parent / segment.uri).is_file()

    mp4 = Path(by_format["mp4"][0].local_path).read_bytes()
    assert mp4.index(b"moov") < mp4.index(b"mdat"), "MP4 must be faststart"
    probe = subprocess.run(
        ["ffprobe", "-v", "error", str(by_format["mp4"][0].local_path)], capture_output=True, text=True
    )
    assert probe.returncode == 0 and probe.stderr == ""


def test_a_push_to_an_ingest_on_another_host_is_pulled_over_rtmp(pull_ingest: Any, clip25: Path) -> None:
    """No record folder this host can see: the recorder joins the live stream over RTMP.

    nginx-rtmp has no GOP cache, so the pull starts at the first keyframe after it joined: the file misses
    at most the GOP that was under way (plus the recorder's start), and nothing after that.
    """
    app = App.objects.create(name="pull")
    Domain.objects.create(app=app, name="127.0.0.1")
    template = RecordTemplate.objects.create(app=app, name="flv", flv_enabled=True, flv_record_interval=3600)
    RecordRule.objects.create(app=app, template=template)

    publisher = push(pull_ingest.rtmp_url("pulled"), clip25)
    assert publisher.wait(timeout=60) == 0
    session = wait_until(
        lambda: PublishSession.objects.filter(recorder_status__in=[RecorderStatus.DONE, RecorderStatus.FAILED]).first(),
        45,
        "the recorder to finish",
    )
    assert session.ingest_record_dir == ""
    assert session.recorder_status == RecorderStatus.DONE, session.end_reason
    (flv,) = settled_files(format="flv")
    assert flv.status == FileStatus.STORED, flv.error
    first_key, frames = decode_all(Path(flv.local_path))
    assert first_key and frames > 0
    assert PUSHED - 2 * GOP - 1 <= media_duration(Path(flv.local_path)) <= PUSHED + 1 / FPS
