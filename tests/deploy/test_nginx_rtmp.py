"""nginx-rtmp ingest: config rendering, hooks, pulling with PyAV, refusal, start/stop.

What nginx-rtmp 1.2.2 (Debian libnginx-mod-rtmp, nginx 1.22) actually sends, observed here
------------------------------------------------------------------------------------------
Every hook is ``POST <hook_url as configured>`` (``?token=...`` kept in the request line) with
headers ``Host: 127.0.0.1`` (no port), ``Content-Type: application/x-www-form-urlencoded``,
``Connection: Close``, HTTP/1.0 style, a fresh TCP connection each time. Body fields, in order:

* ``call=publish`` -- push ``rtmp://127.0.0.1:<port>/live/demo?txSecret=abc&txTime=6a000000``::

    app=live  flashver=FMLE/3.0 (compatible; Lavf59.27  swfurl=  tcurl=rtmp://127.0.0.1:<port>/live
    pageurl=  addr=127.0.0.1  clientid=2  call=publish  name=demo  type=live
    txSecret=abc  txTime=6a000000

  ``tcurl`` is the URL up to the app (no stream, no query): its host is the push domain. The
  push query arguments are appended as-is as extra form fields (a publisher could therefore send
  ``?call=...`` or ``?app=...``: the module's own fields come first, so take the FIRST value of a
  repeated field). ``name`` never carries the query string. ``clientid`` is nginx's connection
  number (unique per nginx run only).
* ``call=update_publish`` every ``notify_update_timeout`` (configured ``call`` is ``update``, the
  module sends ``update_publish`` for publishers and ``update_play`` for players, e.g. the
  recorder's own pull)::

    app flashver swfurl tcurl pageurl addr clientid  call=update_publish  time=<s since publish>
    timestamp=<stream timestamp, ms>  name  + the push query arguments

  ``update_play`` has the same fields without the push query (the player's query instead).
  A non-2xx answer to an update DROPS that client (publisher or player).
* ``call=publish_done`` when the publisher disconnects (or is dropped)::

    app flashver swfurl tcurl pageurl addr clientid  call=publish_done  name  + the push query

  No ``type``; a refused push (403 to ``publish``) gets no ``publish_done``.

Timings (loopback, 2 vCPU; printed by ``test_publish_pull_and_publish_done`` under ``-s``): the publish
hook arrives ~0.25 s after ``ffmpeg`` is started (ffmpeg start-up + RTMP handshake); a PyAV pull
opened when the hook arrives (short probe: probesize 32768, analyzeduration 0.5 s) returns after
~0.55-0.65 s with its first packet, so ~0.8-0.9 s from ffmpeg start. ``publish_done`` arrives as
the publisher closes the connection (~50 ms before the ffmpeg process has exited).

Behaviour that matters to the recorder
--------------------------------------
* A stream exists for players only once the publish hook has ANSWERED 2xx. A pull started before
  (e.g. from inside the hook) fails with PermissionError (EPERM, "live: stream not found"): retry.
* With ``idle_streams off`` (our config) players are disconnected when the publisher leaves: PyAV
  raises ``OSError`` errno 5 (EIO), not a clean EOF. With idle_streams on, a player would hang
  forever (only update_play hooks keep coming).
* ``wait_key on`` must stay off: the video would reach a new player only at the next keyframe,
  after PyAV's short probe, and PyAV then never exposes the video stream (audio only).
  With it off, the first video packets are not keyframes: the recorder drops them.
* Hook unreachable or non-2xx: the push is refused (fails closed).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from deploy.nginx_rtmp import NginxRtmp, NginxRtmpError, render_config
from tests.support.hook_receiver import HookReceiver
from tests.support.media import (
    open_pull,
    probe,
    pull_packets,
    push,
    push_generated,
    stop_push,
)
from tests.support.ports import free_port, port_is_open, wait_port, wait_port_closed

from .conftest import HAVE_NGINX_RTMP, HOOK_PATH

REPO_ROOT = Path(__file__).resolve().parents[2]
QUERY = "txSecret=abc&txTime=6a000000"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if text in cmdline:
                pids.append(int(entry.name))
    return pids


# --- render_config (no processes) ---------------------------------------------------------------


def test_render_config_basics(tmp_path: Path) -> None:
    conf = render_config(
        prefix_dir=tmp_path / "p", rtmp_port=19351, hook_url="http://127.0.0.1:8000/hooks/nginx-rtmp/?token=X"
    )
    prefix = str((tmp_path / "p").resolve())
    assert "{{" not in conf
    assert "load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;" in conf
    assert "daemon off;" in conf
    assert f"pid {prefix}/nginx.pid;" in conf
    assert f'error_log "{prefix}/logs/error.log" info;' in conf
    assert "listen 127.0.0.1:19351;" in conf
    assert "application live {" in conf
    assert "live on;" in conf
    assert "notify_method post;" in conf
    assert "notify_update_timeout 30s;" in conf
    assert "drop_idle_publisher 60s;" in conf
    for hook in ("on_publish", "on_publish_done", "on_update"):
        assert f'{hook} "http://127.0.0.1:8000/hooks/nginx-rtmp/?token=X";' in conf
    assert "record off;" in conf and "record all;" not in conf
    assert "http {" not in conf
    if os.geteuid() == 0:
        assert "user root;" in conf


def test_render_config_apps_record_http(tmp_path: Path) -> None:
    conf = render_config(
        prefix_dir=tmp_path,
        rtmp_port=1935,
        hook_url="http://h:1/x?token=y",
        http_port=8080,
        record_dir=tmp_path / "rec",
        apps=["live", "edu"],
        allow_play=["all"],
        notify_update_timeout="5s",
    )
    assert conf.count("application ") == 2 and "application edu {" in conf
    assert conf.count("record all;") == 2
    assert f'record_path "{(tmp_path / "rec").resolve()}";' in conf
    assert "record_unique on;" in conf and "record_lock on;" in conf
    # the hooks tell the service where this ingest records: a recorder on this host follows those files
    assert f"/x?token=y&record_dir={quote(str((tmp_path / 'rec').resolve()), safe='')}" in conf
    assert "allow play all;" in conf and "deny play all;" not in conf
    assert "notify_update_timeout 5s;" in conf
    assert "listen 127.0.0.1:8080;" in conf and "rtmp_stat all;" in conf
    for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        assert f'{name}_temp_path "{tmp_path.resolve()}/tmp/{name}";' in conf


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hook_url": "https://127.0.0.1/x"},  # nginx-rtmp has no TLS client
        {"hook_url": "http://127.0.0.1/x y"},
        {"apps": []},
        {"apps": ["li ve"]},
        {"apps": ["live", "live"]},
        {"notify_update_timeout": "30 s"},
        {"rtmp_port": 0},
    ],
)
def test_render_config_rejects(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    args: dict[str, Any] = {
        "prefix_dir": tmp_path,
        "rtmp_port": 1935,
        "hook_url": "http://127.0.0.1:8000/hooks/nginx-rtmp/?token=X",
    }
    args.update(kwargs)
    with pytest.raises(ValueError):
        render_config(**args)


@pytest.mark.skipif(not HAVE_NGINX_RTMP, reason="nginx + rtmp module not installed")
def test_rendered_config_passes_nginx_t(tmp_path: Path) -> None:
    ngx = NginxRtmp(
        tmp_path / "nginx",
        free_port(),
        "http://127.0.0.1:9/h?token=t",
        http_port=free_port(),
        record_dir=tmp_path / "rec",
        apps=["live", "edu"],
    )
    conf = ngx.write_config()
    res = subprocess.run(
        ["/usr/sbin/nginx", "-t", "-c", str(conf), "-p", f"{ngx.conf_dir}/", "-e", "stderr"],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0, res.stderr


# --- a real nginx ---------------------------------------------------------------------------------


@pytest.mark.e2e
def test_publish_pull_and_publish_done(ingest: NginxRtmp, hooks: HookReceiver, clip6: Path) -> None:
    t0 = time.monotonic()
    pusher = push(ingest.rtmp_url("demo", query=QUERY), clip6)
    try:
        pub = hooks.wait_for_call("publish", timeout=10)
        t_hook = pub.received_monotonic - t0

        assert pub.method == "POST"
        assert pub.path == "/hooks/nginx-rtmp/"
        assert pub.query == {"token": "test-token"}
        assert pub.headers["content-type"] == "application/x-www-form-urlencoded"
        f = pub.form
        assert f["call"] == "publish"
        assert f["app"] == "live"
        assert f["name"] == "demo"
        assert f["type"] == "live"
        tcurl = urlsplit(f["tcurl"])
        assert (tcurl.scheme, tcurl.hostname, tcurl.port, tcurl.path) == (
            "rtmp",
            "127.0.0.1",
            ingest.rtmp_port,
            "/live",
        )
        assert f["addr"] == "127.0.0.1"
        assert f["clientid"].isdigit()
        assert f["txSecret"] == "abc" and f["txTime"] == "6a000000"
        assert "flashver" in f and "swfurl" in f and "pageurl" in f

        # a recorder pulls while the push goes on
        packets, info = pull_packets(ingest.rtmp_url("demo"), max_seconds=2.5)
        t_first = packets[0]["at"] - t0
        assert sorted(info["streams"]) == [("audio", "aac"), ("video", "h264")]
        types = {p["type"] for p in packets}
        assert types == {"audio", "video"}
        assert any(p["type"] == "video" and p["keyframe"] for p in packets)

        rc = pusher.wait(timeout=20)
        assert rc == 0, pusher.stderr.read() if pusher.stderr else ""
        t_end = time.monotonic()
    finally:
        stop_push(pusher)

    done = hooks.wait_for_call("publish_done", timeout=10)
    d = done.form
    assert d["app"] == "live" and d["name"] == "demo"
    assert d["clientid"] == f["clientid"] and d["addr"] == "127.0.0.1"
    assert d["tcurl"] == f["tcurl"]
    assert d["txSecret"] == "abc" and d["txTime"] == "6a000000"
    assert "type" not in d
    assert done.received_monotonic - t_end < 2.0
    # exactly one publish and one publish_done for one push
    assert len(hooks.calls("publish")) == 1 and len(hooks.calls("publish_done")) == 1
    print(
        f"\n[timing] publish hook {t_hook:.3f}s after ffmpeg start; first PyAV packet "
        f"{t_first:.3f}s; pull opened {info['opened_at'] - pub.received_monotonic:.3f}s after hook; "
        f"publish_done {done.received_monotonic - t_end:+.3f}s vs ffmpeg exit"
    )


@pytest.mark.e2e
def test_pull_sees_end_of_stream(ingest: NginxRtmp, hooks: HookReceiver, clip3: Path) -> None:
    pusher = push(ingest.rtmp_url("eos"), clip3)
    try:
        hooks.wait_for_call("publish", timeout=10)
        packets, info = pull_packets(ingest.rtmp_url("eos"), max_seconds=30)
        # idle_streams off: the player is disconnected when the publisher leaves
        assert info["end"] in ("eio", "eof")
        assert packets and packets[-1]["at"] - info["opened_at"] < 6
        assert pusher.wait(timeout=10) == 0
    finally:
        stop_push(pusher)


@pytest.mark.e2e
def test_pull_before_publish_is_refused_then_retry_works(ingest: NginxRtmp, hooks: HookReceiver, clip3: Path) -> None:
    # nothing published: nginx refuses the player at once (EPERM)
    with pytest.raises(PermissionError):
        open_pull(ingest.rtmp_url("nobody"), retry_for=0)
    # a pull started while the publish hook is still answering succeeds thanks to the retry
    hooks.delay = 0.5
    pusher = push(ingest.rtmp_url("late"), clip3)
    try:
        hooks.wait_for_call("publish", timeout=10)
        container = open_pull(ingest.rtmp_url("late"), retry_for=5)
        try:
            assert {s.type for s in container.streams} == {"audio", "video"}
        finally:
            container.close()
    finally:
        stop_push(pusher)


@pytest.mark.e2e
def test_update_hook(tmp_path: Path, hooks: HookReceiver) -> None:
    with NginxRtmp(tmp_path / "nginx", free_port(), hooks.url(HOOK_PATH), notify_update_timeout="1s") as ingest:
        pusher = push_generated(ingest.rtmp_url("upd", query=QUERY), seconds=10)
        try:
            pub = hooks.wait_for_call("publish", timeout=10)
            upd = hooks.wait_for_call("update_publish", timeout=5)
            u = upd.form
            assert u["app"] == "live" and u["name"] == "upd"
            assert u["clientid"] == pub.form["clientid"]
            assert u["tcurl"] == pub.form["tcurl"]
            assert u["txSecret"] == "abc" and u["txTime"] == "6a000000"
            assert u["time"].isdigit() and u["timestamp"].isdigit()
            assert not hooks.calls("update")  # the module never sends plain call=update

            # a non-2xx answer to an update drops the publisher
            hooks.handler = lambda r: 403 if r.form.get("call") == "update_publish" else 200
            rc = pusher.wait(timeout=5)
            assert rc != 0
            hooks.wait_for_call("publish_done", timeout=5)
        finally:
            stop_push(pusher)


@pytest.mark.e2e
def test_hook_403_refuses_push(ingest: NginxRtmp, hooks: HookReceiver, clip6: Path) -> None:
    hooks.status = 403
    t0 = time.monotonic()
    pusher = push(ingest.rtmp_url("demo", query=QUERY), clip6)
    try:
        rc = pusher.wait(timeout=10)
    finally:
        stop_push(pusher)
    assert rc != 0
    assert time.monotonic() - t0 < 5
    assert [r.form.get("call") for r in hooks.requests] == ["publish"]
    assert hooks.requests[0].status == 403
    with pytest.raises(PermissionError):  # nothing to pull
        open_pull(ingest.rtmp_url("demo"), retry_for=0)


@pytest.mark.e2e
def test_unreachable_hook_refuses_push(tmp_path: Path, clip3: Path) -> None:
    dead = free_port()
    with NginxRtmp(tmp_path / "nginx", free_port(), f"http://127.0.0.1:{dead}/h?token=t") as ingest:
        pusher = push(ingest.rtmp_url("demo"), clip3)
        try:
            assert pusher.wait(timeout=10) != 0
        finally:
            stop_push(pusher)


@pytest.mark.e2e
def test_record_dir_benchmark_mode(tmp_path: Path, hooks: HookReceiver, clip3: Path) -> None:
    rec = tmp_path / "rec"
    with NginxRtmp(tmp_path / "nginx", free_port(), hooks.url(HOOK_PATH), record_dir=rec) as ingest:
        pusher = push(ingest.rtmp_url("bench"), clip3)
        try:
            assert pusher.wait(timeout=15) == 0
        finally:
            stop_push(pusher)
        hooks.wait_for_call("publish_done", timeout=5)
    files = list(rec.glob("bench-*.flv"))
    assert len(files) == 1
    info = probe(files[0])
    assert sorted(s["codec_name"] for s in info["streams"]) == ["aac", "h264"]
    assert float(info["format"]["duration"]) == pytest.approx(3.0, abs=0.3)


@pytest.mark.e2e
def test_stop_leaves_nothing_running(tmp_path: Path, hooks: HookReceiver) -> None:
    ingest = NginxRtmp(tmp_path / "nginx", free_port(), hooks.url(HOOK_PATH), http_port=free_port())
    ingest.start()
    try:
        master = ingest.pid
        assert master is not None
        workers = ingest.worker_pids()
        assert len(workers) == 1
        assert Path(ingest.pid_path).read_text().strip() == str(master)
        assert port_is_open(ingest.rtmp_port) and port_is_open(ingest.http_port or 0)
        # an active push must not keep nginx alive on stop
        pusher = push_generated(ingest.rtmp_url("busy"), seconds=30)
        hooks.wait_for_call("publish", timeout=10)
    finally:
        ingest.stop()
    try:
        assert not ingest.running()
        assert not port_is_open(ingest.rtmp_port)
        assert not port_is_open(ingest.http_port or 0)
        assert not _alive(master)
        assert not any(_alive(w) for w in workers)
        assert _processes_mentioning(str(ingest.conf_path)) == []
        assert pusher.wait(timeout=10) != 0  # the publisher lost its server
    finally:
        stop_push(pusher)
    ingest.stop()  # idempotent
    # the port can be reused right away
    with NginxRtmp(tmp_path / "nginx2", ingest.rtmp_port, hooks.url(HOOK_PATH)):
        assert port_is_open(ingest.rtmp_port)


@pytest.mark.e2e
def test_start_errors_carry_the_log(tmp_path: Path) -> None:
    port = free_port()
    # bound but not listening: the TCP probe says free, nginx's bind() fails
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", port))
    try:
        with pytest.raises(NginxRtmpError, match="Address already in use"):
            NginxRtmp(tmp_path / "a", port, "http://127.0.0.1:9/h").start()
        blocker.listen()
        with pytest.raises(NginxRtmpError, match="already in use"):
            NginxRtmp(tmp_path / "b", port, "http://127.0.0.1:9/h").start()
    finally:
        blocker.close()


@pytest.mark.e2e
def test_cli_execs_nginx_in_foreground(tmp_path: Path, hooks: HookReceiver, clip3: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "deploy.nginx_rtmp",
            "--prefix",
            str(tmp_path / "var" / "nginx"),
            "--rtmp-port",
            str(port),
            "--hook-url",
            hooks.url(HOOK_PATH),
        ],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    output: list[bytes] = []
    reader = threading.Thread(target=lambda: output.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:
        wait_port(port, timeout=10)
        # exec: the python process became the nginx master
        assert Path(f"/proc/{proc.pid}/exe").resolve() == Path("/usr/sbin/nginx")
        assert (tmp_path / "var" / "nginx" / "nginx.pid").read_text().strip() == str(proc.pid)
        pusher = push(f"rtmp://127.0.0.1:{port}/live/cli", clip3)
        try:
            assert hooks.wait_for_call("publish", timeout=10).form["name"] == "cli"
        finally:
            stop_push(pusher)
        proc.send_signal(signal.SIGTERM)  # what honcho sends
        assert proc.wait(timeout=10) == 0
        wait_port_closed(port, timeout=5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(timeout=5)
    # error_log goes to stderr (the process manager's log)
    assert b"notify: publish" in b"".join(output)
