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
