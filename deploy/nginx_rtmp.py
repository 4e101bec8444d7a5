"""nginx + nginx-rtmp ingest: render its config and run it (tests, benchmarks, ``make run``, Procfile).

Plain Python, no Django import.

* :func:`render_config` turns ``deploy/nginx_rtmp.conf.template`` into a complete ``nginx.conf`` that
  keeps pid, logs and temp paths inside its own prefix directory and runs in the foreground
  (``daemon off``), so the process that starts nginx owns it.
* :class:`NginxRtmp` starts/stops such an nginx as a subprocess (context manager).
* ``python -m deploy.nginx_rtmp --prefix var/nginx --rtmp-port 1935 --hook-url URL`` renders the
  config and *execs* nginx in the foreground, for a Procfile line under honcho.

Hook URLs: nginx-rtmp speaks plain HTTP only (no https) and sends form-encoded POSTs (``call=publish``,
``publish_done``, ``update``) to the URL as written, query string (``?token=...``) included.
A non-2xx answer to ``publish`` refuses the push; a non-2xx answer to ``update`` drops a running
publisher, so the hook must answer 2xx to updates unless it wants the push cut.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from urllib.parse import urlencode, urlsplit

__all__ = [
    "NGINX_BIN",
    "RTMP_MODULE",
    "TEMPLATE_PATH",
    "NginxRtmp",
    "NginxRtmpError",
    "main",
    "render_config",
]

NGINX_BIN = Path("/usr/sbin/nginx")
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
TEMPLATE_PATH = Path(__file__).with_name("nginx_rtmp.conf.template")

_APP_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_DURATION = re.compile(r"^\d+(ms|s|m|h)?$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


class NginxRtmpError(RuntimeError):
    """nginx did not start (the message carries the tail of its error log)."""


def _quote(value: str) -> str:
    """Quote a value for nginx.conf (double quotes; backslash and quote escaped)."""
    if any(c in value for c in "\r\n\0"):
        raise ValueError(f"control character in nginx config value: {value!r}")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check_hook_url(hook_url: str) -> None:
    parts = urlsplit(hook_url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"nginx-rtmp hooks need a plain http:// URL with a host, got {hook_url!r}")
    if any(c.isspace() for c in hook_url):
        raise ValueError(f"whitespace in hook URL {hook_url!r}")


def _check_duration(name: str, value: str) -> None:
    if not _DURATION.match(value):
        raise ValueError(f"{name} must be an nginx duration like '30s', got {value!r}")


def render_config(
    *,
    prefix_dir: Path,
    rtmp_port: int,
    hook_url: str,
    http_port: int | None = None,
    record_dir: Path | None = None,
    apps: Sequence[str] = ("live",),
    listen_host: str = "127.0.0.1",
    allow_play: Sequence[str] = ("127.0.0.1",),
    notify_update_timeout: str = "30s",
    drop_idle_publisher: str = "60s",
    idle_streams: bool = False,
    error_log: str | None = None,
    log_level: str = "info",
    user: str | None = None,
) -> str:
    """Return a complete nginx.conf for an nginx-rtmp ingest.

    prefix_dir: holds pid, lock, logs/ and tmp/ (made absolute; :class:`NginxRtmp` creates the dirs).
    rtmp_port / listen_host: where the RTMP server listens (default loopback only).
    hook_url: ``http://host:port/hooks/nginx-rtmp/?token=...`` used for on_publish, on_publish_done,
        on_update.
    http_port: if given, an HTTP server on 127.0.0.1 with ``/healthz``, ``/stat`` (rtmp_stat XML) and
        ``/control`` (rtmp_control, e.g. ``/control/drop/publisher?app=live&name=demo``).
    record_dir: if given, nginx-rtmp records every push itself as FLV (``record all``, ``record_unique on``,
        ``record_lock on``) and the hook URL gets ``record_dir=<folder>``: a recorder on this host follows that
        file from the push's first packet (``workers/engine/follow.py``) and deletes it when the push ends.
    apps: RTMP application names (nginx-rtmp only accepts pushes to named applications).
    allow_play: addresses allowed to pull (``"all"`` for anyone); everything else is denied.
    notify_update_timeout: period of the ``call=update`` hook.
    drop_idle_publisher: a publisher sending nothing this long is disconnected.
    idle_streams: nginx-rtmp's idle_streams. Off (default): a player of a stream nobody publishes
        is refused, and players are disconnected when the publisher leaves (a recorder sees EOF at once).
    error_log: nginx error_log target (default ``<prefix>/logs/error.log``; ``"stderr"`` for honcho).
    user: worker user; default ``root`` when running as root (workers must write inside prefix_dir
        and record_dir, which root created), no directive otherwise.
    """
    _check_hook_url(hook_url)
    _check_duration("notify_update_timeout", notify_update_timeout)
    _check_duration("drop_idle_publisher", drop_idle_publisher)
    if not 0 < int(rtmp_port) < 65536:
        raise ValueError(f"bad rtmp_port {rtmp_port!r}")
    if http_port is not None and not 0 < int(http_port) < 65536:
        raise ValueError(f"bad http_port {http_port!r}")
    apps = list(apps)
    if not apps:
        raise ValueError("at least one RTMP application name is needed")
    for app in apps:
        if not _APP_NAME.match(app):
            raise ValueError(f"bad RTMP application name {app!r}")
    if len(set(apps)) != len(apps):
        raise ValueError(f"duplicate RTMP application names in {apps!r}")
    if not re.match(r"^[A-Za-z0-9_.:\[\]*-]+$", listen_host):
        raise ValueError(f"bad listen_host {listen_host!r}")
    for addr in allow_play:
        if not re.match(r"^[A-Za-z0-9_.:/]+$", addr):
            raise ValueError(f"bad allow_play entry {addr!r}")

    prefix = Path(prefix_dir).resolve()
    if user is None and hasattr(os, "geteuid") and os.geteuid() == 0:
        user = "root"

    if record_dir is not None:
        hook_url += ("&" if urlsplit(hook_url).query else "?") + urlencode(
            {"record_dir": str(Path(record_dir).resolve())}
        )
    url = _quote(hook_url)
    app_blocks = []
    for app in apps:
        lines = [
            f"application {app} {{",
            "    live on;",
            f"    idle_streams {'on' if idle_streams else 'off'};",
            # wait_key stays off (the default): with wait_key on, video reaches a new player only
            # at the next keyframe, after PyAV's short probe ended, and PyAV then never sees the
            # video stream at all. The recorder drops packets before the first keyframe itself.
            "    wait_key off;",
            "    allow publish all;",
        ]
        lines += [f"    allow play {addr};" for addr in allow_play]
        if "all" not in allow_play:
            lines.append("    deny play all;")
        lines += [
            f"    on_publish {url};",
            f"    on_publish_done {url};",
            f"    on_update {url};",
        ]
        if record_dir is not None:
            lines += [
                "    record all;",
                f"    record_path {_quote(str(Path(record_dir).resolve()))};",
                "    record_unique on;",
                "    record_lock on;",
                "    record_suffix .flv;",
            ]
        else:
            lines.append("    record off;")
        lines.append("}")
        app_blocks.append("\n".join(" " * 8 + line for line in lines))

    http_block = ""
    if http_port is not None:
        temp_paths = "\n".join(f"    {name}_temp_path {_quote(str(prefix / 'tmp' / name))};" for name in _TEMP_DIRS)
        http_block = f"""
http {{
    access_log {_quote(str(prefix / "logs" / "access.log"))};
{temp_paths}
    server {{
        # control endpoints: loopback only, whatever listen_host is
        listen 127.0.0.1:{int(http_port)};
        location = /healthz {{
            default_type text/plain;
            return 200 "ok\\n";
        }}
        location /stat {{
            rtmp_stat all;
        }}
        location /control {{
            rtmp_control all;
        }}
    }}
}}
"""

    values = {
        "prefix_dir": str(prefix),
        "user_line": f"user {user};" if user else "# (no user directive: not running as root)",
        "error_log": error_log if error_log == "stderr" else _quote(error_log or str(prefix / "logs" / "error.log")),
        "log_level": log_level,
        "listen_host": listen_host,
        "rtmp_port": str(int(rtmp_port)),
        "notify_update_timeout": notify_update_timeout,
        "drop_idle_publisher": drop_idle_publisher,
        "applications": "\n\n".join(app_blocks),
        "http_block": http_block,
    }
    template = TEMPLATE_PATH.read_text()

    def substitute(m: re.Match[str]) -> str:
        try:
            return values[m.group(1)]
        except KeyError:
            raise ValueError(f"unknown placeholder {m.group(0)} in {TEMPLATE_PATH}") from None

    return _PLACEHOLDER.sub(substitute, template)


def prepare_prefix(prefix_dir: Path, record_dir: Path | None = None) -> None:
    """Create the directories nginx expects under prefix_dir (and record_dir)."""
    prefix = Path(prefix_dir)
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    for name in _TEMP_DIRS:
        (prefix / "tmp" / name).mkdir(parents=True, exist_ok=True)
    if record_dir is not None:
        Path(record_dir).mkdir(parents=True, exist_ok=True)


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
                return self
            time.sleep(0.02)
        tail = self.log_tail()
        self.stop()
        raise NginxRtmpError(
            f"nginx did not accept on {self.host}:{self.rtmp_port} within {self.start_timeout}s\n{tail}"
        )

    def stop(self, timeout: float = 10.0) -> None:
        """Fast shutdown (SIGTERM), wait; SIGKILL master and workers if they linger. Idempotent."""
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


def main(argv: Sequence[str] | None = None) -> None:
    """CLI: render the config into <prefix>/nginx.conf and exec nginx in the foreground."""
    env = os.environ
    p = argparse.ArgumentParser(prog="python -m deploy.nginx_rtmp", description=main.__doc__)
    p.add_argument("--prefix", type=Path, default=Path(env.get("LIVEREC_NGINX_PREFIX", "var/nginx")))
    p.add_argument("--rtmp-port", type=int, default=int(env.get("LIVEREC_RTMP_PORT", "1935")))
    p.add_argument(
        "--hook-url",
        default=env.get("LIVEREC_NGINX_HOOK_URL"),
        help="e.g. http://127.0.0.1:8000/hooks/nginx-rtmp/?token=X",
    )
    p.add_argument("--listen-host", default=env.get("LIVEREC_RTMP_HOST", "127.0.0.1"))
    p.add_argument("--http-port", type=int, default=None, help="127.0.0.1 port for /stat, /control")
    p.add_argument(
        "--record-dir",
        type=Path,
        default=None,
        help="nginx-rtmp records every push here too; recorders on this host follow those files",
    )
    p.add_argument(
        "--app", dest="apps", action="append", default=None, help="RTMP application name (repeatable; default: live)"
    )
    p.add_argument(
        "--allow-play",
        action="append",
        default=None,
        help="address allowed to pull (repeatable; default 127.0.0.1; 'all' for anyone)",
    )
    p.add_argument("--error-log", default="stderr", help="'stderr' (default) or a file path")
    p.add_argument("--print", dest="print_only", action="store_true", help="print the config and exit")
    p.add_argument("--test", action="store_true", help="write the config and run nginx -t")
    args = p.parse_args(argv)
    if not args.hook_url:
        p.error("--hook-url (or LIVEREC_NGINX_HOOK_URL) is required")

    prefix = args.prefix.resolve()
    conf = render_config(
        prefix_dir=prefix,
        rtmp_port=args.rtmp_port,
        hook_url=args.hook_url,
        http_port=args.http_port,
        record_dir=args.record_dir,
        apps=args.apps or ["live"],
        listen_host=args.listen_host,
        allow_play=args.allow_play or ["127.0.0.1"],
        error_log=args.error_log,
    )
    if args.print_only:
        sys.stdout.write(conf)
        return
    prepare_prefix(prefix, args.record_dir)
    conf_path = prefix / "nginx.conf"
    conf_path.write_text(conf)
    cmd = [str(NGINX_BIN), "-c", str(conf_path), "-p", str(prefix) + "/"]
    if args.error_log != "stderr":
        cmd += ["-e", args.error_log]
    if args.test:
        sys.exit(subprocess.call([*cmd, "-t"]))
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(cmd[0], cmd)  # noqa: S606 - become nginx, so the process manager signals it


if __name__ == "__main__":
    main()
