"""Bad pushes never kill a worker nor corrupt finished files: a publisher killed mid-GOP, garbage in the payload."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path
from typing import Any

import av
import pytest

from liverecord.models import App
from recordings.choices import FileStatus, RecorderStatus
from recordings.models import PublishSession, RecordFile
from rules.models import Domain, RecordRule
from templates_app.models import RecordTemplate
from tests.e2e.conftest import wait_until
from tests.support.media import make_clip, push, push_generated

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def record_everything(name: str) -> None:
    app = App.objects.create(name=name)
    Domain.objects.create(app=app, name="127.0.0.1")
    template = RecordTemplate.objects.create(
        app=app,
        name="t",
        flv_enabled=True,
        flv_record_interval=5,
        mp4_enabled=True,
        mp4_record_interval=5,
        hls_enabled=True,
    )
    RecordRule.objects.create(app=app, template=template)


def decodes_to_the_end(path: str) -> int:
    frames = 0
    with av.open(path) as container:
        for packet in container.demux():
            try:
                frames += len(packet.decode())
            except av.error.InvalidDataError:
                continue  # a corrupt frame from the publisher is kept as sent; the file still reads to the end
    return frames


def test_a_publisher_killed_mid_gop(ingest: Any) -> None:
    record_everything("killed")
    publisher = push_generated(ingest.rtmp_url("killed"), seconds=None, gop_frames=50)
    time.sleep(8.5)
    os.kill(publisher.pid, signal.SIGKILL)
    publisher.wait()
    session = wait_until(
        lambda: PublishSession.objects.filter(stream_name="killed", recorder_status=RecorderStatus.DONE).first(),
        30,
        "the end",
    )
    assert session.status == "ended"
    files = wait_until(
        lambda: (f := list(RecordFile.objects.all())) and all(x.status != FileStatus.UPLOADING for x in f) and f,
        20,
        "files",
    )
    assert {f.format for f in files} == {"flv", "mp4", "hls"}
    assert all(f.status == FileStatus.STORED for f in files), [(f.format, f.error) for f in files]
    for record in files:
        assert decodes_to_the_end(record.local_path) > 0
    assert 6 <= sum(f.duration for f in files if f.format == "mp4") <= 9.5


def test_garbage_inside_the_payload(ingest: Any, tmp_path: Path) -> None:
    record_everything("garbage")
    clip = make_clip(tmp_path / "clip.flv", seconds=10)
    data = bytearray(clip.read_bytes())
    rng = random.Random(7)
    for _ in range(40):  # random bytes inside media payloads, past the FLV header and metadata
        at = rng.randrange(len(data) // 4, len(data) - 64)
        data[at : at + 16] = rng.randbytes(16)
    corrupt = tmp_path / "corrupt.flv"
    corrupt.write_bytes(bytes(data))
    publisher = push(ingest.rtmp_url("garbage"), corrupt)
    publisher.wait(timeout=60)
    wait_until(
        lambda: PublishSession.objects.filter(stream_name="garbage", recorder_status__in=["done", "failed"]).exists(),
        30,
        "the end",
    )
    wait_until(lambda: not RecordFile.objects.filter(status=FileStatus.UPLOADING).exists(), 20, "uploads")
    files = list(RecordFile.objects.all())
    assert files, "something was recorded"
    for record in files:
        assert record.status in (FileStatus.STORED, FileStatus.FAILED)
        if record.status == FileStatus.STORED:
            assert decodes_to_the_end(record.local_path) > 0
        else:
            assert record.error, "a failed file says why"
    # The worker survived: the next push is recorded normally.
    clean = push_generated(ingest.rtmp_url("after"), seconds=4)
    assert clean.wait(timeout=30) == 0
    wait_until(
        lambda: RecordFile.objects.filter(stream_name="after", status=FileStatus.STORED).count() == 3,
        30,
        "a clean push",
    )


def test_a_minute_without_a_keyframe(ingest: Any) -> None:
    """10 s with a keyframe every second, then 60 s with none, then 5 s with keyframes again. Files are cut at
    keyframes only, so the file that spans the drought runs over its 5 s; nothing is lost and nothing breaks."""
    record_everything("drought")
    keyframes = "expr:gte(t,if(lt(n_forced,10),n_forced,60+n_forced))"  # t = 0..9, then 70, 71, ...
    publisher = push_generated(
        ingest.rtmp_url("drought"), seconds=75, gop_frames=5000, extra_args=["-force_key_frames", keyframes]
    )
    early = wait_until(
        lambda: RecordFile.objects.filter(stream_name="drought", format="flv", status=FileStatus.STORED).first(),
        20,
        "a file from before the drought",
    )
    early_bytes = Path(early.local_path).read_bytes()
    assert publisher.wait(timeout=120) == 0
    wait_until(
        lambda: PublishSession.objects.filter(stream_name="drought", recorder_status=RecorderStatus.DONE).exists(),
        30,
        "the end",
    )
    files = wait_until(
        lambda: (
            (f := list(RecordFile.objects.order_by("start_time")))
            and all(x.status != FileStatus.UPLOADING for x in f)
            and f
        ),
        30,
        "files",
    )
    assert all(f.status == FileStatus.STORED for f in files), [(f.format, f.error) for f in files]
    assert Path(early.local_path).read_bytes() == early_bytes, "a finished file is never rewritten"
    for fmt in ("flv", "mp4"):
        series = [f for f in files if f.format == fmt]
        assert sum(f.duration for f in series) == pytest.approx(75, abs=2 / 25), fmt
        assert max(f.duration for f in series) >= 60, "the file over the drought could not be cut before it ends"
        for record in series:
            assert decodes_to_the_end(record.local_path) > 0
    playlist = next(f for f in files if f.format == "hls")
    text = Path(playlist.local_path).read_text()
    target = int(text.split("#EXT-X-TARGETDURATION:")[1].split()[0])
    longest = max(float(line.split(":")[1].rstrip(",")) for line in text.splitlines() if line.startswith("#EXTINF:"))
    assert longest >= 60 and round(longest) <= target, (longest, target)  # RFC 8216 4.3.3.1
