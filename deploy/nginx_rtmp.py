"""nginx + nginx-rtmp ingest: render its config and run it (tests, benchmarks, ``make run``, Procfile).

* ``deploy.nginx_config``: :func:`render_config` (the generated ``nginx.conf``, hook URL rules).
* ``deploy.nginx_process``: :class:`NginxRtmp` starts/stops such an nginx as a subprocess (context manager).
* ``python -m deploy.nginx_rtmp --prefix var/nginx --rtmp-port 1935 --hook-url URL`` renders the
  config and *execs* nginx in the foreground, for a Procfile line under honcho. With ``--record-dir`` it
  stays nginx's parent instead (signals passed on, nginx's exit status returned) and runs the record
  janitor beside it (``deploy.record_janitor``).

Plain Python, no Django import.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from deploy.nginx_config import NGINX_BIN, RTMP_MODULE, TEMPLATE_PATH, prepare_prefix, render_config
from deploy.nginx_process import NginxRtmp, NginxRtmpError
from deploy.record_janitor import KEEP_SECONDS, RecordJanitor

__all__ = [
    "NGINX_BIN",
    "RTMP_MODULE",
    "TEMPLATE_PATH",
    "NginxRtmp",
    "NginxRtmpError",
    "main",
    "render_config",
]


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
        "--record-keep-seconds",
        type=float,
        default=KEEP_SECONDS,
        help="media kept at the end of a record file no recorder follows (default %(default)s)",
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
    if args.record_dir is None:
        os.execv(cmd[0], cmd)  # noqa: S606 - become nginx, so the process manager signals it
    sys.exit(run_with_janitor(cmd, args.record_dir, keep_seconds=args.record_keep_seconds))


def run_with_janitor(cmd: list[str], record_dir: Path, *, keep_seconds: float) -> int:
    """Run nginx as a child with the record janitor beside it; the process manager's signals go to nginx."""
    proc = subprocess.Popen(cmd)
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1):
        signal.signal(signum, lambda n, _frame: proc.send_signal(n))
    janitor = RecordJanitor(record_dir, keep_seconds=keep_seconds).start()
    try:
        return proc.wait()
    finally:
        janitor.stop()


if __name__ == "__main__":
    main()
