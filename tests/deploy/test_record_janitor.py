"""The record janitor beside nginx-rtmp: a push nobody follows keeps its head and the last seconds (issue 16 item 2)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deploy.record_janitor import RecordJanitor
from deploy.record_wait import EXPIRES_SECONDS, WAITING_DIR, awaited_files, record_wait_clear, record_wait_mark
from tests.support.hook_receiver import HookReceiver
from tests.support.media import push_generated
from tests.support.ports import free_port, wait_port, wait_port_closed
from workers.engine import follow

from .conftest import HOOK_PATH

REPO_ROOT = Path(__file__).resolve().parents[2]


def allocated(folder: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in folder.glob("*.flv"))


def test_a_sweep_trims_every_file_of_the_folder(tmp_path: Path, clip6: Path) -> None:
    for name in ("a-1700000000.flv", "b-1700000001.flv"):
        (tmp_path / name).write_bytes(clip6.read_bytes())
    janitor = RecordJanitor(tmp_path, keep_seconds=2)
    if follow._fallocate.func is None:
        pytest.skip("this filesystem cannot punch holes")
    assert janitor.sweep() > clip6.stat().st_size // 2
    assert allocated(tmp_path) < 2 * clip6.stat().st_size * 0.7
    assert janitor.sweep() == 0


@pytest.mark.e2e
def test_the_cli_with_a_record_dir_runs_nginx_and_trims_its_record_files(tmp_path: Path, hooks: HookReceiver) -> None:
    port = free_port()
    record_dir = tmp_path / "record"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "deploy.nginx_rtmp", "--prefix", str(tmp_path / "nginx"), "--rtmp-port", str(port),
            "--hook-url", hooks.url(HOOK_PATH), "--record-dir", str(record_dir), "--record-keep-seconds", "3",
        ],
        cwd=REPO_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_port(port, timeout=10)
        assert Path(f"/proc/{proc.pid}/exe").resolve() != Path("/usr/sbin/nginx"), "nginx runs as its child"
        publisher = push_generated(f"rtmp://127.0.0.1:{port}/live/trim", seconds=14, bitrate="2000k")
        peak = 0
        while publisher.poll() is None:
            peak = max(peak, allocated(record_dir))
            time.sleep(0.25)
        assert publisher.returncode == 0
        pushed = sum(p.stat().st_size for p in record_dir.glob("*.flv"))
        assert pushed > 2_500_000, pushed
        assert peak < pushed / 2, (peak, pushed)
        proc.send_signal(signal.SIGTERM)  # what honcho sends: passed on to nginx
        assert proc.wait(timeout=15) == 0
        wait_port_closed(port, timeout=5)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def test_the_record_file_of_a_push_a_queued_recorder_waits_for_is_left_whole(tmp_path: Path, clip6: Path) -> None:
    """A recorder queued behind full or starved workers still finds the push's start (issue 17)."""
    if follow._fallocate.func is None:
        pytest.skip("this filesystem cannot punch holes")
    hook = 1_700_000_000.4
    awaited, other = tmp_path / "queued-1700000001.flv", tmp_path / "nobody-1700000001.flv"
    for path in (awaited, other):
        path.write_bytes(clip6.read_bytes())
    assert record_wait_mark(record_dir=tmp_path, stream_name="queued", hook_time=hook)
    janitor = RecordJanitor(tmp_path, keep_seconds=2)
    assert janitor.sweep() > 0
    assert awaited.stat().st_blocks * 512 >= clip6.stat().st_size, "the awaited file keeps every byte"
    assert other.stat().st_blocks * 512 < clip6.stat().st_size * 0.7, "a file nothing waits for is trimmed"
    record_wait_clear(record_dir=tmp_path, stream_name="queued", hook_time=hook)
    assert janitor.sweep() > 0, "once the recorder is done with it, it is trimmed like any other"
    assert awaited.stat().st_blocks * 512 < clip6.stat().st_size * 0.7


def test_a_marker_nobody_removed_expires(tmp_path: Path) -> None:
    assert record_wait_mark(record_dir=tmp_path, stream_name="gone", hook_time=1_700_000_000)
    assert "gone-1700000000.flv" in awaited_files(tmp_path, now=time.time())
    assert awaited_files(tmp_path, now=time.time() + EXPIRES_SECONDS + 1) == set()
    assert not any((tmp_path / WAITING_DIR).iterdir()), "the expired marker is removed"
    assert record_wait_mark(record_dir=tmp_path / "elsewhere", stream_name="x", hook_time=1) is False
