"""API latency: list and filter ``/api/v1/files/`` over 100,000 rows; create templates and rules.

    .venv/bin/python -m benchmarks.api_latency                   # SQLite and a private PostgreSQL DB
    .venv/bin/python -m benchmarks.api_latency --db sqlite --files 20000 --requests 50   # quick check

For each database (the embedded SQLite default, and a database of its own that it creates on the
PostgreSQL server of ``--database-url`` and drops at the end) in a private ``LIVEREC_VAR_DIR`` (a temp
dir, deleted at the end):

* ``manage.py migrate``; one App (its API key), the push domain ``127.0.0.1``, one template; then, in a
  child process with the server's environment, ``--files`` RecordFile rows bulk-created in batches of
  5,000 for that App: 400 streams with a skewed popularity (a few busy streams, a long tail), 2,000
  record tasks the files belong to, formats mp4 35 % / hls 20 % / flv 20 % / aac 15 % / mp3 10 %,
  statuses stored 90 % / expired 4 % / backup 3 % / failed 2 % / uploading 1 %, start times uniform over
  the last 90 days, local storage (stored and backup files have a local path, so each row's URL is a
  signed download link, as in the embedded setup).
* The real web server, as ``deploy/Procfile`` runs it (gunicorn, 2 workers, 8 threads), with
  ``LIVEREC_API_RATE=100000/s`` so the per-App throttle never answers 429 during the benchmark.
* ``--requests`` sequential requests per query over one keep-alive session with
  ``Authorization: Bearer <key>``, after 5 warm-up requests each: the first page, four filters, page 200,
  ``page_size=500``; then ``--creates`` POSTs of templates and of rules (distinct names and streams).
* Afterwards, in a child process: the same GETs through Django's test client with every SQL statement
  timed and explained (where the time goes: SQL vs Python, COUNT vs page).

Results: a table on stdout, benchmarks/out/api_latency.json and benchmarks/out/api_latency.png.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from benchmarks.hook_latency import (
    API_RATE,
    GUNICORN_THREADS,
    GUNICORN_WORKERS,
    OUT,
    PG_SERVER,
    Gunicorn,
    PySpy,
    bench_env,
    database,
    fmt,
    lat_ms,
    machine,
    manage,
    md_table,
    run_seed,
    summarize_profile,
    timed_requests,
    var_dir,
)

STREAMS = 400
TASKS = 2000
FORMATS = (("mp4", 35), ("hls", 20), ("flv", 20), ("aac", 15), ("mp3", 10))
STATUSES = (("stored", 90), ("expired", 4), ("backup", 3), ("failed", 2), ("uploading", 1))
DAYS = 90


def stream_name(i: int) -> str:
    return f"s{i:04d}"


def queries(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, path) of every GET measured."""
    busy, tail = meta["busy_stream"], meta["tail_stream"]
    window = urlencode({"start_time_after": meta["day_from"], "start_time_before": meta["day_to"]})
    return [
        ("list, first page", "/api/v1/files/"),
        (f"?stream_name= busy stream ({meta['busy_rows']} rows)", f"/api/v1/files/?stream_name={busy}"),
        (f"?stream_name= tail stream ({meta['tail_rows']} rows)", f"/api/v1/files/?stream_name={tail}"),
        ("?format=mp4&status=stored", "/api/v1/files/?format=mp4&status=stored"),
        (
            "?start_time_after=&start_time_before= (1 day)",
            f"/api/v1/files/?{window}",
        ),
        ("?name_prefix= (one stream)", f"/api/v1/files/?name_prefix=live/{tail}/"),
        ("?page=200", "/api/v1/files/?page=200"),
        ("?page_size=500", "/api/v1/files/?page_size=500"),
    ]


# --- seeding (child process, server environment) -------------------------------------------------


def _seed(op: dict[str, Any]) -> dict[str, Any]:
    import django

    django.setup()
    if op["op"] == "files":
        return _seed_files(int(op["n"]))
    if op["op"] == "breakdown":
        return _breakdown(op)
    raise ValueError(op)


def _seed_files(n: int) -> dict[str, Any]:
    import random
    from datetime import timedelta

    from django.db import connection, transaction
    from django.utils import timezone

    from liverecord.services import app_create
    from recordings.models import RecordFile, RecordTask
    from rules.services import domain_create
    from templates_app.services import template_create

    rnd = random.Random(7)
    app, key = app_create(name="bench")
    domain_create(app=app, name="127.0.0.1")
    template = template_create(app=app, name="bench", mp4={"enabled": True, "record_interval": 1800})
    now = timezone.now().replace(microsecond=0)
    t0 = time.perf_counter()
    # popularity: weight 1 / (rank + 1) ** 0.8
    weights = [1 / (i + 1) ** 0.8 for i in range(STREAMS)]
    task_stream = rnd.choices(range(STREAMS), weights=weights, k=TASKS)
    tasks = RecordTask.objects.bulk_create(
        [
            RecordTask(
                app=app,
                kind="rule",
                status="finished",
                domain="127.0.0.1",
                app_name="live",
                stream_name=stream_name(s),
                start_time=now - timedelta(days=DAYS),
                template=template,
                formats={"mp4": {"record_interval": 1800, "storage_time": 0}},
            )
            for s in task_stream
        ],
        batch_size=2000,
    )
    by_stream: dict[int, list[RecordTask]] = {}
    for s, t in zip(task_stream, tasks, strict=True):
        by_stream.setdefault(s, []).append(t)
    streams_with_tasks = sorted(by_stream)
    st_weights = [weights[s] for s in streams_with_tasks]
    fmts, fw = zip(*FORMATS, strict=True)
    stats, sw = zip(*STATUSES, strict=True)
    batch: list[RecordFile] = []
    with transaction.atomic():
        for _ in range(n):
            s = rnd.choices(streams_with_tasks, weights=st_weights)[0]
            name = stream_name(s)
            fmt_ = rnd.choices(fmts, weights=fw)[0]
            status = rnd.choices(stats, weights=sw)[0]
            start = now - timedelta(seconds=rnd.randrange(DAYS * 86400))
            duration = 1800.0 if fmt_ != "hls" else float(rnd.randrange(600, 14400))
            duration -= rnd.random() * 5
            end = start + timedelta(seconds=duration)
            ext = "m3u8" if fmt_ == "hls" else fmt_
            fname = f"live/{name}/{name}-{start:%Y%m%d-%H%M%S}"
            batch.append(
                RecordFile(
                    app=app,
                    task=rnd.choice(by_stream[s]),
                    domain="127.0.0.1",
                    app_name="live",
                    stream_name=name,
                    format=fmt_,
                    start_time=start,
                    end_time=end,
                    duration=duration,
                    size=int(duration * (16000 if fmt_ in ("aac", "mp3") else 260000)),
                    status=status,
                    name=fname,
                    local_path=(f"/srv/media/{app.pk}/{fname}.{ext}" if status in ("stored", "backup") else ""),
                    stored_at=end + timedelta(seconds=2) if status == "stored" else None,
                    video_codec="" if fmt_ in ("aac", "mp3") else "h264",
                    audio_codec="aac" if fmt_ != "mp3" else "mp3",
                    width=None if fmt_ in ("aac", "mp3") else 1280,
                    height=None if fmt_ in ("aac", "mp3") else 720,
                    checksum=f"sha256:{rnd.getrandbits(256):064x}",
                )
            )
            if len(batch) >= 5000:
                RecordFile.objects.bulk_create(batch)
                batch = []
        RecordFile.objects.bulk_create(batch)
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    insert_s = time.perf_counter() - t0
    # a busy stream (rank 3) and one of the long tail (the median stream that has tasks)
    busy = stream_name(3 if 3 in by_stream else streams_with_tasks[0])
    tail = stream_name(streams_with_tasks[len(streams_with_tasks) // 2])
    day_from = (now - timedelta(days=30)).isoformat()
    day_to = (now - timedelta(days=29)).isoformat()
    return {
        "api_key": key,
        "template_id": template.pk,
        "files": RecordFile.objects.filter(app=app).count(),
        "tasks": len(tasks),
        "insert_s": insert_s,
        "busy_stream": busy,
        "tail_stream": tail,
        "busy_rows": RecordFile.objects.filter(app=app, stream_name=busy).count(),
        "tail_rows": RecordFile.objects.filter(app=app, stream_name=tail).count(),
        "mp4_stored_rows": RecordFile.objects.filter(app=app, format="mp4", status="stored").count(),
        "day_from": day_from,
        "day_to": day_to,
        "day_rows": RecordFile.objects.filter(app=app, start_time__gte=day_from, start_time__lte=day_to).count(),
        "prefix_rows": RecordFile.objects.filter(app=app, name__startswith=f"live/{tail}/").count(),
    }


def _run_sql(connection: Any, sql: str) -> float:
    """Seconds to execute one statement (as Django logged it, parameters in) and fetch all its rows; best of 3.

    Re-run on its own because SQLite steps its VM while rows are fetched, after ``execute`` returns.
    """
    if not sql.lstrip().upper().startswith("SELECT"):
        return 0.0
    best = float("inf")
    with connection.cursor() as cur:
        for _ in range(3):
            t = time.perf_counter()
            cur.execute(sql)
            cur.fetchall()
            best = min(best, time.perf_counter() - t)
    return best


def _breakdown(op: dict[str, Any]) -> dict[str, Any]:
    """Each GET through Django's test client, 5 times: total time; each SQL statement re-run alone, and its plan."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_AUTHORIZATION=f"Bearer {op['api_key']}")
    out: dict[str, Any] = {}
    for label, path in op["queries"]:
        runs = []
        for _ in range(6):
            t0 = time.perf_counter()
            with CaptureQueriesContext(connection) as ctx:
                resp = client.get(path)
            total = time.perf_counter() - t0
            sqls = [q["sql"] for q in ctx.captured_queries]
            runs.append((total, [(sq, _run_sql(connection, sq)) for sq in sqls], resp.status_code))
        runs = runs[1:]  # the first one warms caches
        best = min(runs, key=lambda r: r[0])
        sql_ms = [sum(t for _, t in r[1]) * 1000 for r in runs]
        stmts = []
        for sql, t in best[1]:
            plan = ""
            if sql.lstrip().upper().startswith("SELECT") and op.get("explain", True):
                with connection.cursor() as cur:
                    if connection.vendor == "sqlite":
                        cur.execute("EXPLAIN QUERY PLAN " + sql)
                        plan = " / ".join(str(r[-1]) for r in cur.fetchall())
                    else:
                        cur.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + sql)
                        plan = "\n".join(r[0] for r in cur.fetchall())
            stmts.append({"sql": sql[:400], "ms": t * 1000, "plan": plan})
        out[label] = {
            "status": best[2],
            "total_ms_median": sorted(r[0] for r in runs)[len(runs) // 2] * 1000,
            "sql_ms_median": sorted(sql_ms)[len(sql_ms) // 2],
            "statements": len(best[1]),
            "best": stmts,
        }
    return out


# --- the run --------------------------------------------------------------------------------------


def run_backend(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    import requests

    res: dict[str, Any] = {"db": kind, "gets": {}, "posts": {}}
    with var_dir(f"lr_apibench_{kind}_", keep=args.keep) as vdir, database(kind, args.database_url, "api") as db_url:
        logs = vdir / "logs"
        logs.mkdir()
        env = bench_env(vdir, db_url)
        res["database"] = db_url or "sqlite (embedded default, in the temp var dir)"
        t0 = time.perf_counter()
        manage(env, "migrate", "--noinput", log=logs / "migrate.log")
        res["migrate_s"] = time.perf_counter() - t0
        seeded = run_seed("benchmarks.api_latency", env, {"op": "files", "n": args.files}, logs / "seed.log")
        key = seeded.pop("api_key")
        res["seeded"] = seeded
        print(
            f"[{kind}] {seeded['files']:,} files, {seeded['tasks']:,} tasks inserted in {seeded['insert_s']:.1f} s",
            flush=True,
        )
        qs = queries(seeded)
        with Gunicorn(env, logs) as web, requests.Session() as s:
            s.headers["Authorization"] = f"Bearer {key}"
            spies: list[PySpy] = []
            try:
                for label, path in qs:
                    url = web.url + path
                    timed_requests(lambda i, u=url: s.get(u), 5, lambda r: r.status_code == 200)
                    if args.profile and label == "list, first page":
                        spies = [PySpy(pid, OUT / f"api_latency_profile_{kind}_{pid}.txt") for pid in web.worker_pids]
                    times, bad = timed_requests(
                        lambda i, u=url: s.get(u), args.requests, lambda r: r.status_code == 200
                    )
                    for spy in spies:
                        spy.stop()
                    if spies:
                        res["profile_first_page"] = summarize_profile([sp.out for sp in spies], top=40)
                        spies = []
                    last = s.get(url).json()
                    row = lat_ms(times)
                    row.update(path=path, errors=bad, count=last.get("count"), results=len(last.get("results", [])))
                    res["gets"][label] = row
                    print(
                        f"[{kind}] GET {label}: p50 {fmt(row['p50_ms'])} p99 {fmt(row['p99_ms'])} ms "
                        f"(count {row['count']}, {row['results']} rows, errors {bad})",
                        flush=True,
                    )
                tpl = seeded["template_id"]
                posts = [
                    (
                        "POST record-templates",
                        "/api/v1/record-templates/",
                        lambda i: {
                            "name": f"bench-t{i:05d}",
                            "mp4": {"enabled": True, "record_interval": 1800},
                            "hls": {"enabled": True},
                        },
                    ),
                    (
                        "POST record-rules",
                        "/api/v1/record-rules/",
                        lambda i: {
                            "domain": "127.0.0.1",
                            "app_name": "live",
                            "stream_name": f"bench{i:05d}",
                            "template": tpl,
                        },
                    ),
                ]
                for label, path, body in posts:
                    url = web.url + path
                    times, bad = timed_requests(
                        lambda i, u=url, b=body: s.post(u, json=b(i)), args.creates, lambda r: r.status_code == 201
                    )
                    row = lat_ms(times)
                    row.update(path=path, errors=bad)
                    res["posts"][label] = row
                    print(f"[{kind}] {label}: p50 {fmt(row['p50_ms'])} p99 {fmt(row['p99_ms'])} ms, errors {bad}")
            finally:
                for spy in spies:
                    spy.stop()
                leftovers = web.stop()
                if leftovers:
                    res["leftover_pids_killed"] = leftovers
        if args.breakdown:
            res["breakdown"] = run_seed(
                "benchmarks.api_latency",
                env,
                {"op": "breakdown", "api_key": key, "queries": qs},
                logs / "seed.log",
            )
    return res


def table(result: dict[str, Any]) -> str:
    m = result["machine"]
    a = result["args"]
    head = ["request", *[f"{b['db']} p50 / p99 ms" for b in result["backends"]], "rows (count)", "target"]
    labels = list(result["backends"][0]["gets"]) + list(result["backends"][0]["posts"])
    rows = []
    for label in labels:
        cells = []
        worst = 0.0
        for b in result["backends"]:
            r = b["gets"].get(label) or b["posts"].get(label) or {}
            cells.append(
                f"{fmt(r.get('p50_ms'))} / {fmt(r.get('p99_ms'))}"
                + (f" ({r['errors']} err)" if r.get("errors") else "")
            )
            worst = max(worst, r.get("p99_ms") or 0)
        first = result["backends"][0]["gets"].get(label, {})
        count = f"{first.get('results')} ({first.get('count'):,})" if first.get("count") is not None else "-"
        target = ("met" if worst <= 100 else "MISSED") if label.startswith(("list", "?")) else "-"
        rows.append([label, *cells, count, target])
    out = [
        f"api_latency: {a['files']:,} files in one App; {a['requests']} sequential GETs per query (after 5 warm-up), "
        f"{a['creates']} POSTs each; client-side ms through gunicorn ({GUNICORN_WORKERS} workers x "
        f"{GUNICORN_THREADS} threads), LIVEREC_API_RATE={API_RATE}; {m['nproc']} x {m['cpu_model']}, "
        f"load at start {m['loadavg_at_start'][0]:.2f}",
        *md_table(head, rows),
        "target (issue 7): files list p99 <= 100 ms at 100,000 rows, read here as every GET of files",
    ]
    for b in result["backends"]:
        if b.get("breakdown"):
            out.append(
                f"\nwhere the time goes ({b['db']}, in-process test client, median of 5): total / SQL ms, statements"
            )
            for label, bd in b["breakdown"].items():
                if not isinstance(bd, dict):
                    continue
                sqls = ", ".join(f"{s['ms']:.1f}" for s in bd["best"])
                out.append(
                    f"  {label:<48} {bd['total_ms_median']:7.1f} / {bd['sql_ms_median']:6.1f}  "
                    f"({bd['statements']} stmts: {sqls} ms)"
                )
    return "\n".join(out)


def plot(result: dict[str, Any], path: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not importable: no plot"
    backends = result["backends"]
    labels = list(backends[0]["gets"]) + list(backends[0]["posts"])
    fig, ax = plt.subplots(figsize=(13, 5.2))
    width = 0.8 / (2 * len(backends))
    colors = [("#3b7dd8", "#a0c4f0"), ("#c0a040", "#e8d89a")]
    for bi, b in enumerate(backends):
        for qi, (q, c) in enumerate((("p50_ms", colors[bi][0]), ("p99_ms", colors[bi][1]))):
            vals = [((b["gets"].get(lb) or b["posts"].get(lb) or {}).get(q) or 0) for lb in labels]
            off = -0.4 + width * (2 * bi + qi) + width / 2
            bars = ax.bar([i + off for i in range(len(labels))], vals, width=width, color=c, label=f"{b['db']} {q[:3]}")
            ax.bar_label(bars, fmt="%.0f", fontsize=6)
    ax.axhline(100, color="#cc3333", linestyle="--", linewidth=1, label="target p99 100 ms (files list)")
    ax.set_xticks(range(len(labels)), [lb.replace(" (", "\n(") for lb in labels], fontsize=7)
    ax.set_ylabel("ms (client side)")
    ax.legend(fontsize=7)
    m = result["machine"]
    ax.set_title(
        f"api_latency: /api/v1/files/ with {result['args']['files']:,} rows; creates; {m['nproc']} x {m['cpu_model']}"
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
        help="PostgreSQL server to create a private database lr_bench_<pid>_api on (this URL's database "
        "is only used to CREATE and DROP it)",
    )
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=200, help="measured GETs per query")
    parser.add_argument("--creates", type=int, default=200, help="POSTs of templates and of rules")
    parser.add_argument("--no-breakdown", dest="breakdown", action="store_false", help="skip the SQL breakdown")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy both gunicorn workers during the first-page GETs"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp var dir (logs)")
    parser.add_argument("--json", type=Path, default=OUT / "api_latency.json")
    parser.add_argument("--png", type=Path, default=OUT / "api_latency.png")
    parser.add_argument("--seed", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.seed:
        print("SEED " + json.dumps(_seed(json.loads(args.seed)), default=str), flush=True)
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
    note = plot(result, args.png)
    result["plot"] = note or str(args.png)
    args.json.write_text(json.dumps(result, indent=1, default=str))
    print(f"\nraw numbers: {args.json}" + (f"; plot: {args.png}" if note is None else f"; {note}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
