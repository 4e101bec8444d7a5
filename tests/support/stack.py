"""The whole service as separate processes, as ``make run`` starts it: web (gunicorn), Celery workers and beat,
on a database and a broker of the test's choosing. Each part can be stopped (SIGTERM, then SIGKILL after a grace
period, as honcho and systemd do) and started again. The test talks to it over HTTP only: the REST API to set
it up and read what it recorded, nginx-rtmp's hooks to announce pushes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from deploy.nginx_rtmp import NginxRtmp
from tests.e2e.conftest import wait_until
from tests.support.ports import free_port, wait_port, wait_port_closed

__all__ = ["Stack"]

BASE_DIR = Path(__file__).resolve().parents[2]
HOOK_TOKEN = "stack-hook-token"


class Stack:
    def __init__(self, root: Path, *, database_url: str, broker_url: str, cache_url: str = "", **env: str) -> None:
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.web_port = free_port()
        base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")}
        self.env: dict[str, str] = {
            **base,
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": broker_url,
            "LIVEREC_VAR_DIR": str(root / "var"),
            "LIVEREC_WEB_PORT": str(self.web_port),
            "LIVEREC_HOOK_TOKEN": HOOK_TOKEN,
            "LIVEREC_ALLOW_PRIVATE_CALLBACKS": "1",
            "LIVEREC_MIN_RECORD_INTERVAL": "5",
            "LIVEREC_HEARTBEAT_SECONDS": "1",
            "LIVEREC_RECORDER_STALE_SECONDS": "4",
            "LIVEREC_HLS_SYNC_SECONDS": "2",
            "LIVEREC_UPLOAD_STUCK_SECONDS": "10",
            "LIVEREC_UPLOAD_LEASE_SECONDS": "10",
            "LOG_LEVEL": "INFO",
            **env,
        }
        if cache_url:
            self.env["CACHE_URL"] = cache_url
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._started = 0
        self.api_key = ""
        self.nginx: NginxRtmp | None = None

    @property
    def var(self) -> Path:
        return Path(self.env["LIVEREC_VAR_DIR"])

    @property
    def spool(self) -> Path:
        return self.var / "spool"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    # --- processes ---

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def setup(self) -> None:
        """Migrate the database and create the App whose API key the test uses."""
        self.manage("migrate", "--no-input", "-v0")
        out = self.manage("create_app", "stack")
        self.api_key = next(line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("api_key: "))

    def _spawn(self, name: str, command: list[str]) -> None:
        self._started += 1
        log = open(self.logs / f"{name}-{self._started}.log", "wb")  # noqa: SIM115 - the child owns it
        self.processes[name] = subprocess.Popen(
            command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def start_web(self) -> None:
        self._spawn(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "liverecord.wsgi",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "1",
                "--threads",
                "8",
                "--no-control-socket",
            ],
        )
        wait_port(self.web_port, timeout=30)

    def start_worker(self, name: str = "worker") -> None:
        self._spawn(
            name,
            [
                *(sys.executable, "-m", "celery", "-A", "liverecord", "worker"),
                *("-Q", "record,io,default", "-P", "threads", "-c", "16"),
                *("--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"),
                *("-n", f"{name}-{self._started}-{os.getpid()}@%h"),
            ],
        )

    def start_beat(self) -> None:
        self._spawn(
            "beat",
            [sys.executable, "-m", "celery", "-A", "liverecord", "beat", "-l", "INFO", "-s", str(self.root / "beat")],
        )

    def start(self) -> None:
        self.start_web()
        self.start_worker()
        self.start_beat()

    def stop(self, name: str, *, grace: float = 5.0) -> None:
        """SIGTERM, then SIGKILL to whatever is left after ``grace`` seconds (a Celery warm shutdown waits for its
        recorders, which run as long as the push: the supervisor's kill ends them, as in production)."""
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if name == "web":
            wait_port_closed(self.web_port)

    def stop_all(self, *, grace: float = 5.0) -> None:
        for name in list(self.processes):
            self.stop(name, grace=grace)

    # --- ingest ---

    def start_ingest(self) -> NginxRtmp:
        """nginx-rtmp as ``make run`` starts it (recording every push for the recorder to follow)."""
        port = free_port()
        hook = f"{self.url}/hooks/nginx-rtmp/?token={HOOK_TOKEN}&ingest=127.0.0.1:{port}"
        folder = self.root / "nginx"
        self.nginx = NginxRtmp(folder, port, hook, record_dir=folder / "record").start()
        return self.nginx

    def close(self) -> None:
        self.stop_all(grace=10)
        if self.nginx is not None:
            self.nginx.stop()

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- API ---

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(
            method,
            f"{self.url}/api/v1/{path.lstrip('/')}",
            headers={"Authorization": f"Bearer {self.api_key}"},
            timeout=15,
            **kwargs,
        )
        if response.status_code >= 400:
            raise AssertionError(f"{method} {path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def all(self, path: str, **params: Any) -> list[dict[str, Any]]:
        """Every row of a list endpoint, all pages."""
        rows: list[dict[str, Any]] = []
        page = 1
        while True:
            body = self.api("GET", path, params={**params, "page": page, "page_size": 100})
            rows += body["results"]
            if not body.get("next"):
                return rows
            page += 1

    def logs_text(self) -> str:
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-4000:]}" for p in sorted(self.logs.glob("*")))


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, stack: Stack | None = None) -> Any:
    """``wait_until`` through the stack's HTTP API: a request refused while a part restarts counts as not yet;
    on timeout the processes' logs are in the message."""

    def tolerant() -> Any:
        try:
            return predicate()
        except (requests.RequestException, AssertionError):
            return None

    try:
        return wait_until(tolerant, timeout, what)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{stack.logs_text()}" if stack else str(exc)) from None
