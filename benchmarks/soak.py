"""Soak: N concurrent pushes for M minutes through the real stack, with a worker kill and a storage outage.

    .venv/bin/python -m benchmarks.soak --streams 20 --minutes 10     # the reported figure
    .venv/bin/python -m benchmarks.soak --streams 4 --minutes 2       # quick check (~5 min)

Everything runs in a private temp dir (its own ``LIVEREC_VAR_DIR``: embedded SQLite, kombu's filesystem broker,
spool, secrets); no PostgreSQL, no Redis. One run:

1. ``migrate``; an App, an S3 storage target on a moto server started by this process (loopback), the push domain
   ``127.0.0.1`` with a callback URL to a HookReceiver in this process (answers 200, records every body), a
   template (FLV + MP4 + HLS, ``--record-interval`` s) and a catch-all rule.
2. The real stack as processes, each in its own process group: gunicorn (web, free port), ``celery worker``
   (thread pool, queues record,io,default) x2, ``celery beat`` (PersistentScheduler, file in the temp dir: the
   project's schedule: watchdog, backup retries, callback resends), nginx-rtmp (deploy.nginx_rtmp.NginxRtmp) whose
   hooks go to the web process.
3. N pushes (320x240 25 fps, GOP 1 s, H.264 + AAC) for M minutes. ``--source generated`` encodes every push live
   (push_generated); ``--source clip`` (the default above 4 streams: 2 cores) encodes one clip once and pushes it
   with ``-re -stream_loop -1 -c copy -t SECONDS``.
4. Faults, on the clock of the push: at ``--kill-at`` (1/3) ``kill -9`` of ONE worker's process group and a
   replacement started at once (the watchdog, beat ``liverecord.watchdog``, re-dispatches the stale recorders);
   at ``--outage-at`` (1/2) the moto server is stopped for ``--outage-seconds`` (default min(120 s, M/4)) and
   started again on the same port (moto's state lives in this process: the bucket and its objects survive).
5. After the pushes: wait (``--settle-timeout``) until every recorder is done, no file is packaging / uploading /
   in backup, and every stored file has its callback 100 delivered.

Reported per stream: pushed seconds, recorded seconds (sum of the FLV files' durations measured by the engine, from
the database), files (all formats), longest gap between consecutive FLV files; totals: files lost (recorded by the
engine but not stored, or stored but absent from the bucket; must be 0), callbacks 100 missing (stored files without
a delivered 100 that the receiver got; must be 0), duplicate 100s, the longest recording gap. Writes
benchmarks/out/soak.json, benchmarks/out/soak.png (matplotlib, if importable) and copies the table to
benchmarks/results/soak_<streams>x<minutes>.txt. Every process it starts is stopped by its pid (process group) in a
``finally``, also on Ctrl-C; the temp dir is deleted unless ``--keep`` (the logs are copied to
benchmarks/out/soak_logs/ first).
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, cast

from benchmarks._proc import pct

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
RESULTS = ROOT / "benchmarks" / "results"
BUCKET = "liverecord-soak"
CALLBACK_KEY = "soak-callback-key-0123456789"
# Settings that must not leak in from the caller's shell: this run uses only its own temp dir.
FOREIGN_ENV = ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# --- processes ------------------------------------------------------------------------------------


class Proc:
    """A child in its own process group, output to a log file; stopped by its pid (group) only."""

    def __init__(self, name: str, cmd: list[str], log_path: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.started_at = time.time()
        self.popen = subprocess.Popen(
            cmd,
            cwd=str(ROOT),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill_hard(self) -> None:
        """kill -9 of the process and everything it started (its process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait()
        self._log.close()

    def stop(self, timeout: float = 20.0) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        # stragglers of the group (a celery thread pool's children, gunicorn workers)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if not self._log.closed:
            self._log.close()


def start_moto_process(log_dir: Path) -> Any:
    """moto's S3 server as its own process (``moto_server``): uploads do not share this script's GIL.

    Its state dies with it, so only for runs without a storage outage (``--no-faults``).
    """
    from tests.support.ports import free_port, wait_port
    from tests.support.s3 import S3Server

    port = free_port()
    proc = Proc(
        "moto",
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        log_dir / "moto-server.log",
        dict(os.environ),
    )
    wait_port(port)
    return S3Server(port=port, server=cast(Any, proc))


def wait_for(predicate: Any, timeout: float, what: str, period: float = 0.25) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(period)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def log_has(path: Path, needle: str) -> bool:
    try:
        return needle in path.read_text(errors="replace")
    except OSError:
        return False


# --- the run --------------------------------------------------------------------------------------


def configure_environment(var_dir: Path, args: argparse.Namespace, web_port: int, rtmp_port: int) -> dict[str, str]:
    """The environment of this process and of every child: the private var dir and the fast-retry settings."""
    for key in FOREIGN_ENV:
        os.environ.pop(key, None)
    settings_env = {
        "DJANGO_SETTINGS_MODULE": "liverecord.settings",
        "LIVEREC_VAR_DIR": str(var_dir),
        "LIVEREC_HOOK_TOKEN": secrets.token_urlsafe(16),
        "LIVEREC_MIN_RECORD_INTERVAL": str(min(60, args.record_interval)),
        "LIVEREC_ALLOW_PRIVATE_CALLBACKS": "true",
        "LIVEREC_BACKUP_RETRY_SECONDS": str(args.backup_retry_seconds),
        "LIVEREC_UPLOAD_RETRY_DELAYS": args.upload_retry_delays,
        "LIVEREC_WEB_PORT": str(web_port),
        "LIVEREC_RTMP_PORT": str(rtmp_port),
        "LIVEREC_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),
    }
    # The production setting instead of the embedded default: an EMPTY PostgreSQL database, a Redis broker/cache.
    for key, value in (
        ("DATABASE_URL", args.database_url),
        ("CELERY_BROKER_URL", args.broker_url),
        ("CACHE_URL", args.cache_url),
    ):
        if value:
            settings_env[key] = value
    os.environ.update(settings_env)
    return dict(os.environ)


def setup_database(args: argparse.Namespace, s3: Any, callback_url: str) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from liverecord.models import App
    from rules.models import Domain, RecordRule, StorageTarget
    from templates_app.models import RecordTemplate
    from tests.support.s3 import ACCESS_KEY, SECRET_KEY

    app = App.objects.create(name="soak")
    target = StorageTarget.objects.create(
        app=app,
        name="moto",
        provider="s3",
        bucket=BUCKET,
        region="us-east-1",
        endpoint_url=s3.endpoint_url,
        path_style=True,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        prefix="soak",
    )
    domain = Domain.objects.create(
        app=app,
        name="127.0.0.1",
        callback_url=callback_url,
        callback_key=CALLBACK_KEY,
        storage=target if args.storage == "s3" else None,
    )
    template = RecordTemplate.objects.create(
        app=app,
        name="soak",
        flv_enabled=True,
        flv_record_interval=args.record_interval,
        mp4_enabled=True,
        mp4_record_interval=args.record_interval,
        hls_enabled=True,
    )
    RecordRule.objects.create(app=app, template=template)  # every part empty: the catch-all
    return {"app": app.pk, "storage_target": target.pk, "domain": domain.pk, "template": template.pk}


def ensure_bucket(s3: Any) -> str:
    client = s3.client()
    try:
        client.head_bucket(Bucket=BUCKET)
        return "present"
    except Exception:  # noqa: BLE001 - any miss: create it
        client.create_bucket(Bucket=BUCKET)
        return "created"


def counts() -> dict[str, Any]:
    from django.db.models import Count

    from recordings.choices import CallbackEvent, DeliveryStatus
    from recordings.models import CallbackDelivery, PublishSession, RecordFile

    files = {r["status"]: r["n"] for r in RecordFile.objects.values("status").annotate(n=Count("id"))}
    recorders = {
        r["recorder_status"]: r["n"] for r in PublishSession.objects.values("recorder_status").annotate(n=Count("id"))
    }
    cb100 = {
        r["status"]: r["n"]
        for r in CallbackDelivery.objects.filter(event_type=CallbackEvent.FILE_STORED)
        .values("status")
        .annotate(n=Count("id"))
    }
    return {
        "files": files,
        "recorders": recorders,
        "callbacks_100": cb100,
        "cb_delivered": cb100.get(DeliveryStatus.DELIVERED, 0),
    }


def settled() -> tuple[bool, str]:
    """Every recorder done, no file on its way (packaging, uploading, backup), every stored file's 100 delivered."""
    from recordings.choices import CallbackEvent, DeliveryStatus, FileStatus, RecorderStatus
    from recordings.models import CallbackDelivery, PublishSession, RecordFile

    busy = PublishSession.objects.exclude(recorder_status__in=(RecorderStatus.DONE, RecorderStatus.FAILED)).count()
    pending_files = RecordFile.objects.filter(
        status__in=(FileStatus.PACKAGING, FileStatus.UPLOADING, FileStatus.BACKUP)
    ).count()
    delivered = CallbackDelivery.objects.filter(
        event_type=CallbackEvent.FILE_STORED, status=DeliveryStatus.DELIVERED
    ).values("file_id")
    undelivered = RecordFile.objects.filter(status=FileStatus.STORED).exclude(pk__in=delivered).count()
    done = busy == 0 and pending_files == 0 and undelivered == 0
    return done, f"recorders busy {busy}, files not final {pending_files}, stored without delivered 100 {undelivered}"


def collect(
    args: argparse.Namespace,
    names: list[str],
    pushes: dict[str, dict[str, Any]],
    receiver_bodies: list[dict[str, Any]],
    s3: Any | None,
) -> dict[str, Any]:
    from recordings.choices import CallbackEvent, DeliveryStatus, FileStatus
    from recordings.models import CallbackDelivery, PublishSession, RecordFile

    files = list(RecordFile.objects.order_by("start_time"))
    deliveries = list(CallbackDelivery.objects.filter(event_type=CallbackEvent.FILE_STORED))
    delivered_db: dict[int, int] = Counter(
        d.file_id for d in deliveries if d.status == DeliveryStatus.DELIVERED and d.file_id is not None
    )
    received_100: dict[str, int] = Counter(
        str(b.get("file_id")) for b in receiver_bodies if b.get("event_type") == CallbackEvent.FILE_STORED
    )
    received_events_100: dict[str, set[str]] = defaultdict(set)
    first_100_at: dict[str, float] = {}
    for b in receiver_bodies:
        if b.get("event_type") == CallbackEvent.FILE_STORED:
            received_events_100[str(b.get("file_id"))].add(str(b.get("event_id")))
            fid, at = str(b.get("file_id")), float(b.get("_received_at") or 0)
            first_100_at[fid] = min(first_100_at.get(fid, at), at)
    keys: set[str] | None = None
    if s3 is not None:
        keys = set()
        client = s3.client()
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
            keys.update(o["Key"] for o in page.get("Contents", []))

    per_stream: list[dict[str, Any]] = []
    lost: list[dict[str, Any]] = []
    cb_missing: list[dict[str, Any]] = []
    cb_duplicate: list[dict[str, Any]] = []
    for f in files:
        where = {"id": f.pk, "public_id": f.public_id, "stream": f.stream_name, "format": f.format, "status": f.status}
        if f.status != FileStatus.STORED:
            lost.append({**where, "error": f.error[:300], "start": f.start_time.isoformat()})
            continue
        if keys is not None and f.object_key not in keys:
            lost.append({**where, "error": f"stored, but {f.object_key} is not in the bucket"})
        if not delivered_db.get(f.pk) or not received_100.get(f.public_id):
            cb_missing.append(
                {**where, "delivered_in_db": delivered_db.get(f.pk, 0), "received": received_100.get(f.public_id, 0)}
            )
        if len(received_events_100.get(f.public_id, ())) > 1 or delivered_db.get(f.pk, 0) > 1:
            cb_duplicate.append(
                {
                    **where,
                    "events_received": sorted(received_events_100.get(f.public_id, ())),
                    "delivered_in_db": delivered_db.get(f.pk, 0),
                }
            )
    # File availability (issue 7, figure 3): end of a file (its last packet, wall clock) -> stored -> 100 received.
    stored_lag: dict[str, list[float]] = defaultdict(list)
    callback_lag: dict[str, list[float]] = defaultdict(list)
    for f in files:
        if f.status == FileStatus.STORED and f.stored_at is not None:
            stored_lag[f.format].append((f.stored_at - f.end_time).total_seconds())
            if f.public_id in first_100_at:
                callback_lag[f.format].append(first_100_at[f.public_id] - f.end_time.timestamp())
    availability = {
        fmt_: {
            "files": len(stored_lag[fmt_]),
            "stored_p50": pct(stored_lag[fmt_], 50),
            "stored_p99": pct(stored_lag[fmt_], 99),
            "callback_p50": pct(callback_lag[fmt_], 50),
            "callback_p99": pct(callback_lag[fmt_], 99),
        }
        for fmt_ in sorted(stored_lag)
    }
    everything = [v for lags in stored_lag.values() for v in lags]
    every_cb = [v for lags in callback_lag.values() for v in lags]
    availability["all"] = {
        "files": len(everything),
        "stored_p50": pct(everything, 50),
        "stored_p99": pct(everything, 99),
        "callback_p50": pct(every_cb, 50),
        "callback_p99": pct(every_cb, 99),
    }
    for name in names:
        push = pushes[name]
        mine = [f for f in files if f.stream_name == name]
        flv = sorted((f for f in mine if f.format == "flv"), key=lambda f: f.start_time)
        good = [f for f in flv if f.status == FileStatus.STORED]
        gaps = [(b.start_time - a.end_time).total_seconds() for a, b in itertools.pairwise(good)]
        covered, holes = coverage([(f.start_time.timestamp(), f.end_time.timestamp()) for f in good])
        per_stream.append(
            {
                "stream": name,
                "pushed_s": push.get("pushed_s"),
                "push_returncode": push.get("returncode"),
                "recorded_s": round(sum(f.duration for f in good), 3),
                "covered_s": round(covered, 3),
                "files": len(mine),
                "files_by_format": dict(Counter(f.format for f in mine)),
                "files_not_stored": sum(1 for f in mine if f.status != FileStatus.STORED),
                "flv_files": len(flv),
                "longest_gap_s": round(max(holes, default=0.0), 3),
                "gaps_s": [round(g, 3) for g in gaps],
                "overlaps": sum(1 for g in gaps if g < -0.05),
                "first_file_after_push_s": round(good[0].start_time.timestamp() - push["started_at"], 3)
                if good
                else None,
                "last_file_before_push_end_s": round(push["ended_at"] - good[-1].end_time.timestamp(), 3)
                if good and push.get("ended_at")
                else None,
                "sessions": PublishSession.objects.filter(stream_name=name).count(),
            }
        )
    # Files the engine finished whose row was never written (the row's save failed): their bytes sit in the
    # staging folder (LIVEREC_SPOOL_DIR/files/<public_id>/) with no row, or a row that is not stored.
    by_public = {f.public_id: f for f in files}
    staging = Path(os.environ["LIVEREC_VAR_DIR"]) / "spool" / "files"
    orphans = []
    for folder in sorted(staging.glob("*")) if staging.exists() else []:
        row = by_public.get(folder.name)
        if row is None:
            orphans.append({"folder": folder.name, "files": sorted(p.name for p in folder.iterdir())[:5]})
    lost += [{"orphan_staging_folder_without_row": o} for o in orphans]
    return {
        "per_stream": per_stream,
        "files_total": len(files),
        "files_by_status": dict(Counter(f.status for f in files)),
        "files_by_format": dict(Counter(f.format for f in files)),
        "availability": availability,
        "files_lost": lost,
        "callbacks_100_missing": cb_missing,
        "callbacks_100_duplicate": cb_duplicate,
        "callbacks_by_event_received": dict(Counter(str(b.get("event_type")) for b in receiver_bodies)),
        "callbacks_101_received": sum(1 for b in receiver_bodies if b.get("event_type") == CallbackEvent.FILE_BACKUP),
        "files_that_went_to_backup": sum(1 for f in files if f.backup_since is not None),
        "upload_attempts_max": max((f.upload_attempts for f in files), default=0),
        "objects_in_bucket": len(keys) if keys is not None else None,
        "longest_gap_s": max((s["longest_gap_s"] for s in per_stream), default=0.0),
        "sessions_total": PublishSession.objects.count(),
    }


def coverage(intervals: list[tuple[float, float]]) -> tuple[float, list[float]]:
    """Seconds covered by the union of intervals, and the holes between the merged runs."""
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1] + 0.05:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    holes = [b[0] - a[1] for a, b in itertools.pairwise(merged)]
    return sum(e - s for s, e in merged), holes


def scan_logs(log_dir: Path) -> dict[str, Any]:
    """Errors and tracebacks in every process log, and the watchdog's re-dispatches."""
    out: dict[str, Any] = {}
    for path in sorted(log_dir.glob("*.log")):
        lines = path.read_text(errors="replace").splitlines()
        bad = [ln for ln in lines if " ERROR" in ln or "CRITICAL" in ln or ln.startswith("Traceback")]
        out[path.name] = {
            "errors": len(bad),
            "first_errors": bad[:8],
            "watchdog_requeues": sum(1 for ln in lines if "is not alive; queued again" in ln),
        }
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    from tests.support.hook_receiver import HookReceiver
    from tests.support.ports import free_port, wait_port

    n, seconds = args.streams, args.minutes * 60.0
    outage = args.outage_seconds if args.outage_seconds is not None else min(120.0, seconds / 4)
    kill_at, outage_at = seconds * args.kill_at, seconds * args.outage_at
    if args.no_faults:
        kill_at, outage = float("inf"), 0.0
    source = args.source if args.source != "auto" else ("generated" if n <= 4 else "clip")
    tmp = Path(tempfile.mkdtemp(prefix="liverec-soak-"))
    var_dir, log_dir = tmp / "var", tmp / "logs"
    var_dir.mkdir()
    log_dir.mkdir()
    web_port, rtmp_port = free_port(), free_port()
    env = configure_environment(var_dir, args, web_port, rtmp_port)
    names = [f"soak{i:03d}" for i in range(n)]
    result: dict[str, Any] = {
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "source": source,
        "outage_seconds": outage,
        "machine": {"nproc": os.cpu_count(), "loadavg_at_start": os.getloadavg()},
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "temp_dir": str(tmp),
    }
    events: list[tuple[float, str]] = []
    timeline: list[dict[str, Any]] = []
    procs: list[Proc] = []
    workers: list[Proc] = []
    pushers: dict[str, subprocess.Popen[bytes]] = {}
    pushes: dict[str, dict[str, Any]] = {}
    s3 = None
    receiver = None
    nginx = None
    t0 = time.time()

    def event(what: str) -> None:
        events.append((time.time(), what))
        log(what)

    def start_worker(i: int) -> Proc:
        p = Proc(
            f"worker{i}",
            [
                sys.executable, "-m", "celery", "-A", "liverecord", "worker",
                "-Q", "record,default" if args.io_worker else "record,io,default",
                "-P", "threads", "-c", str(args.worker_threads),
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-l", "INFO", "-n", f"soak{i}-{os.getpid()}@%h",
            ],
            log_dir / f"worker{i}.log",
            env,
        )  # fmt: skip
        procs.append(p)
        workers.append(p)
        return p

    try:
        import logging

        moto_log = logging.getLogger("werkzeug")  # moto's server: its errors go to logs/moto.log, not the table
        moto_log.setLevel(logging.WARNING)
        moto_log.propagate = False
        moto_log.addHandler(logging.FileHandler(log_dir / "moto.log"))
        from tests.support.s3 import start_s3_server

        s3 = start_moto_process(log_dir) if args.moto_process else start_s3_server()
        ensure_bucket(s3)
        receiver = HookReceiver(status=200).start()
        result["setup"] = setup_database(args, s3, receiver.url("/liverecord/callback"))
        from deploy.nginx_rtmp import NginxRtmp
        from tests.support.media import make_clip, push, push_generated, stop_push

        # --- the stack ---
        web = Proc(
            "web",
            [
                sys.executable, "-m", "gunicorn", "liverecord.wsgi", "--bind", f"127.0.0.1:{web_port}",
                "--workers", "2", "--threads", "8", "--access-logfile", "-",
            ],
            log_dir / "web.log",
            env,
        )  # fmt: skip
        procs.append(web)
        for i in range(args.workers):
            start_worker(i)
        if args.io_worker:
            io_cmd = [
                sys.executable, "-m", "celery", "-A", "liverecord", "worker", "-Q", "io", "-P", "threads", "-c", "16",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
                "-n", f"soak-io-{os.getpid()}@%h",
            ]  # fmt: skip
            procs.append(Proc("io-worker", io_cmd, log_dir / "io-worker.log", env))
        beat = Proc(
            "beat",
            [
                sys.executable, "-m", "celery", "-A", "liverecord", "beat", "-l", "INFO",
                "-S", "celery.beat:PersistentScheduler", "-s", str(tmp / "beat-schedule"),
            ],
            log_dir / "beat.log",
            env,
        )  # fmt: skip
        procs.append(beat)
        wait_port(web_port, timeout=30)
        hook = (
            f"http://127.0.0.1:{web_port}/hooks/nginx-rtmp/?token={env['LIVEREC_HOOK_TOKEN']}"
            f"&ingest=127.0.0.1:{rtmp_port}"
        )
        nginx = NginxRtmp(tmp / "nginx", rtmp_port, hook, record_dir=tmp / "nginx" / "record").start()
        for w in workers:
            wait_for(lambda w=w: log_has(w.log_path, " ready."), 60, f"{w.name} ready")
            if not w.alive():
                raise RuntimeError(f"{w.name} exited; see {w.log_path}")
        wait_for(lambda: log_has(beat.log_path, "beat: Starting"), 30, "beat")
        event(f"stack up: web :{web_port}, rtmp :{rtmp_port}, s3 :{s3.port}, {len(workers)} workers, beat")

        clip = None
        if source == "clip":
            clip = make_clip(OUT / "clips" / "soak_320x240_25fps_gop1s.flv", seconds=30, bitrate="300k")
        # --- the pushes ---
        push_t0 = time.time()
        result["push_t0"] = push_t0
        for name in names:
            url = nginx.rtmp_url(name)
            if clip is not None:
                proc = push(url, clip, loop=-1, extra_args=["-t", f"{seconds:g}"])
            else:
                proc = push_generated(url, seconds=seconds, bitrate="300k")
            pushers[name] = proc
            pushes[name] = {"started_at": time.time(), "pid": proc.pid}
            time.sleep(args.stagger)
        event(f"{n} pushes started ({source}), {seconds:.0f} s each")

        killed = args.no_faults
        restarted_outage = False
        outage_started: float | None = None
        last_sample = 0.0
        while True:
            now = time.time()
            el = now - push_t0
            if not killed and el >= kill_at:
                victim = workers[0]
                victim.kill_hard()
                event(f"kill -9 worker process group {victim.pid} ({victim.name})")
                start_worker(len(workers))
                event(f"replacement worker{len(workers) - 1} started (pid {workers[-1].pid})")
                killed = True
            if outage_started is None and el >= outage_at and outage > 0:
                s3.stop()
                outage_started = time.time()
                event(f"storage (moto) stopped for {outage:.0f} s")
            if outage_started is not None and not restarted_outage and now - outage_started >= outage:
                port = s3.port
                s3 = start_s3_server(port)
                state = ensure_bucket(s3)
                restarted_outage = True
                event(f"storage (moto) started again on :{port}, bucket {state}")
            for name, proc in pushers.items():
                if "ended_at" not in pushes[name] and proc.poll() is not None:
                    pushes[name]["ended_at"] = time.time()
                    pushes[name]["returncode"] = proc.returncode
            if now - last_sample >= 5:
                last_sample = now
                timeline.append({"t": now - push_t0, **counts()})
            if all("ended_at" in p for p in pushes.values()) and (restarted_outage or outage <= 0) and killed:
                break
            if el > seconds + 120:
                event("pushes still running 120 s after their end: stopping them")
                for proc in pushers.values():
                    stop_push(proc)
            time.sleep(0.5)
        for name, proc in pushers.items():
            err = b""
            with contextlib.suppress(Exception):
                err = proc.stderr.read() if proc.stderr else b""
            pushes[name]["stderr"] = err.decode(errors="replace")[-500:]
            pushes[name]["pushed_s"] = round(
                seconds if proc.returncode == 0 else pushes[name]["ended_at"] - pushes[name]["started_at"], 3
            )
        event("pushes ended")

        # --- settle ---
        deadline = time.monotonic() + args.settle_timeout
        state = ""
        while time.monotonic() < deadline:
            done, state = settled()
            if time.time() - last_sample >= 5:
                last_sample = time.time()
                timeline.append({"t": time.time() - push_t0, **counts()})
            if done:
                break
            time.sleep(2)
        else:
            event(f"not settled after {args.settle_timeout:.0f} s: {state}")
        result["settled"] = done
        result["settle_state"] = state
        event(f"settled: {state}")
        timeline.append({"t": time.time() - push_t0, **counts()})
        bodies = []
        for r in receiver.requests:
            if isinstance(r.json, dict):
                bodies.append({**r.json, "_received_at": r.received_at})
        result["callbacks_received"] = len(bodies)
        result.update(collect(args, names, pushes, bodies, s3 if args.storage == "s3" else None))
        result["stack_alive_at_end"] = {p.name: p.alive() for p in procs}
    finally:
        cleanup_errors: list[str] = []

        def step(fn: Any, *a: Any, **kw: Any) -> None:
            try:
                fn(*a, **kw)
            except BaseException as exc:  # noqa: BLE001 - the next step still runs
                cleanup_errors.append(f"{getattr(fn, '__qualname__', fn)}: {exc!r}")

        for proc in pushers.values():
            step(stop_push_quiet, proc)
        if nginx is not None:
            step(nginx.stop)
        for p in reversed(procs):
            step(p.stop)
        if s3 is not None:
            step(s3.stop)
        if receiver is not None:
            step(receiver.stop)
        with contextlib.suppress(Exception):
            result["logs"] = scan_logs(log_dir)
        logs_copy = OUT / "soak_logs"
        with contextlib.suppress(Exception):
            if logs_copy.exists():
                shutil.rmtree(logs_copy)
            shutil.copytree(log_dir, logs_copy)
            if nginx is not None:
                shutil.copytree(tmp / "nginx" / "logs", logs_copy / "nginx", dirs_exist_ok=True)
        if not args.keep:
            step(shutil.rmtree, tmp, ignore_errors=True)
        result["cleanup_errors"] = cleanup_errors
        result["events"] = [(round(t - result.get("push_t0", t0), 1), what) for t, what in events]
        result["timeline"] = timeline
        result["pushes"] = pushes
        if cleanup_errors:
            print(f"cleanup errors: {cleanup_errors}", file=sys.stderr)
    return result


def stop_push_quiet(proc: subprocess.Popen[bytes]) -> None:
    from tests.support.media import stop_push

    if proc.poll() is None:
        stop_push(proc)
    elif proc.stderr is not None and not proc.stderr.closed:
        proc.stderr.close()


# --- report ---------------------------------------------------------------------------------------


def fmt(v: Any, spec: str = ".1f") -> str:
    return "-" if v is None else format(v, spec)


def table(result: dict[str, Any]) -> str:
    a = result["args"]
    head = [
        "stream",
        "pushed s",
        "recorded s (FLV)",
        "covered s",
        "rec/pushed",
        "files",
        "FLV files",
        "not stored",
        "overlaps",
        "longest gap s",
    ]
    rows = []
    for s in result.get("per_stream", []):
        ratio = s["covered_s"] / s["pushed_s"] if s.get("pushed_s") else None
        rows.append(
            [
                s["stream"],
                fmt(s["pushed_s"]),
                fmt(s["recorded_s"]),
                fmt(s["covered_s"]),
                fmt(ratio, ".3f"),
                str(s["files"]),
                str(s["flv_files"]),
                str(s["files_not_stored"]),
                str(s["overlaps"]),
                fmt(s["longest_gap_s"], ".2f"),
            ]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    line = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=False)) + " |"  # noqa: E731
    out = [
        f"soak: {a['streams']} streams x {a['minutes']:g} min ({result['source']}, 320x240 25 fps GOP 1 s), "
        f"FLV+MP4+HLS, record_interval {a['record_interval']} s, {a['workers']} workers x {a['worker_threads']} threads"
        + (
            "; no faults"
            if a.get("no_faults")
            else f"; kill -9 of one worker at {a['kill_at'] * a['minutes'] * 60:.0f} s, storage down "
            f"{result['outage_seconds']:.0f} s from {a['outage_at'] * a['minutes'] * 60:.0f} s"
        )
        + f"; {a.get('storage', 's3')} storage, {'PostgreSQL' if a.get('database_url') else 'SQLite'}; "
        f"{result['machine']['nproc']} cores, load at start {result['machine']['loadavg_at_start'][0]:.2f}",
        line(head),
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    out += [line(r) for r in rows]
    per = result.get("per_stream", [])
    pushed = sum(s["pushed_s"] or 0 for s in per)
    recorded = sum(s["recorded_s"] for s in per)
    covered = sum(s["covered_s"] for s in per)
    out.append("")
    out.append(
        "recorded = sum of the stored FLV files' durations (engine-measured, from the DB); covered = their union "
        "on the wall clock (overlapping files counted once); rec/pushed = covered / pushed; gap = longest hole "
        "in the union"
    )
    out.append(
        f"total: pushed {pushed:.1f} s, recorded {recorded:.1f} s, covered {covered:.1f} s "
        f"= {covered / pushed if pushed else 0:.4f}; "
        f"files {result.get('files_total')} {result.get('files_by_format')}; by status {result.get('files_by_status')}"
    )
    out.append(
        f"files lost (recorded by the engine, not stored or not in the bucket): {len(result.get('files_lost', []))}"
    )
    out.append(
        "callbacks 100 missing (stored, no delivered 100 at the receiver): "
        f"{len(result.get('callbacks_100_missing', []))}"
    )
    out.append(
        f"callbacks 100 duplicated (a second 100 for one file): {len(result.get('callbacks_100_duplicate', []))}"
    )
    out.append(
        "longest recording gap (between consecutive FLV files of a stream): "
        f"{fmt(result.get('longest_gap_s'), '.2f')} s"
    )
    out.append(
        f"storage outage: {result.get('files_that_went_to_backup')} files went to backup, "
        f"{result.get('callbacks_101_received')} callbacks 101; most upload attempts of one file "
        f"{result.get('upload_attempts_max')}; objects in the bucket {result.get('objects_in_bucket')}"
    )
    avail = result.get("availability", {})
    if avail:
        out.append(
            f"file availability ({result['args'].get('storage', 's3')} storage), s after the file's last packet "
            "(p50 / p99): "
            + "; ".join(
                f"{k} [{v['files']}] stored {fmt(v['stored_p50'], '.2f')} / {fmt(v['stored_p99'], '.2f')}, "
                f"100 received {fmt(v['callback_p50'], '.2f')} / {fmt(v['callback_p99'], '.2f')}"
                for k, v in avail.items()
            )
        )
    requeues = sum(v.get("watchdog_requeues", 0) for v in result.get("logs", {}).values())
    errors = {k: v["errors"] for k, v in result.get("logs", {}).items() if v.get("errors")}
    out.append(f"watchdog re-dispatches logged: {requeues}; ERROR/Traceback lines per log: {errors or 0}")
    out.append(f"settled: {result.get('settled')} ({result.get('settle_state')})")
    out.append("events (s after the first push): " + "; ".join(f"{t:.0f} {w}" for t, w in result.get("events", [])))
    for key, label in (
        ("files_lost", "lost"),
        ("callbacks_100_missing", "100 missing"),
        ("callbacks_100_duplicate", "100 twice"),
    ):
        for item in result.get(key, [])[:10]:
            out.append(f"  {label}: {item}")
    return "\n".join(out)


def plot(result: dict[str, Any], path: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not importable: no plot"
    fig, axes = plt.subplots(1, 2, figsize=(14, 4.5))
    ax = axes[0]
    tl = result.get("timeline", [])
    ts = [p["t"] for p in tl]
    for status, color in (
        ("stored", "#3b7dd8"),
        ("uploading", "#c0a040"),
        ("backup", "#d04040"),
        ("packaging", "#888"),
    ):
        ax.plot(ts, [p["files"].get(status, 0) for p in tl], label=f"files {status}", color=color)
    ax.plot(ts, [p.get("cb_delivered", 0) for p in tl], label="100 delivered", color="#40a060", linestyle="--")
    ax.plot(ts, [p["recorders"].get("running", 0) for p in tl], label="recorders running", color="#000", linewidth=0.8)
    for t, what in result.get("events", []):
        if what.startswith(("kill", "storage")):
            ax.axvline(t, color="#d04040" if "stopped" in what or "kill" in what else "#40a060", linestyle=":")
    ax.set_xlabel("s after the first push")
    ax.set_title("files and recorders over time (dotted: kill, storage down/up)")
    ax.legend(fontsize=7)
    ax = axes[1]
    per = result.get("per_stream", [])
    x = range(len(per))
    ax.bar([i - 0.2 for i in x], [s["pushed_s"] or 0 for s in per], width=0.4, label="pushed s", color="#aaa")
    ax.bar([i + 0.2 for i in x], [s["recorded_s"] for s in per], width=0.4, label="recorded s (FLV)", color="#3b7dd8")
    ax2 = ax.twinx()
    ax2.plot(list(x), [s["longest_gap_s"] for s in per], "o", color="#d04040", label="longest gap s")
    ax2.set_ylabel("longest gap between FLV files (s)")
    ax.set_xticks(list(x), [s["stream"][-3:] for s in per], fontsize=7)
    ax.set_title("per stream")
    ax.legend(loc="lower left", fontsize=7)
    ax2.legend(loc="lower right", fontsize=7)
    a = result["args"]
    fig.suptitle(f"soak: {a['streams']} streams x {a['minutes']:g} min, worker kill + storage outage")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--source", choices=("auto", "generated", "clip"), default="auto",
                        help="generated: one live x264 encode per push; clip: one clip pushed with -c copy "
                        "(auto: generated up to 4 streams)")  # fmt: skip
    parser.add_argument("--record-interval", type=int, default=60, help="FLV/MP4 file length (s)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-threads", type=int, default=48)
    parser.add_argument("--stagger", type=float, default=0.5, help="seconds between push starts")
    parser.add_argument("--kill-at", type=float, default=1 / 3, help="fraction of the push when a worker is killed")
    parser.add_argument("--outage-at", type=float, default=1 / 2, help="fraction of the push when storage stops")
    parser.add_argument("--outage-seconds", type=float, default=None, help="default min(120, push seconds / 4)")
    parser.add_argument("--backup-retry-seconds", type=int, default=20)
    parser.add_argument("--upload-retry-delays", default="2,5")
    parser.add_argument("--settle-timeout", type=float, default=300.0)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (var, logs, nginx)")
    parser.add_argument(
        "--no-faults", action="store_true", help="no worker kill, no storage outage (file availability figure)"
    )
    parser.add_argument(
        "--storage", choices=("s3", "local"), default="s3", help="S3 on a loopback moto server, or local disk"
    )
    parser.add_argument(
        "--io-worker", action="store_true", help="queue io (uploads, callbacks) in its own worker process"
    )
    parser.add_argument(
        "--moto-process", action="store_true", help="moto S3 in its own process (only with --no-faults)"
    )
    parser.add_argument("--database-url", default="", help="an EMPTY PostgreSQL database (default: embedded SQLite)")
    parser.add_argument("--broker-url", default="", help="e.g. redis://127.0.0.1:6379/5 (default: filesystem broker)")
    parser.add_argument("--cache-url", default="", help="e.g. redis://127.0.0.1:6379/6")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--png", type=Path, default=None)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    tag = f"{args.streams}x{args.minutes:g}" + ("_nofaults_" + args.storage if args.no_faults else "")
    tag += "_postgres" if args.database_url else ""
    tag += "_ioworker" if args.io_worker else ""
    tag += "_motoproc" if args.moto_process else ""
    if args.moto_process and not args.no_faults:
        parser.error("--moto-process needs --no-faults (the outage restarts moto in this process)")
    args.json = args.json or OUT / f"soak_{tag}.json"
    args.png = args.png or OUT / f"soak_{tag}.png"

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_term)
    result = run(args)
    text = table(result)
    print(text)
    result["table"] = text
    note = plot(result, args.png) if result.get("per_stream") else "no data"
    result["plot"] = note or str(args.png)
    args.json.write_text(json.dumps(result, indent=1, default=str))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"soak_{tag}.txt").write_text(text + "\n")
    print(f"\nraw numbers: {args.json}" + (f"; plot: {args.png}" if note is None else f"; {note}"))
    print(f"table copied to {RESULTS / f'soak_{tag}.txt'}")
    ok = not result.get("files_lost") and not result.get("callbacks_100_missing") and result.get("settled")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
