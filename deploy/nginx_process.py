"""An nginx-rtmp ingest running as a child process (tests, benchmarks): :class:`NginxRtmp`. Plain Python."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from deploy.nginx_config import NGINX_BIN, prepare_prefix, render_config
from deploy.record_janitor import KEEP_SECONDS, RecordJanitor


class NginxRtmpError(RuntimeError):
    """nginx did not start (the message carries the tail of its error log)."""


def _port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    """PIDs whose parent is pid (Linux /proc)."""
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...; comm may contain spaces/parens
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            kids.append(int(entry.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not running
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        return state != "Z"
    except OSError:
        return False


class NginxRtmp:
    """An nginx-rtmp ingest running as a child process, from its own prefix directory.

    >>> with NginxRtmp(tmp_path / "nginx", rtmp_port=free_port(), hook_url=url) as ingest:
    ...     push(ingest.publish_url("demo"), clip)

    conf_dir is the nginx prefix: it receives nginx.conf, nginx.pid, logs/ and tmp/.
    Extra keyword arguments go to :func:`render_config`.
    """

    def __init__(
        self,
        conf_dir: Path,
        rtmp_port: int,
        hook_url: str,
        *,
        http_port: int | None = None,
        record_dir: Path | None = None,
        apps: Sequence[str] = ("live",),
        start_timeout: float = 10.0,
        record_keep_seconds: float = KEEP_SECONDS,
        **render_kwargs: object,
    ) -> None:
        self.conf_dir = Path(conf_dir).resolve()
        self.rtmp_port = int(rtmp_port)
        self.hook_url = hook_url
        self.http_port = http_port
        self.record_dir = Path(record_dir).resolve() if record_dir is not None else None
        self.apps = list(apps)
        self.start_timeout = start_timeout
        self.render_kwargs = render_kwargs
        self.host = "127.0.0.1"
        self.process: subprocess.Popen[bytes] | None = None
        self.record_keep_seconds = record_keep_seconds
        #: Trims the record files nobody follows while nginx runs (only with record_dir).
        self.janitor: RecordJanitor | None = None

    # paths -------------------------------------------------------------------------------------
    @property
    def conf_path(self) -> Path:
        return self.conf_dir / "nginx.conf"

    @property
    def pid_path(self) -> Path:
        return self.conf_dir / "nginx.pid"

    @property
    def error_log_path(self) -> Path:
        return self.conf_dir / "logs" / "error.log"

    @property
    def stderr_path(self) -> Path:
        return self.conf_dir / "logs" / "stderr.log"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def rtmp_url(self, stream: str, app: str = "live", query: str = "") -> str:
        """``rtmp://127.0.0.1:<port>/<app>/<stream>[?query]`` (push or pull)."""
        url = f"rtmp://{self.host}:{self.rtmp_port}/{app}/{stream}"
        return f"{url}?{query}" if query else url

    publish_url = rtmp_url

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for path in (self.stderr_path, self.error_log_path):
            try:
                text = path.read_text(errors="replace").splitlines()
            except OSError:
                continue
            if text:
                out.append(f"--- {path} ---")
                out.extend(text[-lines:])
        return "\n".join(out)

    # lifecycle ---------------------------------------------------------------------------------
    def render(self) -> str:
        return render_config(
            prefix_dir=self.conf_dir,
            rtmp_port=self.rtmp_port,
            hook_url=self.hook_url,
            http_port=self.http_port,
            record_dir=self.record_dir,
            apps=self.apps,
            **self.render_kwargs,  # type: ignore[arg-type]
        )

    def write_config(self) -> Path:
        prepare_prefix(self.conf_dir, self.record_dir)
        self.conf_path.write_text(self.render())
        return self.conf_path

    def start(self) -> NginxRtmp:
        if self.process is not None and self.process.poll() is None:
            raise NginxRtmpError(f"nginx already running (pid {self.process.pid})")
        listen_host = str(self.render_kwargs.get("listen_host", "127.0.0.1"))
        if listen_host not in ("0.0.0.0", "*", "[::]"):
            self.host = listen_host
        if _port_open(self.host, self.rtmp_port):
            raise NginxRtmpError(f"port {self.host}:{self.rtmp_port} is already in use")
        self.write_config()
        with open(self.stderr_path, "ab") as stderr:
            self.process = subprocess.Popen(
                [
                    str(NGINX_BIN),
                    "-c",
                    str(self.conf_path),
                    "-p",
                    str(self.conf_dir) + "/",
                    "-e",
                    str(self.error_log_path),
                ],
                stdin=subprocess.DEVNULL,
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,  # a Ctrl-C in the test terminal is not sent to nginx
            )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                rc = self.process.returncode
                self.process = None
                raise NginxRtmpError(f"nginx exited with status {rc} on start\n{self.log_tail()}")
            if _port_open(self.host, self.rtmp_port) and (
                self.http_port is None or _port_open("127.0.0.1", self.http_port)
            ):
                if self.record_dir is not None:
                    self.janitor = RecordJanitor(self.record_dir, keep_seconds=self.record_keep_seconds).start()
                return self
            time.sleep(0.02)
        tail = self.log_tail()
        self.stop()
        raise NginxRtmpError(
            f"nginx did not accept on {self.host}:{self.rtmp_port} within {self.start_timeout}s\n{tail}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Fast shutdown (SIGTERM), wait; SIGKILL master and workers if they linger. Idempotent."""
        if self.janitor is not None:
            self.janitor.stop()
            self.janitor = None
        proc = self.process
        if proc is None:
            return
        workers = _children(proc.pid)
        if proc.poll() is None:
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                workers = sorted(set(workers) | set(_children(proc.pid)))
                proc.kill()
                proc.wait(timeout=5)
        # workers exit with the master on SIGTERM; make sure after a SIGKILL of the master.
        deadline = time.monotonic() + 5
        for wpid in workers:
            while _alive(wpid) and time.monotonic() < deadline:
                time.sleep(0.02)
            if _alive(wpid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(wpid, signal.SIGKILL)
        self.process = None

    def reload(self) -> None:
        """Re-render the config and ask nginx to reload it (SIGHUP)."""
        if self.process is None or self.process.poll() is not None:
            raise NginxRtmpError("nginx is not running")
        self.write_config()
        self.process.send_signal(signal.SIGHUP)

    def worker_pids(self) -> list[int]:
        """PIDs of the nginx worker processes (children of the master)."""
        return _children(self.process.pid) if self.process is not None else []

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def __enter__(self) -> NginxRtmp:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
