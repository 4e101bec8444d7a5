"""The nginx-rtmp ingest's config: :func:`render_config` turns ``deploy/nginx_rtmp.conf.template`` into a complete
``nginx.conf`` that keeps pid, logs and temp paths inside its own prefix directory and runs in the foreground
(``daemon off``), so the process that starts nginx owns it. Plain Python, no Django import.

Hook URLs: nginx-rtmp speaks plain HTTP only (no https) and sends form-encoded POSTs (``call=publish``,
``publish_done``, ``update``) to the URL as written, query string (``?token=...``) included.
A non-2xx answer to ``publish`` refuses the push; a non-2xx answer to ``update`` drops a running
publisher, so the hook must answer 2xx to updates unless it wants the push cut.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlencode, urlsplit

NGINX_BIN = Path("/usr/sbin/nginx")
RTMP_MODULE = Path("/usr/lib/nginx/modules/ngx_rtmp_module.so")
TEMPLATE_PATH = Path(__file__).with_name("nginx_rtmp.conf.template")

_APP_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_DURATION = re.compile(r"^\d+(ms|s|m|h)?$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


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
