"""A muxer error never fails a file whose packets are in the spool: the file is cut there (issue 17)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import av.error
import pytest

from tests.workers.engine.conftest import GOP, Recorded, packet_pts
from workers.engine import file_series
from workers.engine.file_series import FileSeries
from workers.engine.media import ChunkPacket

INTERVAL = 5


@pytest.fixture
def refuse_packet(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, Callable[[ChunkPacket], bool]], None]]:
    """Make the muxer of one format refuse, once, the first packet that matches, as FFmpeg does with
    ``Invalid argument: 'av_interleaved_write_frame' returned 22``."""
    write = FileSeries._write

    def arm(fmt: str, matches: Callable[[ChunkPacket], bool]) -> None:
        armed = {"left": 1}

        def refusing(self: FileSeries, f: file_series._File, cp: ChunkPacket) -> None:
            if self.fmt == fmt and armed["left"] and f.packets > GOP and matches(cp):
                armed["left"] = 0
                av.error.err_check(-22, "av_interleaved_write_frame")
            write(self, f, cp)

        monkeypatch.setattr(FileSeries, "_write", refusing)

    yield arm


def video_packets(run: Recorded, fmt: str) -> int:
    return sum(len(packet_pts(f.path)["video"]) for f in run.events.of(fmt) if f.path is not None)


@pytest.mark.parametrize("fmt", ["mp4", "flv"])
def test_a_refused_keyframe_cuts_the_file_and_loses_nothing(record, short_clip: Path, refuse_packet, fmt: str) -> None:
    reference = record(short_clip, {"ref": {fmt: INTERVAL}})
    refuse_packet(fmt, lambda cp: cp.kind == "video" and cp.keyframe)
    run = record(short_clip, {"r": {fmt: INTERVAL}})
    files = run.events.of(fmt)
    assert files and not [f for f in files if f.error], "no file fails"
    assert len(files) == len(reference.events.of(fmt)) + 1, "one more cut, where the muxer refused"
    assert video_packets(run, fmt) == len(packet_pts(short_clip)["video"]), "every frame is in a file"


def test_a_refused_frame_inside_a_gop_costs_at_most_the_rest_of_that_gop(record, short_clip: Path, refuse_packet):
    refuse_packet("mp4", lambda cp: cp.kind == "video" and not cp.keyframe)
    run = record(short_clip, {"r": {"mp4": INTERVAL, "flv": INTERVAL}})
    assert not [f for f in run.events.files if f.error]
    pushed = len(packet_pts(short_clip)["video"])
    assert video_packets(run, "flv") == pushed, "the other formats never notice"
    assert pushed - GOP < video_packets(run, "mp4") < pushed
