"""The rate limit counts once for the whole service: gunicorn as ``make run`` starts it (deploy/Procfile: two
worker processes) lets an App through no more than ``LIVEREC_API_RATE`` requests per second in all."""

from __future__ import annotations

import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.e2e.conftest import wait_until
from tests.support.ports import free_port, wait_port

BASE_DIR = Path(__file__).resolve().parents[2]
LIMIT = 20
REQUESTS = 6 * LIMIT


def procfile_web_command() -> str:
    line = next(x for x in (BASE_DIR / "deploy" / "Procfile").read_text().splitlines() if x.startswith("web:"))
    return line.split(":", 1)[1].strip()


def redis_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture(params=["embedded", "redis"])
def web(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str, int]]:
    """``make run``'s web process on a fresh SQLite database; the cache is the embedded default or Redis."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CACHE_URL", "CELERY_BROKER_URL")}
    port = free_port()
    env.update(
        LIVEREC_VAR_DIR=str(tmp_path / "var"),
        LIVEREC_WEB_PORT=str(port),
        LIVEREC_API_RATE=f"{LIMIT}/s",
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    )
    if request.param == "redis":
        if not redis_reachable():
            pytest.skip("no Redis on 127.0.0.1:6379")
        env["CACHE_URL"] = os.environ.get("CACHE_URL") or "redis://127.0.0.1:6379/10"
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--no-input", "-v0"], cwd=BASE_DIR, env=env, check=True, timeout=180)
    out = subprocess.run(
        [*manage, "create_app", "limited"], cwd=BASE_DIR, env=env, check=True, timeout=60, capture_output=True
    ).stdout.decode()
    key = re.search(r"api_key: (\S+)", out)
    assert key is not None
    log = open(tmp_path / "web.log", "wb")  # noqa: SIM115 - the child owns it
    process = subprocess.Popen(
        ["bash", "-c", f"exec {procfile_web_command()}"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    try:
        wait_port(port, timeout=30)
        yield f"http://127.0.0.1:{port}", key.group(1), process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def worker_pids(parent: int) -> list[int]:
    children = Path(f"/proc/{parent}/task/{parent}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


@pytest.mark.slow
def test_the_limit_holds_across_gunicorn_workers(web: tuple[str, str, int]) -> None:
    url, key, master = web
    assert "--workers 2" in procfile_web_command()
    wait_until(lambda: len(worker_pids(master)) == 2, timeout=20, what="two gunicorn workers")
    headers = {"Authorization": f"Bearer {key}"}
    sessions = [requests.Session() for _ in range(8)]

    def call(index: int) -> tuple[int, str, float]:
        response = sessions[index % len(sessions)].get(f"{url}/api/v1/record-templates/", headers=headers, timeout=30)
        return response.status_code, response.headers.get("Retry-After", ""), time.time()

    # Start just after a second boundary, so the burst spans as few windows as it can.
    time.sleep(math.ceil(time.time()) - time.time() + 0.01)
    started = time.time()
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(call, range(REQUESTS)))
    finished = max(at for _, _, at in results)
    windows = math.floor(finished) - math.floor(started) + 1
    accepted = sum(1 for status, _, _ in results if status == 200)
    refused = [retry for status, retry, _ in results if status == 429]

    assert accepted + len(refused) == REQUESTS
    assert refused and all(int(retry) >= 1 for retry in refused)
    # Counted per process, two workers would let up to 2 * LIMIT through in every window.
    assert LIMIT <= accepted <= LIMIT * windows, (accepted, windows)
