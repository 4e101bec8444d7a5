"""Whole-worker cost: the CPU of ``make run``'s Celery worker (every process it starts) per recorded stream,
against one ``ffmpeg -c copy`` per stream (B) and one ``ffmpeg`` per stream writing the same five outputs (B5).

    .venv/bin/python -m benchmarks.worker_cost --streams 5 --seconds 20            # quick check (~2 min)
    .venv/bin/python -m benchmarks.worker_cost --streams 20 --seconds 60 --formats flv,mp4,hls,aac

One run, everything in a private temp dir (its own ``LIVEREC_VAR_DIR``: embedded SQLite, kombu's filesystem
broker, local storage; or ``--database-url``/``--broker-url``/``--cache-url``):

1. ``migrate``; an App, the push domain ``127.0.0.1`` with a callback URL to a HookReceiver in this process,
   a template with ``--formats`` (record_interval ``--record-interval``) and a catch-all rule.
2. The stack of ``make run`` as processes (``deploy/Procfile``): gunicorn (web), ``celery worker`` (queues
   record,io,default, thread pool), ``celery beat``, nginx-rtmp with ``record all`` and its janitor.
3. N pushers (``-re -stream_loop -1 -c copy``) of one 720p30 2 Mb/s clip (``record_cost``'s), 0.25 s apart. At
   each push's start, on the same nginx and the same pushes: **B** ``ffmpeg -i rtmp://... -c copy -f flv`` and
   **B5** ``ffmpeg -i rtmp://...`` writing FLV, MP4, HLS, AAC (copy) and MP3 (libmp3lame, 128 kb/s, LAME -q 7
   as the engine) at once.
4. **A** is the CPU of every process of the worker's process group (the worker, its MP3 encoders), sampled
   from ``/proc`` every 0.5 s, from the first push until every recorder is done, every file is stored and
   every stored file's callback 100 is delivered ("stored and announced"). B and B5 are each ffmpeg's exit
   rusage. Beat and web are reported apart (they serve every worker).

Writes ``benchmarks/out/worker_cost.json`` and prints one table. The box is shared: read the ratios of one run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks._proc import CLK_TCK, Measured, _stat_fields
from benchmarks.record_cost import make_bench_clip
from benchmarks.soak import CALLBACK_KEY, Proc, configure_environment, log, log_has, settled, wait_for

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
FFMPEG = "ffmpeg"
PULL_RETRY_FOR = 10.0


def group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ProcessLookupError):
                if os.getpgid(int(entry.name)) == pgid:
                    pids.append(int(entry.name))
    return pids


class GroupCpu:
    """CPU seconds of every process of a process group, children that come and go included: a process's own
    CPU while it is seen, plus what its parent collected of children it waited for (``cutime``/``cstime``) that
    were never seen (an MP3 encode shorter than the sampling period), without counting a seen child twice."""

    def __init__(self, pgid: int, period: float = 0.25) -> None:
        self.pgid = pgid
        self.period = period
        self.own: dict[int, float] = {}
        self.waited: dict[int, float] = {}
        self.parent: dict[int, int] = {}
        self.procs_seen: set[int] = set()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def sample(self) -> float:
        with self._lock:
            alive = set()
            for pid in group_pids(self.pgid):
                with contextlib.suppress(OSError, IndexError, ValueError):
                    f = _stat_fields(pid)
                    self.parent[pid] = int(f[1])
                    self.own[pid] = max(self.own.get(pid, 0.0), (int(f[11]) + int(f[12])) / CLK_TCK)
                    self.waited[pid] = max(self.waited.get(pid, 0.0), (int(f[13]) + int(f[14])) / CLK_TCK)
                    self.procs_seen.add(pid)
                    alive.add(pid)
            total = sum(self.own.values())
            for pid, waited in self.waited.items():
                seen_and_gone = sum(self.own[c] for c, pp in self.parent.items() if pp == pid and c not in alive)
                total += max(0.0, waited - seen_and_gone)
            return total

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            self.sample()

    def start(self) -> GroupCpu:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def b5_outputs(out: Path) -> list[str]:
    """One ffmpeg writing the engine's five outputs from one pull (the MP3 at the engine's bitrate and LAME -q)."""
    out.mkdir(parents=True, exist_ok=True)
    return [
        "-map", "0:v", "-map", "0:a", "-c", "copy", "-f", "flv", str(out / "b5.flv"),
        "-map", "0:v", "-map", "0:a", "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(out / "b5.mp4"),
        "-map", "0:v", "-map", "0:a", "-c", "copy", "-f", "hls", "-hls_time", "2", "-hls_list_size", "0",
        str(out / "b5.m3u8"),
        "-map", "0:a", "-c", "copy", "-f", "adts", str(out / "b5.aac"),
        "-map", "0:a", "-c:a", "libmp3lame", "-b:a", "128k", "-compression_level", "7", "-f", "mp3",
        str(out / "b5.mp3"),
    ]  # fmt: skip


class Puller:
    """One ffmpeg pulling a stream from nginx, retried while nginx refuses a player (the push not up yet)."""

    def __init__(self, role: str, url: str, outputs: list[str], log_path: Path) -> None:
        self.role, self.url, self.outputs, self.log_path = role, url, outputs, log_path
        self.attempts: list[Measured] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        deadline = time.monotonic() + PULL_RETRY_FOR
        while True:
            with open(self.log_path, "ab") as err:
                m = Measured(
                    [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", self.url, *self.outputs],
                    role=self.role,
                    stderr=err,
                )
            self.attempts.append(m)
            m.wait()
            ran = (m.ended_at or time.time()) - m.started_at
            if m.returncode != 0 and ran < 3.0 and time.monotonic() < deadline:
                time.sleep(0.05)
                continue
            return

    def cpu(self) -> float:
        return sum(m.cpu or 0.0 for m in self.attempts)


def setup_database(formats: list[str], interval: int, callback_url: str) -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from liverecord.models import App
    from rules.models import Domain, RecordRule
    from templates_app.models import RecordTemplate

    app = App.objects.create(name="worker-cost")
    Domain.objects.create(app=app, name="127.0.0.1", callback_url=callback_url, callback_key=CALLBACK_KEY)
    fields: dict[str, Any] = {}
    for fmt in formats:
        fields[f"{fmt}_enabled"] = True
        if fmt != "hls":
            fields[f"{fmt}_record_interval"] = interval
    template = RecordTemplate.objects.create(app=app, name="cost", **fields)
    RecordRule.objects.create(app=app, template=template)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from deploy.nginx_rtmp import NginxRtmp
    from tests.support.hook_receiver import HookReceiver
    from tests.support.media import push, stop_push
    from tests.support.ports import free_port, wait_port

    formats = args.formats.split(",")
    tmp = Path(tempfile.mkdtemp(prefix="liverec-worker-cost-"))
    var_dir, log_dir, pulled = tmp / "var", tmp / "logs", tmp / "pulled"
    for d in (var_dir, log_dir, pulled):
        d.mkdir()
    web_port, rtmp_port = free_port(), free_port()
    env = configure_environment(var_dir, args, web_port, rtmp_port)
    env["LIVEREC_WORKER_THREADS"] = str(args.worker_threads)
    receiver = HookReceiver(status=200).start()
    setup_database(formats, args.record_interval, receiver.url("/liverecord/callback"))
    clip = make_bench_clip(args.seconds, OUT)
    procs: list[Proc] = []
    pushers: list[Any] = []
    pullers: dict[str, list[Puller]] = {"B": [], "B5": []}
    nginx = None
    result: dict[str, Any] = {"args": vars(args), "nproc": os.cpu_count(), "loadavg_at_start": os.getloadavg()}
    try:
        web = Proc(
            "web",
            [sys.executable, "-m", "gunicorn", "liverecord.wsgi", "--bind", f"127.0.0.1:{web_port}",
             "--workers", "2", "--threads", "8"],
            log_dir / "web.log", env,
        )  # fmt: skip
        worker = Proc(
            "worker",
            [sys.executable, "-m", "celery", "-A", "liverecord", "worker", "-Q", "record,io,default", "-P", "threads",
             "-c", str(args.worker_threads), "-l", "INFO", "--without-gossip", "--without-mingle",
             "--without-heartbeat"],
            log_dir / "worker.log", env,
        )  # fmt: skip
        beat = Proc(
            "beat",
            [sys.executable, "-m", "celery", "-A", "liverecord", "beat", "-l", "INFO",
             "-s", str(tmp / "beat-schedule")],
            log_dir / "beat.log", env,
        )  # fmt: skip
        procs += [web, worker, beat]
        wait_port(web_port, timeout=60)
        wait_for(lambda: log_has(worker.log_path, " ready."), 90, "the worker")
        hook = f"http://127.0.0.1:{web_port}/hooks/nginx-rtmp/?token={env['LIVEREC_HOOK_TOKEN']}&ingest=127.0.0.1:{rtmp_port}"
        nginx = NginxRtmp(tmp / "nginx", rtmp_port, hook, record_dir=tmp / "nginx" / "record").start()
        a_cpu = GroupCpu(worker.pid).start()
        a0, beat0, web0 = a_cpu.sample(), GroupCpu(beat.pid).sample(), GroupCpu(web.pid).sample()
        t0 = time.time()
        for i in range(args.streams):
            name = f"w{i:03d}"
            url = nginx.rtmp_url(name)
            pushers.append(push(url, clip, loop=-1, extra_args=["-t", f"{args.seconds:g}"]))
            out = pulled / name
            out.mkdir()
            pullers["B"].append(
                Puller("B", url, ["-c", "copy", "-f", "flv", str(out / "b.flv")], log_dir / f"{name}.b.log")
            )
            pullers["B5"].append(Puller("B5", url, b5_outputs(out), log_dir / f"{name}.b5.log"))
            time.sleep(args.stagger)
        for p in pushers:
            p.wait(timeout=args.seconds + 60)
        log(f"{args.streams} pushes of {args.seconds:g} s ended")
        wait_for(lambda: settled()[0], args.settle_timeout, "every file stored and announced", period=1.0)
        settled_at = time.time()
        a1 = a_cpu.sample()
        a_cpu.stop()
        for side in pullers.values():
            for p in side:
                p.thread.join(timeout=30)
        from recordings.models import RecordFile

        files = list(RecordFile.objects.values_list("format", "status", "duration"))
        stream_seconds = args.streams * args.seconds
        b, b5 = (sum(p.cpu() for p in pullers[k]) for k in ("B", "B5"))
        result.update(
            {
                "wall_first_push_to_announced": round(settled_at - t0, 2),
                "cpu": {
                    "A_worker": round(a1 - a0, 2),
                    "B_ffmpeg_copy": round(b, 2),
                    "B5_ffmpeg_five": round(b5, 2),
                    "beat": round(GroupCpu(beat.pid).sample() - beat0, 2),
                    "web": round(GroupCpu(web.pid).sample() - web0, 2),
                },
                "worker_processes_seen": len(a_cpu.procs_seen),
                "files": {
                    fmt: {
                        "n": sum(1 for f, _, _ in files if f == fmt),
                        "not_stored": sum(1 for f, s, _ in files if f == fmt and s != "stored"),
                        "seconds": round(sum(d or 0 for f, _, d in files if f == fmt), 2),
                    }
                    for fmt in formats
                },
                "stream_seconds": stream_seconds,
            }
        )
        cpu = result["cpu"]
        result["pct_core_per_stream"] = {k: round(100 * v / stream_seconds, 3) for k, v in cpu.items()}
        result["ratio_A_over_B"] = round(cpu["A_worker"] / cpu["B_ffmpeg_copy"], 2) if cpu["B_ffmpeg_copy"] else None
        result["ratio_A_over_B5"] = round(cpu["A_worker"] / cpu["B5_ffmpeg_five"], 2) if cpu["B5_ffmpeg_five"] else None
    finally:
        for p in pushers:
            with contextlib.suppress(Exception):
                stop_push(p)
        Measured.stop_all()
        if nginx is not None:
            with contextlib.suppress(Exception):
                nginx.stop()
        for p in reversed(procs):
            with contextlib.suppress(Exception):
                p.stop()
        receiver.stop()
        with contextlib.suppress(Exception):
            shutil.copytree(log_dir, OUT / "worker_cost_logs", dirs_exist_ok=True)
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    return result


def table(r: dict[str, Any]) -> str:
    pct = r["pct_core_per_stream"]
    lines = [
        f"{r['args']['streams']} streams x {r['args']['seconds']:g} s, formats {r['args']['formats']}, "
        f"{r['nproc']} cores (shared: indicative), first push -> all stored and announced "
        f"{r['wall_first_push_to_announced']} s",
        "side                                  CPU s   % core/stream",
    ]
    names = {
        "A_worker": "A  liverecord worker (all processes)",
        "B_ffmpeg_copy": "B  ffmpeg -c copy -> FLV, per stream",
        "B5_ffmpeg_five": "B5 ffmpeg -> FLV+MP4+HLS+AAC+MP3",
        "beat": "   celery beat",
        "web": "   web (hooks, gunicorn)",
    }
    for key, label in names.items():
        lines.append(f"{label:<37} {r['cpu'][key]:>6.2f}   {pct[key]:.3f}")
    lines.append(f"A / B = {r['ratio_A_over_B']}x   A / B5 = {r['ratio_A_over_B5']}x")
    lines.append(
        "files: "
        + ", ".join(f"{k} {v['n']} ({v['not_stored']} not stored, {v['seconds']} s)" for k, v in r["files"].items())
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--formats", default="flv,mp4,hls,aac")
    parser.add_argument("--record-interval", type=int, default=60)
    parser.add_argument("--stagger", type=float, default=0.25)
    parser.add_argument("--worker-threads", type=int, default=64)
    parser.add_argument("--settle-timeout", type=float, default=180.0)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--broker-url", default="")
    parser.add_argument("--cache-url", default="")
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--json", type=Path, default=OUT / "worker_cost.json")
    args = parser.parse_args(argv)
    # configure_environment's knobs (soak's): quick upload retries, no backup waits in a short run.
    args.backup_retry_seconds, args.upload_retry_delays = 30, "1,2"
    OUT.mkdir(parents=True, exist_ok=True)
    result = run(args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, default=str))
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
