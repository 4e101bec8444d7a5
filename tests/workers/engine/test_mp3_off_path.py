"""MP3 is encoded away from the recorder: in other processes, at a lower priority, and the other formats of the
stream never wait for it (issue 17 item 2)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from concurrent.futures import Future
from pathlib import Path

import pytest

from tests.workers.engine.conftest import media_duration
from workers.engine import mp3_transcode

INTERVAL = 5


def test_the_encode_runs_in_a_lower_priority_process(tmp_path: Path, record, short_clip: Path) -> None:
    run = record(short_clip, {"r": {"aac": INTERVAL, "mp3": INTERVAL}})
    assert not [f for f in run.events.files if f.error]
    pool = mp3_transcode._pool
    assert pool is not None and pool._processes, "the pool encoded the files"
    own = os.getpriority(os.PRIO_PROCESS, 0)
    for pid in pool._processes:
        assert pid != os.getpid()
        assert os.getpriority(os.PRIO_PROCESS, pid) == min(own + mp3_transcode.NICENESS, 19)
    aac, mp3 = run.events.of("aac"), run.events.of("mp3")
    assert len(mp3) == len(aac), "the same cuts"
    for a, m in zip(aac, mp3, strict=True):
        assert (m.start_wallclock, m.end_wallclock) == (a.start_wallclock, a.end_wallclock)
        assert m.duration == pytest.approx(media_duration(m.path), abs=0.03)
        assert m.duration == pytest.approx(a.duration, abs=0.03)
        assert not list(m.path.parent.glob(".*.part")), "no temporary file is left"


def test_the_other_formats_never_wait_for_mp3(monkeypatch: pytest.MonkeyPatch, record, short_clip: Path) -> None:
    """With every encode held until the recording's last FLV file is made, the FLV files are not held up."""
    real = mp3_transcode.transcode_to_mp3

    def held_submit(adts: str, mp3: str, bit_rate: int) -> Future[float]:
        future: Future[float] = Future()

        def encode_later() -> None:
            deadline = time.monotonic() + 30
            while len(list(Path(adts).parent.glob("*.flv"))) < 3 and time.monotonic() < deadline:
                time.sleep(0.01)
            future.set_result(real(adts, mp3, bit_rate))

        threading.Thread(target=encode_later, daemon=True).start()
        return future

    monkeypatch.setattr(mp3_transcode, "submit", held_submit)
    run = record(short_clip, {"r": {"flv": INTERVAL, "mp3": INTERVAL}})
    assert [f.format for f in run.events.files] == ["flv"] * 3 + ["mp3"] * 3
    assert run.events.finished == ["r"], "the recording finishes once its MP3 files are out"
    assert sum(f.duration for f in run.events.of("mp3")) == pytest.approx(12, abs=0.1)


def test_without_a_system_ffmpeg_the_encode_falls_back_to_pyav(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, audio_clip: Path
) -> None:
    adts = tmp_path / "a.aac"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(audio_clip), "-c", "copy", str(adts)], check=True)
    by_cli = mp3_transcode.transcode_to_mp3(str(adts), str(tmp_path / "cli.mp3"), 128_000)
    monkeypatch.delenv(mp3_transcode.FFMPEG_ENV, raising=False)
    monkeypatch.setattr(mp3_transcode.shutil, "which", lambda name: None)
    by_pyav = mp3_transcode.transcode_to_mp3(str(adts), str(tmp_path / "pyav.mp3"), 128_000)
    assert by_cli == pytest.approx(by_pyav, abs=1e-6) == pytest.approx(10, abs=0.05)
    assert media_duration(tmp_path / "cli.mp3") == pytest.approx(media_duration(tmp_path / "pyav.mp3"), abs=0.03)
