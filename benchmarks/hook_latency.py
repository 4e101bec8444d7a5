"""Hook decision latency through the real web server, with 10, 1,000 and 10,000 recording rules.

    .venv/bin/python -m benchmarks.hook_latency                      # SQLite and a private PostgreSQL DB
    .venv/bin/python -m benchmarks.hook_latency --db sqlite --pairs 500   # quick check

For each database (the embedded SQLite default, and a database of its own that it creates on the
PostgreSQL server of ``--database-url`` and drops at the end) in a private ``LIVEREC_VAR_DIR`` (a temp
dir, deleted at the end):

* ``manage.py migrate``; one App, the push domain ``127.0.0.1``, one template (MP4 + HLS), and rules
  bulk-created in a child process with the same environment as the server: N exact rules (distinct
  stream names, spread over the levels domain/app name set or empty) plus one catch-all rule.
* The real web server, as ``deploy/Procfile`` runs it: ``gunicorn liverecord.wsgi`` (2 workers,
  8 threads, access log) on a free loopback port, with a fixed ``LIVEREC_HOOK_TOKEN`` and the default
  filesystem Celery broker, so every publish that matches a rule really enqueues a
  ``liverecord.record_stream`` message (nobody consumes them: the temp dir goes at the end).
* Sequential ``publish`` + ``publish_done`` pairs (nginx-rtmp form fields) over one keep-alive
  ``requests.Session``: a warm-up, then ``--pairs`` measured pairs per N; half of the streams hit an
  exact rule, the other half only the catch-all. Between two N the sessions, tasks and queued
  messages of the previous N are deleted, so each N starts from the same state.
* A floor: ``call=update`` (token check, then 200; no database) through the same server.

Latency is measured in the client (request sent -> response read), p50 / p99 / max.
Results: a table on stdout, benchmarks/out/hook_latency.json and benchmarks/out/hook_latency.png.

This module also holds the plumbing ``benchmarks.api_latency`` reuses (private database, clean
environment, gunicorn by pid, seeding in a child process).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from benchmarks._proc import fmt, pct
from tests.support.ports import free_port, wait_port

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
HOOK_TOKEN = "bench-hook-token-5f2c1e"
API_RATE = "100000/s"  # throttling must not interfere with a latency benchmark
PG_SERVER = "postgres://postgres@127.0.0.1:5432/postgres"
RULE_COUNTS = (10, 1000, 10000)
GUNICORN_WORKERS = 2
GUNICORN_THREADS = 8
# Inherited variables that could point the benchmark at someone else's database, broker or keys.
_SCRUB_PREFIXES = ("LIVEREC_", "DATABASE_", "CELERY_", "DJANGO_")
_SCRUB = {"CACHE_URL", "SECRET_KEY", "DEBUG", "ALLOWED_HOSTS", "TIME_ZONE", "LOG_LEVEL"}


# --- shared plumbing (also used by benchmarks.api_latency) ---------------------------------------


def lat_ms(seconds: list[float]) -> dict[str, Any]:
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": pct(ms, 50),
        "p90_ms": pct(ms, 90),
        "p99_ms": pct(ms, 99),
        "max_ms": max(ms, default=None),
        "mean_ms": sum(ms) / len(ms) if ms else None,
    }


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_mb = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_mb = int(line.split()[1]) // 1024
    versions: dict[str, str] = {}
    for mod in ("django", "rest_framework", "gunicorn", "psycopg", "requests"):
        with contextlib.suppress(Exception):
            versions[mod] = __import__(mod).__version__
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total_mb": mem_mb,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "versions": versions,
        "loadavg_at_start": os.getloadavg(),
    }


def bench_env(var_dir: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    """The environment of the server and of the seeding child: nothing inherited that names a DB or broker."""
    env = {k: v for k, v in os.environ.items() if not (k.startswith(_SCRUB_PREFIXES) or k in _SCRUB)}
    env.update(
        LIVEREC_VAR_DIR=str(var_dir),
        LIVEREC_HOOK_TOKEN=HOOK_TOKEN,
        LIVEREC_API_RATE=API_RATE,
        DJANGO_SETTINGS_MODULE="liverecord.settings",
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",
    )
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


class PrivatePostgres:
    """A database of our own on a shared PostgreSQL server: CREATE on enter, DROP (FORCE) on exit."""

    def __init__(self, server_url: str, tag: str) -> None:
        self.server_url = server_url
        parts = urlsplit(server_url)
        self.name = f"lr_bench_{os.getpid()}_{tag}"
        self.url = urlunsplit(parts._replace(path="/" + self.name))
        self.created = False

    def _admin(self) -> Any:
        import psycopg

        parts = urlsplit(self.server_url)
        return psycopg.connect(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 5432,
            user=parts.username or "postgres",
            password=parts.password or None,
            dbname=(parts.path or "/postgres").lstrip("/") or "postgres",
            autocommit=True,
        )

    def __enter__(self) -> PrivatePostgres:
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.created = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.created:
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.created = False


def children_of(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                out += [int(p) for p in (task / "children").read_text().split()]
    return out


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Gunicorn:
    """``gunicorn liverecord.wsgi`` as deploy/Procfile runs it; stopped by its pid (and its workers' pids)."""

    def __init__(self, env: dict[str, str], log_dir: Path, workers: int = GUNICORN_WORKERS) -> None:
        self.env = env
        self.log_dir = log_dir
        self.workers = workers
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.worker_pids: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Gunicorn:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_dir / "gunicorn.log", "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "liverecord.wsgi",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    str(self.workers),
                    "--threads",
                    str(GUNICORN_THREADS),
                    "--access-logfile",
                    str(self.log_dir / "access.log"),
                ],
                env=self.env,
                cwd=str(ROOT),
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        try:
            wait_port(self.port, timeout=30)
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                self.worker_pids = children_of(self.proc.pid)
                if len(self.worker_pids) >= self.workers:
                    break
                time.sleep(0.05)
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> list[int]:
        """SIGTERM the master (it stops its workers), then SIGKILL by pid whatever is left."""
        left: list[int] = []
        if self.proc is None:
            return left
        pids = set(self.worker_pids) | set(children_of(self.proc.pid))
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        for pid in pids:
            if pid_alive(pid):
                left.append(pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        return left


def manage(env: dict[str, str], *args: str, log: Path) -> None:
    with open(log, "ab") as out:
        subprocess.run([sys.executable, "manage.py", *args], env=env, cwd=str(ROOT), stdout=out, stderr=out, check=True)


def run_seed(module: str, env: dict[str, str], op: dict[str, Any], log: Path) -> dict[str, Any]:
    """Run ``python -m <module> --seed '<json>'`` in the benchmark's environment; its last stdout line is JSON."""
    t0 = time.perf_counter()
    res = subprocess.run(
        [sys.executable, "-m", module, "--seed", json.dumps(op)],
        env=env,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
    )
    with open(log, "a") as f:
        f.write(f"--- seed {op}\n{res.stdout}\n{res.stderr}\n")
    if res.returncode != 0:
        raise RuntimeError(f"seed {op.get('op')} failed ({res.returncode}): {res.stderr[-2000:]}")
    lines = [line for line in res.stdout.splitlines() if line.startswith("SEED ")]
    out = json.loads(lines[-1][5:]) if lines else {}
    out["seconds"] = time.perf_counter() - t0
    return out


@contextlib.contextmanager
def database(kind: str, server_url: str, tag: str) -> Iterator[str | None]:
    """None for the embedded SQLite default, else the URL of a private PostgreSQL database."""
    if kind == "sqlite":
        yield None
        return
    pg = PrivatePostgres(server_url, tag)
    with pg:
        yield pg.url


@contextlib.contextmanager
def var_dir(prefix: str, keep: bool = False) -> Iterator[Path]:
    d = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield d
    finally:
        if not keep:
            shutil.rmtree(d, ignore_errors=True)


class PySpy:
    """``py-spy record`` of one pid (raw collapsed stacks), stopped by its pid."""

    def __init__(self, pid: int, out: Path, rate: int = 250) -> None:
        exe = Path(sys.executable).parent / "py-spy"
        self.out = out
        self.proc = subprocess.Popen(
            [str(exe), "record", "--pid", str(pid), "--rate", str(rate), "--format", "raw", "--output", str(out)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def summarize_profile(paths: list[Path], top: int = 25, include: str = "") -> list[tuple[str, float]]:
    """Share of samples (inclusive) per frame ``function (file:line)``, over the collapsed stacks of paths."""
    counts: dict[str, int] = {}
    total = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if not n.isdigit():
                continue
            total += int(n)
            seen: set[str] = set()
            for frame in stack.split(";"):
                if include and include not in frame:
                    continue
                if frame not in seen:
                    seen.add(frame)
                    counts[frame] = counts.get(frame, 0) + int(n)
    if not total:
        return []
    return [(f, c / total) for f, c in sorted(counts.items(), key=lambda kv: -kv[1])[:top]]


def md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]

    def line(r: list[str]) -> str:
        return "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=False)) + " |"

    return [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|", *[line(r) for r in rows]]


def timed_requests(call: Callable[[int], Any], count: int, check: Callable[[Any], bool]) -> tuple[list[float], int]:
    """``count`` sequential calls; their durations (s) and the number of unexpected answers."""
    times: list[float] = []
    bad = 0
    for i in range(count):
        t0 = time.perf_counter()
        resp = call(i)
        times.append(time.perf_counter() - t0)
        if not check(resp):
            bad += 1
    return times, bad


# --- seeding (runs in a child process, in the server's environment) ------------------------------


def _seed(op: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection

    from liverecord.models import App
    from liverecord.services import app_create
    from recordings.models import CallbackDelivery, PublishSession, RecordTask
    from rules.models import Domain, RecordRule
    from rules.services import domain_create
    from templates_app.models import RecordTemplate
    from templates_app.services import template_create

    if op["op"] == "init":
        app, key = app_create(name="bench")
        domain_create(app=app, name="127.0.0.1")
        template = template_create(
            app=app,
            name="bench",
            mp4={"enabled": True, "record_interval": 1800},
            hls={"enabled": True},
        )
        RecordRule.objects.create(app=app, template=template)  # the catch-all: any domain, app, stream
        return {"app_id": app.pk, "api_key": key, "template_id": template.pk}
    app = App.objects.get(name="bench")
    if op["op"] == "rules":
        # Fresh state for this N: no sessions, tasks, callbacks of the previous N.
        CallbackDelivery.objects.filter(app=app).delete()
        RecordTask.objects.filter(app=app).delete()
        PublishSession.objects.filter(app=app).delete()
        template = RecordTemplate.objects.get(app=app, name="bench")
        have = RecordRule.objects.filter(app=app).exclude(stream_name="").count()
        want = int(op["n"])
        new = [
            RecordRule(
                app=app,
                template=template,
                # spread over the levels: domain set or not, app name set or not
                domain="127.0.0.1" if i % 2 == 0 else "",
                app_name="live" if i % 4 < 2 else "",
                stream_name=rule_stream(i),
            )
            for i in range(have, want)
        ]
        RecordRule.objects.bulk_create(new, batch_size=2000)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
        return {
            "rules_exact": RecordRule.objects.filter(app=app).exclude(stream_name="").count(),
            "rules_total": RecordRule.objects.filter(app=app).count(),
        }
    if op["op"] == "history":
        # Ended sessions of other streams (a service's past): rows publish_done has to find its way past.
        from datetime import timedelta

        from django.utils import timezone

        domain = Domain.objects.get(name="127.0.0.1")
        now = timezone.now()
        n = int(op["n"])
        batch: list[PublishSession] = []
        for i in range(n):
            t = now - timedelta(seconds=60 * (n - i))
            batch.append(
                PublishSession(
                    app=app,
                    domain=domain,
                    domain_name="127.0.0.1",
                    app_name="live",
                    stream_name=f"past{i % 5000:04d}",
                    status="ended",
                    started_at=t,
                    ended_at=t + timedelta(seconds=50),
                    ingest="127.0.0.1:1935",
                    source_url="rtmp://127.0.0.1:1935/live/past",
                    recorder_status="done",
                )
            )
            if len(batch) >= 5000:
                PublishSession.objects.bulk_create(batch)
                batch = []
        PublishSession.objects.bulk_create(batch)
        if connection.vendor == "postgresql":
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
        return {"sessions": PublishSession.objects.count()}
    raise ValueError(op)


def rule_stream(i: int) -> str:
    return f"rule{i:05d}"


# --- the run --------------------------------------------------------------------------------------


def hook_form(call: str, stream: str, client: int) -> dict[str, str]:
    return {
        "call": call,
        "app": "live",
        "name": stream,
        "tcurl": "rtmp://127.0.0.1:1935/live",
        "addr": "127.0.0.1",
        "clientid": str(client),
        "flashver": "FMLE/3.0 (compatible; FMSc/1.0)",
        "type": "live",
    }


def run_pairs(session: Any, url: str, n_rules: int, count: int, tag: str, counter: list[int]) -> dict[str, Any]:
    """``count`` publish + publish_done pairs; even pairs hit an exact rule, odd ones only the catch-all."""
    pub: list[float] = []
    done: list[float] = []
    pub_exact: list[float] = []
    pub_catch: list[float] = []
    bad: list[str] = []
    for i in range(count):
        counter[0] += 1
        client = counter[0]
        # even pairs: an exact rule (spread over the rules); odd pairs: a fresh stream, catch-all only
        stream = rule_stream((i // 2 * 7919) % n_rules) if i % 2 == 0 else f"{tag}x{i:05d}"
        t0 = time.perf_counter()
        r = session.post(url, data=hook_form("publish", stream, client))
        t1 = time.perf_counter()
        if r.status_code != 200:
            bad.append(f"publish {stream}: {r.status_code} {r.text[:200]}")
        t2 = time.perf_counter()
        r = session.post(url, data=hook_form("publish_done", stream, client))
        t3 = time.perf_counter()
        if r.status_code != 200:
            bad.append(f"publish_done {stream}: {r.status_code} {r.text[:200]}")
        pub.append(t1 - t0)
        (pub_exact if i % 2 == 0 else pub_catch).append(t1 - t0)
        done.append(t3 - t2)
    return {
        "publish": lat_ms(pub),
        "publish_exact_rule": lat_ms(pub_exact),
        "publish_catch_all": lat_ms(pub_catch),
        "publish_done": lat_ms(done),
        "errors": len(bad),
        "error_examples": bad[:5],
        "raw_ms": {"publish": [round(x * 1000, 3) for x in pub], "publish_done": [round(x * 1000, 3) for x in done]},
    }


def queued_messages(vdir: Path) -> int:
    q = vdir / "broker" / "queue"
    return sum(1 for _ in q.iterdir()) if q.exists() else 0


def clear_queue(vdir: Path) -> None:
    q = vdir / "broker" / "queue"
    if q.exists():
        for f in q.iterdir():
            with contextlib.suppress(OSError):
                f.unlink()


def run_backend(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    import requests

    res: dict[str, Any] = {"db": kind, "by_rules": {}}
    with var_dir(f"lr_hookbench_{kind}_", keep=args.keep) as vdir, database(kind, args.database_url, "hook") as db_url:
        logs = vdir / "logs"
        logs.mkdir()
        env = bench_env(vdir, db_url)
        res["var_dir"] = str(vdir)
        res["database"] = db_url or "sqlite (embedded default, in the temp var dir)"
        t0 = time.perf_counter()
        manage(env, "migrate", "--noinput", log=logs / "migrate.log")
        res["migrate_s"] = time.perf_counter() - t0
        init = run_seed("benchmarks.hook_latency", env, {"op": "init"}, logs / "seed.log")
        if args.history:
            res["history"] = run_seed(
                "benchmarks.hook_latency", env, {"op": "history", "n": args.history}, logs / "seed.log"
            )
        res["init"] = {k: v for k, v in init.items() if k != "api_key"}
        counter = [0]
        for n in args.rules:
            seeded = run_seed("benchmarks.hook_latency", env, {"op": "rules", "n": n}, logs / "seed.log")
            clear_queue(vdir)
            print(f"[{kind}] {n} rules: {seeded['rules_total']} rows in {seeded['seconds']:.1f} s", flush=True)
            spies: list[PySpy] = []
            # A fresh server per N: nothing cached from the previous N (connections, query plans).
            with Gunicorn(env, logs) as web, requests.Session() as s:
                url = f"{web.url}/hooks/nginx-rtmp/?token={HOOK_TOKEN}"
                run_pairs(s, url, n, args.warmup, f"w{n}_", counter)
                floor, floor_bad = timed_requests(
                    lambda i, u=url: s.post(u, data=hook_form("update", f"floor{i}", 0)),
                    args.floor,
                    lambda r: r.status_code == 200,
                )
                before = queued_messages(vdir)
                try:
                    if args.profile and n == max(args.rules):
                        spies = [PySpy(pid, OUT / f"hook_latency_profile_{kind}_{pid}.txt") for pid in web.worker_pids]
                    t_run = time.perf_counter()
                    row = run_pairs(s, url, n, args.pairs, f"m{n}_", counter)
                    row["wall_s"] = time.perf_counter() - t_run
                finally:
                    for spy in spies:
                        spy.stop()
                row["enqueued_record_stream"] = queued_messages(vdir) - before
                row["floor_update"] = lat_ms(floor)
                row["floor_errors"] = floor_bad
                row["rules_total"] = seeded["rules_total"]
                if spies:
                    row["profile"] = summarize_profile([sp.out for sp in spies])
                    row["profile_files"] = [str(sp.out) for sp in spies]
                leftovers = web.stop()
                if leftovers:
                    row["leftover_pids_killed"] = leftovers
            res["by_rules"][str(n)] = row
            p, d = row["publish"], row["publish_done"]
            print(
                f"[{kind}] {n} rules: publish p50 {fmt(p['p50_ms'])} p99 {fmt(p['p99_ms'])} max "
                f"{fmt(p['max_ms'])} ms | publish_done p50 {fmt(d['p50_ms'])} p99 {fmt(d['p99_ms'])} ms | "
                f"floor p50 {fmt(row['floor_update']['p50_ms'])} ms | errors {row['errors']} | "
                f"enqueued {row['enqueued_record_stream']}",
                flush=True,
            )
    return res


def table(result: dict[str, Any]) -> str:
    m = result["machine"]
    head = [
        "db",
        "rules",
        "publish p50",
        "p99",
        "max",
        "exact p99",
        "catch-all p99",
        "publish_done p50",
        "p99",
        "max",
        "floor p50",
        "errors",
        "enqueued",
        "target p99<=20",
    ]
    rows = []
    for b in result["backends"]:
        for n, r in b["by_rules"].items():
            p, d = r["publish"], r["publish_done"]
            worst = max(p["p99_ms"] or 0, d["p99_ms"] or 0)
            rows.append(
                [
                    b["db"],
                    f"{int(n):,}",
                    fmt(p["p50_ms"]),
                    fmt(p["p99_ms"]),
                    fmt(p["max_ms"]),
                    fmt(r["publish_exact_rule"]["p99_ms"]),
                    fmt(r["publish_catch_all"]["p99_ms"]),
                    fmt(d["p50_ms"]),
                    fmt(d["p99_ms"]),
                    fmt(d["max_ms"]),
                    fmt(r["floor_update"]["p50_ms"]),
                    str(r["errors"]),
                    str(r["enqueued_record_stream"]),
                    ("met" if worst <= 20 else "MISSED") if int(n) >= 10000 else ("ok" if worst <= 20 else "over"),
                ]
            )
    a = result["args"]
    out = [
        f"hook_latency: {a['pairs']} publish + publish_done pairs per N (after {a['warmup']} warm-up), ms, "
        f"client-side through gunicorn ({GUNICORN_WORKERS} workers x {GUNICORN_THREADS} threads); "
        f"{m['nproc']} x {m['cpu_model']}, load at start {m['loadavg_at_start'][0]:.2f}"
        + (f"; {a['history']:,} ended sessions pre-inserted" if a.get("history") else ""),
        *md_table(head, rows),
        "floor = call=update (token check, 200, no database) through the same server; enqueued = "
        "liverecord.record_stream messages written to the filesystem broker during the measured pairs",
    ]
    return "\n".join(out)


def plot(result: dict[str, Any], path: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not importable: no plot"
    backends = result["backends"]
    fig, axes = plt.subplots(1, len(backends), figsize=(6.2 * len(backends), 4.4), squeeze=False)
    for ax, b in zip(axes[0], backends, strict=False):
        ns = list(b["by_rules"])
        x = range(len(ns))
        series = [
            ("publish p50", lambda r: r["publish"]["p50_ms"], "#3b7dd8", -0.3),
            ("publish p99", lambda r: r["publish"]["p99_ms"], "#a0c4f0", -0.1),
            ("publish_done p50", lambda r: r["publish_done"]["p50_ms"], "#c0a040", 0.1),
            ("publish_done p99", lambda r: r["publish_done"]["p99_ms"], "#e8d89a", 0.3),
        ]
        top = 20.0
        for label, get, color, off in series:
            vals = [get(b["by_rules"][n]) or 0 for n in ns]
            top = max(top, *vals)
            bars = ax.bar([i + off for i in x], vals, width=0.2, label=label, color=color)
            ax.bar_label(bars, fmt="%.1f", fontsize=7)
        ax.set_ylim(0, top * 1.45)  # room for the legend above the bars
        ax.axhline(20, color="#cc3333", linestyle="--", linewidth=1, label="target p99 20 ms")
        ax.set_xticks(list(x), [f"{int(n):,} rules" for n in ns])
        ax.set_ylabel("ms (client side)")
        ax.set_title(f"{b['db']}")
        ax.legend(fontsize=7, ncol=3, loc="upper left")
    m = result["machine"]
    fig.suptitle(
        f"hook_latency: nginx-rtmp hooks through gunicorn, {result['args']['pairs']} pairs per N; "
        f"{m['nproc']} x {m['cpu_model']}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--database-url",
        default=PG_SERVER,
        help="PostgreSQL server to create a private database lr_bench_<pid>_hook on (this URL's database "
        "is only used to CREATE and DROP it)",
    )
    parser.add_argument("--rules", type=lambda s: [int(x) for x in s.split(",")], default=list(RULE_COUNTS))
    parser.add_argument("--pairs", type=int, default=2000, help="measured publish + publish_done pairs per N")
    parser.add_argument("--warmup", type=int, default=200, help="pairs before the measured ones")
    parser.add_argument("--floor", type=int, default=500, help="call=update requests (the HTTP + Django floor)")
    parser.add_argument("--history", type=int, default=0, help="ended sessions to insert before the runs")
    parser.add_argument("--profile", action="store_true", help="py-spy both gunicorn workers at the largest N")
    parser.add_argument("--keep", action="store_true", help="keep the temp var dir (logs)")
    parser.add_argument("--json", type=Path, default=OUT / "hook_latency.json")
    parser.add_argument("--png", type=Path, default=OUT / "hook_latency.png")
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed:
        print("SEED " + json.dumps(_seed(json.loads(args.seed))), flush=True)
        return 0
    OUT.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "args": {k: v for k, v in vars(args).items() if k != "seed"},
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        "api_rate": API_RATE,
        "backends": [],
    }
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    for kind in kinds:
        result["backends"].append(run_backend(kind, args))
    text = table(result)
    print(text)
    result["table"] = text
    if args.profile:
        for b in result["backends"]:
            for n, r in b["by_rules"].items():
                if r.get("profile"):
                    print(f"\nprofile {b['db']} {n} rules (inclusive share of samples, both workers):")
                    for frame, share in r["profile"]:
                        print(f"  {share * 100:5.1f}%  {frame}")
    note = plot(result, args.png)
    result["plot"] = note or str(args.png)
    args.json.write_text(json.dumps(result, indent=1, default=str))
    print(f"\nraw numbers: {args.json}" + (f"; plot: {args.png}" if note is None else f"; {note}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
