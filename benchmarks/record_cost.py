"""Recording cost and start latency: our recorder vs ``ffmpeg -c copy`` vs nginx-rtmp ``record all``.

    .venv/bin/python -m benchmarks.record_cost --streams 20 --seconds 60

One run, on one machine, all sides at the same time (the machine is shared and noisy, so sides are
compared as ratios measured under the same load):

* N pushers ``ffmpeg -re -stream_loop -1 -i clip -t SECONDS -c copy`` of a 2 Mbps 720p30 H.264
  (GOP 2 s) + AAC clip. With phase C on (default), each pusher feeds three nginx-rtmp instances
  through ffmpeg's tee muxer (the very same packets): ``main`` (pulled by A and B), ``rec``
  (``record all``) and ``bare`` (no recording: the baseline that ``rec`` is compared with).
* Every ``on_publish`` hook of ``main`` (answered 200 by a HookReceiver, no Django) triggers, as the
  real hook + Celery job would, both
  - A: a ``start`` command to ONE recorder process (benchmarks._recorder_host) that hosts one
    StreamRecorder per stream with all five formats (record_interval 60 s), and
  - B: one ``ffmpeg -i rtmp://... -c copy -f flv`` process per stream (default probe).
  Both retry their pull while nginx refuses to play a stream whose hook is not answered yet.
* When the pushes end, nginx closes the players; A and B finish on their own (end of data).

Measured: CPU (user+sys) and peak RSS of A's process (from ``ready`` -- after imports -- to the
end, packaging of the last files included), of every B process (os.wait4 rusage), nginx worker CPU
of ``rec`` minus ``bare`` (C); per-stream start latency; completeness and gaps from the packets of
every output file (ffprobe). Results: a table on stdout, benchmarks/out/record_cost.json and, if
matplotlib is importable, benchmarks/out/record_cost.png.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import platform
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from benchmarks._mediacheck import analyze
from benchmarks._proc import Measured, PeakSampler, fmt, pct, tree_cpu_seconds, tree_hwm_kb
from deploy.nginx_rtmp import NginxRtmp
from tests.support.hook_receiver import HookReceiver, RecordedRequest
from tests.support.media import FFMPEG, FFPROBE
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
FORMATS = ("flv", "mp4", "hls", "aac", "mp3")
PULL_RETRY_FOR = 15.0
PULL_RETRY_SLEEP = 0.02


# --- the clip ------------------------------------------------------------------------------------


def pushed_reference(clip: Path, seconds: float, run_dir: Path) -> dict[str, Any]:
    """What one pusher sends: the same ffmpeg command written to a file (not paced), analyzed."""
    ref = run_dir / "pushed_reference.flv"
    subprocess.run(
        [
            FFMPEG,
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-y",
            "-stream_loop",
            "-1",
            "-i",
            str(clip),
            "-t",
            f"{seconds:g}",
            "-map",
            "0:v",
            "-map",
            "0:a",
            "-c",
            "copy",
            "-f",
            "flv",
            str(ref),
        ],
        check=True,
        stdin=subprocess.DEVNULL,
    )
    info = analyze(ref)
    ref.unlink(missing_ok=True)
    return {
        "duration": info["recorded"],
        "longest_track": info["duration"],
        "gaps": info["gaps"],
        "streams": {k: v["duration"] for k, v in info["streams"].items()},
    }


def make_bench_clip(seconds: float, out_dir: Path) -> Path:
    """2 Mbps 720p30 H.264 (GOP 2 s, no scene-cut keyframes) + AAC 128k stereo, as FLV (cached)."""
    secs = int(seconds)
    path = out_dir / "clips" / f"testsrc2_720p30_2M_gop2_{secs}s.flv"
    if path.exists() and path.stat().st_size > 0:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".part.flv")
    cmd = [
        FFMPEG,
        "-hide_banner",
        "-nostdin",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=1280x720:rate=30",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=1000:sample_rate=44100",
        "-t",
        str(secs),
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-pix_fmt",
        "yuv420p",
        "-g",
        "60",
        "-keyint_min",
        "60",
        "-sc_threshold",
        "0",
        "-b:v",
        "2M",
        "-maxrate",
        "2M",
        "-bufsize",
        "4M",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-ac",
        "2",
        "-f",
        "flv",
        str(tmp),
    ]
    subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL)
    tmp.rename(path)
    return path


def clip_info(path: Path) -> dict[str, Any]:
    res = subprocess.run(
        [FFPROBE, "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    data = json.loads(res.stdout)
    v = next(s for s in data["streams"] if s["codec_type"] == "video")
    a = next(s for s in data["streams"] if s["codec_type"] == "audio")
    return {
        "path": str(path),
        "duration": float(data["format"]["duration"]),
        "bit_rate": int(data["format"].get("bit_rate") or 0),
        "video": f"{v['codec_name']} {v.get('profile', '')} {v['width']}x{v['height']} {v.get('r_frame_rate')}",
        "audio": f"{a['codec_name']} {a.get('sample_rate')} Hz {a.get('channels')} ch",
        "has_b_frames": v.get("has_b_frames"),
    }


# --- helpers --------------------------------------------------------------------------------------


class SizeTrace:
    """Polls files (10 ms) and keeps (time, size) whenever a size changes, until it passes ``limit``.

    Afterwards, ``reached(path, nbytes)`` says when the file first held nbytes: with the byte
    offset of the first keyframe's end (ffprobe pkt pos + size) that is "first keyframe in the file",
    whatever ffmpeg's output buffering does.
    """

    def __init__(self, limit: int = 8 << 20, period: float = 0.01) -> None:
        self.limit = limit
        self.period = period
        self.traces: dict[str, list[tuple[float, int]]] = {}
        self._paths: list[Path] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="size trace", daemon=True)

    def watch(self, path: Path) -> None:
        with self._lock:
            if str(path) not in self.traces:
                self.traces[str(path)] = []
                self._paths.append(path)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=2)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            with self._lock:
                paths = list(self._paths)
            done = []
            for p in paths:
                try:
                    size = p.stat().st_size
                except OSError:
                    continue
                tr = self.traces[str(p)]
                if not tr or tr[-1][1] != size:
                    tr.append((time.time(), size))
                if size >= self.limit:
                    done.append(p)
            if done:
                with self._lock:
                    self._paths = [p for p in self._paths if p not in done]

    def reached(self, path: Path, nbytes: int) -> float | None:
        for t, size in self.traces.get(str(path), []):
            if size >= nbytes:
                return t
        return None


def first_keyframe_end(path: Path) -> int | None:
    """Byte offset just past the first video keyframe of path."""
    res = subprocess.run(
        [
            FFPROBE,
            "-v",
            "error",
            "-select_streams",
            "v",
            "-read_intervals",
            "%+#30",
            "-show_entries",
            "packet=pos,size,flags",
            "-of",
            "json",
            str(path),
        ],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        return None
    for p in json.loads(res.stdout).get("packets", []):
        if p.get("flags", "").startswith("K") and p.get("pos") not in (None, "N/A"):
            return int(p["pos"]) + int(p["size"])
    return None


# --- phase B: ffmpeg -c copy pullers --------------------------------------------------------------


class CopyPuller:
    """One ``ffmpeg -c copy`` recording of one stream, retried while nginx refuses to play it."""

    def __init__(self, name: str, url: str, out: Path, log_dir: Path, trace: SizeTrace, sampler: PeakSampler) -> None:
        self.sampler = sampler
        self.name = name
        self.url = url
        self.out = out
        self.log_dir = log_dir
        self.trace = trace
        self.attempts: list[Measured] = []
        self.command_at = time.time()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"pull {name}", daemon=True)

    def run(self) -> None:
        deadline = time.monotonic() + PULL_RETRY_FOR
        self.trace.watch(self.out)
        while not self.stopping.is_set():
            n = len(self.attempts) + 1
            with open(self.log_dir / f"{self.name}.ffmpeg.{n}.log", "wb") as err:
                m = Measured(
                    [
                        FFMPEG,
                        "-hide_banner",
                        "-nostdin",
                        "-loglevel",
                        "error",
                        "-y",
                        "-i",
                        self.url,
                        "-map",
                        "0:v?",
                        "-map",
                        "0:a?",
                        "-c",
                        "copy",
                        "-f",
                        "flv",
                        str(self.out),
                    ],
                    role=f"ffmpeg-copy {self.name}",
                    stderr=err,
                )
            self.attempts.append(m)
            self.sampler.add(m.pid)
            m.wait()
            ran = (m.ended_at or time.time()) - m.started_at
            if m.returncode != 0 and ran < 3.0 and time.monotonic() < deadline and not self.stopping.is_set():
                time.sleep(PULL_RETRY_SLEEP)
                continue
            break

    @property
    def final(self) -> Measured | None:
        return self.attempts[-1] if self.attempts else None


# --- the run --------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    n, seconds = args.streams, float(args.seconds)
    run_dir = OUT / "record_cost_run"
    if run_dir.exists():
        shutil.rmtree(run_dir)
    for sub in ("a", "b", "c", "logs"):
        (run_dir / sub).mkdir(parents=True, exist_ok=True)
    clip = make_bench_clip(seconds + 10, OUT)
    names = [f"s{i:03d}" for i in range(n)]
    result: dict[str, Any] = {
        "args": vars(args),
        "machine": machine(),
        "clip": clip_info(clip),
        "started": time.strftime("%Y-%m-%d %H:%M:%S"),
    }

    publish_events: queue.Queue[tuple[str, str, float]] = queue.Queue()
    hook_times: dict[tuple[str, str, str], float] = {}

    def on_hook(req: RecordedRequest) -> int:
        srv, call, name = req.query.get("srv", ""), req.form.get("call", ""), req.form.get("name", "")
        hook_times.setdefault((srv, call, name), req.received_at)
        if call == "publish" and srv == "main":
            publish_events.put((srv, name, req.received_at))
        return 200

    trace = SizeTrace()
    sampler = PeakSampler(period=1.0)
    pushers: dict[str, Measured] = {}
    push_started: dict[str, float] = {}
    pullers: dict[str, CopyPuller] = {}
    host: Measured | None = None
    host_stdin_lock = threading.Lock()
    stop_dispatch = threading.Event()
    stack = contextlib.ExitStack()
    nginx: dict[str, NginxRtmp] = {}
    nginx_cpu: dict[str, dict[str, float]] = {}
    timeline: dict[str, float] = {}
    profile_proc: Measured | None = None
    follow = not args.pull
    try:
        hooks = stack.enter_context(HookReceiver(handler=on_hook))
        servers = ["main"] + (["rec", "bare"] if args.nginx_record else [])
        for srv in servers:
            nginx[srv] = stack.enter_context(
                NginxRtmp(
                    run_dir / f"nginx_{srv}",
                    free_port(),
                    hooks.url(f"/hooks/nginx-rtmp/?srv={srv}"),
                    record_dir=(run_dir / "c") if srv == "rec" else (run_dir / "follow") if follow else None,
                )
            )
        host_err = open(run_dir / "logs" / "recorder_host.log", "wb")  # noqa: SIM115 - closed in finally
        stack.callback(host_err.close)
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        host = Measured(
            [
                sys.executable,
                "-m",
                "benchmarks._recorder_host",
                "--root",
                str(run_dir / "a"),
                "--result",
                str(run_dir / "a_result.json"),
                "--finish-timeout",
                "90",
                "--formats",
                args.formats,
            ],
            role="recorder-host",
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=host_err,
            env=env,
            cwd=str(ROOT),
        )
        assert host.proc.stdout is not None and host.proc.stdin is not None
        line = host.proc.stdout.readline().decode().strip()
        if line != "ready":
            raise RuntimeError(f"recorder host did not start: {line!r}; see {run_dir / 'logs'}")
        sampler.add(host.pid)
        if args.profile:
            profile_proc = Measured(
                [
                    str(Path(sys.executable).parent / "py-spy"),
                    "record",
                    "--pid",
                    str(host.pid),
                    "--rate",
                    "50",
                    "--nonblocking",
                    "--format",
                    "raw",
                    "--output",
                    str(OUT / "record_cost_profile.txt"),
                    "--threads",
                ],
                role="py-spy",
                stdout=subprocess.DEVNULL,
                stderr=open(run_dir / "logs" / "py-spy.log", "wb"),  # noqa: SIM115
            )

        def send(cmd: str) -> None:
            assert host is not None and host.proc.stdin is not None
            with host_stdin_lock:
                host.proc.stdin.write((cmd + "\n").encode())
                host.proc.stdin.flush()

        def dispatch() -> None:
            while not stop_dispatch.is_set():
                try:
                    _srv, name, hook_at = publish_events.get(timeout=0.1)
                except queue.Empty:
                    continue
                if name in pullers or name not in push_started:
                    continue
                url = nginx["main"].rtmp_url(name)
                # As the real recorder on the ingest host: follow main's own record of the push (see
                # workers/engine/follow.py); with --pull, join over RTMP like a recorder on another host.
                extra = f" {run_dir / 'follow'} {hook_at!r}" if follow else ""
                send(f"start {name} {url} {push_started[name]!r}{extra}")
                if not args.no_ffmpeg:
                    p = CopyPuller(name, url, run_dir / "b" / f"{name}.flv", run_dir / "logs", trace, sampler)
                    pullers[name] = p
                    p.thread.start()

        dispatcher = threading.Thread(target=dispatch, name="dispatch", daemon=True)
        dispatcher.start()
        trace.start()
        sampler.start()

        def start_pushes(servers: list[str], tag: str) -> dict[str, Measured]:
            procs: dict[str, Measured] = {}
            for name in names:
                urls = [nginx[srv].rtmp_url(name) for srv in servers]
                if len(urls) == 1:
                    target = ["-f", "flv", urls[0]]
                else:  # the very same packets to every server
                    target = ["-f", "tee", "|".join(f"[f=flv:onfail=ignore]{u}" for u in urls)]
                if tag == "ab":
                    push_started[name] = time.time()
                with open(run_dir / "logs" / f"{name}.push_{tag}.log", "wb") as err:
                    procs[name] = Measured(
                        [
                            FFMPEG,
                            "-hide_banner",
                            "-nostdin",
                            "-loglevel",
                            "error",
                            "-re",
                            "-stream_loop",
                            "-1",
                            "-i",
                            str(clip),
                            "-t",
                            f"{seconds:g}",
                            "-map",
                            "0:v",
                            "-map",
                            "0:a",
                            "-c",
                            "copy",
                            *target,
                        ],
                        role=f"push {tag} {name}",
                        stderr=err,
                    )
                time.sleep(args.stagger)
            return procs

        def wait_pushes(procs: dict[str, Measured]) -> float:
            deadline = time.monotonic() + seconds + 60
            for p in procs.values():
                p.wait(max(0.1, deadline - time.monotonic()))
            return max((p.ended_at or time.time()) for p in procs.values())

        # --- phase A + B: direct pushes to "main" (one publisher -> one server, like OBS) ---
        ng_main = nginx["main"]
        assert ng_main.pid is not None
        nginx_cpu["main"] = {"before": tree_cpu_seconds(ng_main.pid)}
        timeline["push_first"] = time.time()
        pushers.update(start_pushes(["main"], "ab"))
        # Pushes end by themselves (-t); then nginx disconnects the players.
        timeline["push_last_end"] = wait_pushes(pushers)
        for p in pullers.values():
            p.thread.join(timeout=60)
        timeline["pullers_done"] = time.time()
        send("finish")
        if not host.wait(150):
            raise RuntimeError("recorder host did not finish within 150 s")
        timeline["host_done"] = time.time()
        nginx_cpu["main"]["after"] = tree_cpu_seconds(ng_main.pid)
        nginx_cpu["main"]["hwm_kb"] = tree_hwm_kb(ng_main.pid)

        # --- phase C: the same pushes (tee) to "rec" (record all) and "bare" (no recording) at once ---
        if args.nginx_record:
            for srv in ("rec", "bare"):
                pid = nginx[srv].pid
                assert pid is not None
                nginx_cpu[srv] = {"before": tree_cpu_seconds(pid)}
            timeline["c_push_first"] = time.time()
            c_pushers = start_pushes(["rec", "bare"], "c")
            timeline["c_push_last_end"] = wait_pushes(c_pushers)
            time.sleep(1.0)  # nginx-rtmp closes its record files on publish_done
            for srv in ("rec", "bare"):
                pid = nginx[srv].pid
                assert pid is not None
                nginx_cpu[srv]["after"] = tree_cpu_seconds(pid)
                nginx_cpu[srv]["hwm_kb"] = tree_hwm_kb(pid)
    finally:
        # Every step runs even if an earlier one fails: nothing may be left running.
        cleanup_errors: list[str] = []

        def step(fn: Any, *a: Any, **kw: Any) -> Any:
            try:
                return fn(*a, **kw)
            except Exception as exc:  # noqa: BLE001 - reported, the next step still runs
                cleanup_errors.append(f"{getattr(fn, '__qualname__', fn)}: {exc!r}")
                return None

        stop_dispatch.set()
        for p in pullers.values():
            p.stopping.set()
        step(trace.stop)
        step(sampler.stop)
        if profile_proc is not None:
            step(profile_proc.stop, signal.SIGINT, timeout=10)
        if host is not None and host.alive():
            step(host.stop, signal.SIGTERM, timeout=40)
        leftovers = step(Measured.stop_all, timeout=5) or []
        for p in pullers.values():
            step(p.thread.join, timeout=2)
        leftovers += step(Measured.stop_all, timeout=5) or []
        step(stack.close)  # nginx instances (stopped by pid), hook receiver
        result["leftover_processes_stopped"] = leftovers
        result["cleanup_errors"] = cleanup_errors
        if cleanup_errors:
            print(f"cleanup errors: {cleanup_errors}", file=sys.stderr)

    result["timeline"] = timeline
    result["hooks"] = {f"{s}/{c}/{n}": t for (s, c, n), t in hook_times.items()}
    a_result = json.loads((run_dir / "a_result.json").read_text())
    result["host_process"] = {
        "total_cpu_incl_startup": host.cpu if host else None,
        "maxrss_kb": host.maxrss_kb if host else None,
        "returncode": host.returncode if host else None,
    }
    result["pushed_reference"] = pushed_reference(clip, seconds, run_dir)
    result["peak_pss_kb"] = {
        "host": sampler.peak_pss.get(host.pid) if host else None,
        "pullers": {n: sampler.peak_pss.get(p.final.pid) for n, p in pullers.items() if p.final},
    }
    analyze_all(result, a_result, pushers, push_started, pullers, trace, nginx_cpu, run_dir, n, seconds, args)
    if not args.keep:
        for sub in ("a", "b", "c"):
            shutil.rmtree(run_dir / sub, ignore_errors=True)
    return result


def analyze_all(
    result: dict[str, Any],
    a_result: dict[str, Any],
    pushers: dict[str, Measured],
    push_started: dict[str, float],
    pullers: dict[str, CopyPuller],
    trace: SizeTrace,
    nginx_cpu: dict[str, dict[str, float]],
    run_dir: Path,
    n: int,
    seconds: float,
    args: argparse.Namespace,
) -> None:
    names = sorted(pushers)
    # completeness and CPU per stream-second are relative to what one pusher really sends
    seconds = float(result["pushed_reference"]["duration"] or seconds)
    pushed = {
        name: {
            "started_at": push_started[name],
            "wall": (p.ended_at or 0) - p.started_at,
            "returncode": p.returncode,
            "cpu": p.cpu,
        }
        for name, p in pushers.items()
    }
    result["pushers"] = {
        "returncodes": sorted({p["returncode"] for p in pushed.values()}, key=str),
        "cpu_seconds_total": sum(p["cpu"] or 0 for p in pushed.values()),
        "wall_p50": pct([p["wall"] for p in pushed.values()], 50),
    }

    # --- probe every output (after the run: the probes do not disturb the measurements) ---
    jobs: dict[tuple[str, str, str], Path] = {}
    a_streams = {s["name"]: s for s in a_result["streams"]}
    for name in names:
        s = a_streams.get(name)
        for f in (s or {}).get("files", []):
            if f["path"]:
                jobs[("A", name, f"{f['format']}:{Path(f['path']).name}")] = Path(f["path"])
        if name in pullers:
            jobs[("B", name, "flv")] = pullers[name].out
        for rec in sorted((run_dir / "c").glob(f"{name}-*.flv")):
            jobs[("C", name, f"flv:{rec.name}")] = rec
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        probes = dict(zip(jobs, pool.map(analyze, jobs.values()), strict=True))

    # --- per stream ---
    per_stream: list[dict[str, Any]] = []
    for name in names:
        t0 = push_started[name]
        row: dict[str, Any] = {"name": name, "push_started_at": t0}
        hook = result["hooks"].get(f"main/publish/{name}")
        row["hook_s"] = hook - t0 if hook else None
        row["hook_at"] = hook
        s = a_streams.get(name) or {}

        def rel(t: float | None, t0: float = t0) -> float | None:
            return None if t is None else t - t0

        row["A"] = {
            "attempts": s.get("attempts"),
            "command_s": rel(s.get("command_at")),
            "opened_s": rel(s.get("opened_at")),
            "first_packet_s": rel(s.get("first_packet_at")),
            "first_flv_keyframe_s": rel(s.get("first_flv_keyframe_at")),
            "first_chunk_closed_s": rel(s.get("first_chunk_closed_at")),
            "fatal": s.get("fatal"),
            "errors": s.get("errors"),
            "error_count": s.get("error_count"),
            "failed_files": [f for f in s.get("files", []) if f.get("error")],
            "stats": s.get("stats"),
            "formats": {},
        }
        for fmt_name in FORMATS:
            if fmt_name not in args.formats.split(","):
                continue
            files = [
                (k, v) for k, v in probes.items() if k[0] == "A" and k[1] == name and k[2].split(":")[0] == fmt_name
            ]
            row["A"]["formats"][fmt_name] = summarize_files([v for _, v in files], seconds)
        # continuity between consecutive files of one format (wallclock as the packager announced it)
        row["A"]["file_joins"] = file_joins(s.get("files", []))
        puller = pullers.get(name)
        b: dict[str, Any] = {"attempts": len(puller.attempts) if puller else 0}
        if puller is not None and puller.final is not None:
            fin = puller.final
            b.update(
                cpu=sum(m.cpu or 0 for m in puller.attempts),
                cpu_final=fin.cpu,
                maxrss_kb=fin.maxrss_kb,
                returncode=fin.returncode,
                command_s=rel(puller.command_at),
                started_s=rel(fin.started_at),
            )
            kf_end = first_keyframe_end(puller.out) if puller.out.exists() else None
            b["first_keyframe_in_file_s"] = rel(trace.reached(puller.out, kf_end)) if kf_end else None
            b["file"] = summarize_files([probes[("B", name, "flv")]], seconds)
        row["B"] = b
        c_files = [v for k, v in probes.items() if k[0] == "C" and k[1] == name]
        row["C"] = summarize_files(c_files, seconds) if args.nginx_record else None
        per_stream.append(row)
    result["per_stream"] = per_stream

    # --- sides ---
    sides: dict[str, Any] = {}
    a_cpu = a_result["cpu_seconds"]
    fmts = [f for f in FORMATS if f in args.formats.split(",")]
    a_complete = {f: [r["A"]["formats"][f]["completeness"] for r in per_stream] for f in fmts}
    a_gaps = sum(r["A"]["formats"][f]["gaps"] + r["A"]["formats"][f]["backwards"] for r in per_stream for f in fmts)
    a_joins_bad = sum(j["bad"] for r in per_stream for j in r["A"]["file_joins"].values())
    sides["A"] = {
        "label": f"liverecord recorder (1 process, {args.formats})",
        "cpu_seconds": a_cpu,
        "cpu_seconds_incl_startup": result["host_process"]["total_cpu_incl_startup"],
        "peak_rss_mb": (a_result["hwm_kb"] or 0) / 1024,
        "baseline_rss_mb": (a_result["ready_rss_kb"] or 0) / 1024,
        "rss_per_stream_mb": ((a_result["hwm_kb"] or 0) - (a_result["ready_rss_kb"] or 0)) / 1024 / n,
        "start_first_packet": lat([r["A"]["first_packet_s"] for r in per_stream]),
        "from_hook_first_packet": lat([sub(r["A"]["first_packet_s"], r["hook_s"]) for r in per_stream]),
        "from_hook_first_keyframe_in_file": lat([sub(r["A"]["first_flv_keyframe_s"], r["hook_s"]) for r in per_stream]),
        "peak_pss_mb": (result["peak_pss_kb"]["host"] or 0) / 1024,
        "start_first_keyframe_in_file": lat([r["A"]["first_flv_keyframe_s"] for r in per_stream]),
        "start_first_chunk_closed": lat([r["A"]["first_chunk_closed_s"] for r in per_stream]),
        "completeness_by_format": {
            f: {"min": min(v, default=None), "median": pct(v, 50)} for f, v in a_complete.items()
        },
        "completeness_min": min((x for v in a_complete.values() for x in v), default=None),
        "completeness_median": pct([x for v in a_complete.values() for x in v], 50),
        "gaps": a_gaps,
        "bad_file_joins": a_joins_bad,
        "first_video_keyframe_ok": all(
            r["A"]["formats"][f]["first_video_key"] in (True, None)
            for r in per_stream
            for f in ("flv", "mp4", "hls")
            if f in fmts
        ),
        "open_attempts_p50": pct([r["A"]["attempts"] for r in per_stream if r["A"]["attempts"]], 50),
        "fatal": [r["name"] for r in per_stream if r["A"]["fatal"]],
        "failed_files": sum(len(r["A"]["failed_files"]) for r in per_stream),
        "stragglers_stopped": a_result.get("stragglers_stopped"),
    }
    if pullers:
        b_rows = [r["B"] for r in per_stream if r["B"].get("file")]
        b_complete = [r["file"]["completeness"] for r in b_rows]
        sides["B"] = {
            "label": "ffmpeg -c copy, 1 process/stream, FLV",
            "cpu_seconds": sum(r.get("cpu") or 0 for r in b_rows),
            "cpu_seconds_failed_attempts": sum((r.get("cpu") or 0) - (r.get("cpu_final") or 0) for r in b_rows),
            "peak_rss_mb": sum(r.get("maxrss_kb") or 0 for r in b_rows) / 1024,
            "rss_per_stream_mb": pct([(r.get("maxrss_kb") or 0) / 1024 for r in b_rows], 50),
            "start_first_keyframe_in_file": lat([r.get("first_keyframe_in_file_s") for r in b_rows]),
            "from_hook_first_keyframe_in_file": lat(
                [sub(r["B"].get("first_keyframe_in_file_s"), r["hook_s"]) for r in per_stream if r["B"].get("file")]
            ),
            "peak_pss_mb": sum(v or 0 for v in result["peak_pss_kb"]["pullers"].values()) / 1024,
            "completeness_min": min(b_complete, default=None),
            "completeness_median": pct(b_complete, 50),
            "gaps": sum(r["file"]["gaps"] + r["file"]["backwards"] for r in b_rows),
            "open_attempts_p50": pct([r["attempts"] for r in b_rows], 50),
            "returncodes": sorted({r.get("returncode") for r in b_rows}, key=str),
            "streams_recorded": len(b_rows),
        }
    if args.nginx_record and "rec" in nginx_cpu and "after" in nginx_cpu["rec"]:
        rec = nginx_cpu["rec"]["after"] - nginx_cpu["rec"]["before"]
        bare = nginx_cpu["bare"]["after"] - nginx_cpu["bare"]["before"]
        c_complete = [r["C"]["completeness"] for r in per_stream if r["C"]]
        sides["C"] = {
            "label": "nginx-rtmp record all (worker CPU rec - bare)",
            "cpu_seconds": rec - bare,
            "cpu_seconds_rec": rec,
            "cpu_seconds_bare": bare,
            "peak_rss_mb": None,
            "nginx_hwm_mb": {"rec": nginx_cpu["rec"]["hwm_kb"] / 1024, "bare": nginx_cpu["bare"]["hwm_kb"] / 1024},
            "completeness_min": min(c_complete, default=None),
            "completeness_median": pct(c_complete, 50),
            "gaps": sum(r["C"]["gaps"] + r["C"]["backwards"] for r in per_stream if r["C"]),
        }
    if "main" in nginx_cpu and "after" in nginx_cpu["main"]:
        result["nginx_main"] = {
            "cpu_seconds": nginx_cpu["main"]["after"] - nginx_cpu["main"]["before"],
            "hwm_mb": nginx_cpu["main"]["hwm_kb"] / 1024,
            "note": "ingest of N pushes + 2 players per stream (A and B)",
        }
    for side in sides.values():
        side["cpu_pct_core_per_stream"] = side["cpu_seconds"] / seconds / n * 100
    result["stream_seconds"] = seconds
    if "B" in sides and sides["B"]["cpu_seconds"] > 0:
        for side in sides.values():
            side["cpu_ratio_vs_ffmpeg"] = side["cpu_seconds"] / sides["B"]["cpu_seconds"]
            if side.get("peak_rss_mb") is not None and sides["B"]["peak_rss_mb"]:
                side["rss_ratio_vs_ffmpeg"] = side["peak_rss_mb"] / sides["B"]["peak_rss_mb"]
            if side.get("peak_pss_mb") and sides["B"].get("peak_pss_mb"):
                side["pss_ratio_vs_ffmpeg"] = side["peak_pss_mb"] / sides["B"]["peak_pss_mb"]
    result["sides"] = sides


def sub(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def lat(values: list[float | None]) -> dict[str, Any]:
    vals = [v for v in values if v is not None]
    return {
        "p50": pct(vals, 50),
        "p99": pct(vals, 99),
        "max": max(vals, default=None),
        "n": len(vals),
        "missing": len(values) - len(vals),
    }


def summarize_files(probes: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    dur = sum(p["duration"] for p in probes)
    rec = sum(p["recorded"] for p in probes)
    return {
        "files": len(probes),
        "duration": round(dur, 3),
        "recorded": round(rec, 3),
        "completeness": round(rec / seconds, 4),
        "track_seconds": [{k: round(v["duration"], 3) for k, v in p["streams"].items()} for p in probes],
        "gaps": sum(p["gaps"] for p in probes),
        "backwards": sum(p["backwards"] for p in probes),
        "gap_at": [g for p in probes for st in p["streams"].values() for g in st.get("gap_at", [])][:5],
        "first_video_key": all(p["first_video_key"] in (True, None) for p in probes) if probes else None,
        "errors": [p["error"] for p in probes if p["error"]],
    }


def file_joins(files: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Consecutive files of one format: the next starts where the previous ended (1 frame slack)."""
    out: dict[str, dict[str, Any]] = {}
    for fmt_name in FORMATS:
        fs = sorted((f for f in files if f["format"] == fmt_name and f["path"]), key=lambda f: f["start_wallclock"])
        steps = [b["start_wallclock"] - a["end_wallclock"] for a, b in itertools.pairwise(fs)]
        out[fmt_name] = {
            "joins": len(steps),
            "bad": sum(1 for s in steps if abs(s) > 0.05),
            "max_abs": max((abs(s) for s in steps), default=0.0),
        }
    return out


def machine() -> dict[str, Any]:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ffv = subprocess.run([FFMPEG, "-version"], capture_output=True, text=True).stdout.splitlines()[:1]
    try:
        import av

        pyav = f"{av.__version__} (libav {av.library_versions.get('libavformat')})"
    except Exception:  # noqa: BLE001 - informational only
        pyav = "?"
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "mem_total_mb": (status_kb_total() or 0) // 1024,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ffmpeg": ffv[0] if ffv else "?",
        "pyav": pyav,
        "loadavg_at_start": os.getloadavg(),
    }


def status_kb_total() -> int | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1])
    return None


# --- report ---------------------------------------------------------------------------------------


def table(result: dict[str, Any]) -> str:
    sides = result["sides"]
    n = result["args"]["streams"]
    head = [
        "side",
        "CPU s",
        "% core/stream",
        "CPU vs ffmpeg",
        "peak RSS MB",
        "peak PSS MB",
        "start p50/p99 s",
        "from hook p50/p99 s",
        "complete min/med",
        "gaps",
    ]
    rows = []
    for key in ("A", "B", "C"):
        s = sides.get(key)
        if not s:
            continue
        start = s.get("start_first_packet") or s.get("start_first_keyframe_in_file") or {}
        hook = s.get("from_hook_first_packet") or s.get("from_hook_first_keyframe_in_file") or {}
        rows.append(
            [
                f"{key} {s['label']}",
                fmt(s["cpu_seconds"]),
                fmt(s["cpu_pct_core_per_stream"], ".3f"),
                fmt(s.get("cpu_ratio_vs_ffmpeg"), ".2f") + ("x" if s.get("cpu_ratio_vs_ffmpeg") is not None else ""),
                fmt(s.get("peak_rss_mb"), ".0f"),
                fmt(s.get("peak_pss_mb"), ".0f"),
                f"{fmt(start.get('p50'))} / {fmt(start.get('p99'))}",
                f"{fmt(hook.get('p50'))} / {fmt(hook.get('p99'))}",
                f"{fmt(s.get('completeness_min'), '.3f')} / {fmt(s.get('completeness_median'), '.3f')}",
                str(s.get("gaps")),
            ]
        )
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=False)]
    line = lambda r: "| " + " | ".join(str(x).ljust(w) for x, w in zip(r, widths, strict=False)) + " |"  # noqa: E731
    out = [
        f"record_cost: {n} streams x {result['stream_seconds']:.2f} s pushed, {result['clip']['video']}, "
        f"{result['clip']['bit_rate'] / 1e6:.2f} Mb/s; {result['machine']['nproc']} x {result['machine']['cpu_model']}",
        line(head),
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    out += [line(r) for r in rows]
    a = sides["A"]
    out.append("")
    out.append("start latency from push start (p50 / p99 / max, s):")
    out.append(
        f"  A first packet spooled (= first keyframe on disk, chunk 1): "
        f"{lat_str(a['start_first_packet'])}   from hook: {lat_str(a['from_hook_first_packet'])}"
    )
    out.append(
        f"  A first keyframe in the FLV deliverable:                   {lat_str(a['start_first_keyframe_in_file'])}"
    )
    out.append(f"  A first spool chunk closed (first HLS segment complete):   {lat_str(a['start_first_chunk_closed'])}")
    if "B" in sides:
        out.append(
            f"  B first keyframe in the FLV file (ffmpeg -c copy):         "
            f"{lat_str(sides['B']['start_first_keyframe_in_file'])}   from hook: "
            f"{lat_str(sides['B']['from_hook_first_keyframe_in_file'])}"
        )
    hooks = [r["hook_s"] for r in result["per_stream"] if r["hook_s"] is not None]
    out.append(f"  (push start -> on_publish hook: p50 {fmt(pct(hooks, 50))} p99 {fmt(pct(hooks, 99))})")
    out.append("")
    out.append(
        "A completeness by format (min / median): "
        + ", ".join(
            f"{f} {fmt(v['min'], '.3f')}/{fmt(v['median'], '.3f')}" for f, v in a["completeness_by_format"].items()
        )
    )
    out.append(
        f"A: gaps {a['gaps']}, bad file joins {a['bad_file_joins']}, failed files {a['failed_files']}, "
        f"fatal {a['fatal']}, first video packet keyframe in flv/mp4/hls: {a['first_video_keyframe_ok']}, "
        f"open attempts p50 {fmt(a['open_attempts_p50'], '.0f')}"
    )
    if "B" in sides:
        b = sides["B"]
        out.append(
            f"B: gaps {b['gaps']}, exit codes {b['returncodes']}, "
            f"open attempts p50 {fmt(b['open_attempts_p50'], '.0f')}, "
            f"CPU of refused attempts {fmt(b['cpu_seconds_failed_attempts'])} s"
        )
    if "C" in sides:
        c = sides["C"]
        out.append(
            f"C: nginx worker CPU with record {fmt(c['cpu_seconds_rec'])} s, without {fmt(c['cpu_seconds_bare'])} s"
        )
    if "nginx_main" in result:
        out.append(
            f"nginx main (ingest + 2 players/stream): {fmt(result['nginx_main']['cpu_seconds'])} s CPU; "
            f"pushers: {fmt(result['pushers']['cpu_seconds_total'])} s CPU total"
        )
    out.append(
        f"A process incl. Python startup: {fmt(a['cpu_seconds_incl_startup'])} s CPU; "
        f"RSS after imports {fmt(a['baseline_rss_mb'], '.1f')} MB, +{fmt(a['rss_per_stream_mb'], '.1f')} MB/stream"
    )
    out.append(
        "peak RSS: A = VmHWM of its one process; B = sum of each process's peak (shared libraries counted "
        "N times); peak PSS (sampled 1/s) shares them out"
    )
    return "\n".join(out)


def lat_str(d: dict[str, Any]) -> str:
    s = f"{fmt(d.get('p50'))} / {fmt(d.get('p99'))} / {fmt(d.get('max'))}"
    if d.get("missing"):
        s += f"  ({d['missing']} missing)"
    return s


def plot(result: dict[str, Any], path: Path) -> str | None:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not importable: no plot"
    sides = result["sides"]
    keys = [k for k in ("A", "B", "C") if k in sides]
    labels = {"A": "liverecord\n(5 formats)", "B": "ffmpeg -c copy\n(FLV)", "C": "nginx-rtmp\nrecord all"}
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    ax = axes[0]
    vals = [sides[k]["cpu_pct_core_per_stream"] for k in keys]
    bars = ax.bar([labels[k] for k in keys], vals, color=["#3b7dd8", "#888888", "#c0a040"][: len(keys)])
    ax.bar_label(bars, fmt="%.3f")
    ax.set_ylabel("% of one core per stream")
    ax.set_title("CPU per stream")
    ax = axes[1]
    rk = [k for k in keys if k != "C"]
    totals = [sides[k]["peak_rss_mb"] for k in rk]
    bars = ax.bar([labels[k] for k in rk], totals, color=["#3b7dd8", "#888888"][: len(rk)])
    ax.bar_label(bars, fmt="%.0f")
    ax.set_ylabel("MB (A: process VmHWM, B: sum of peaks)")
    ax.set_title("Peak RSS, all streams")
    ax = axes[2]
    series = [
        ("A first packet\nspooled", sides["A"]["start_first_packet"]),
        ("A first key\nin FLV", sides["A"]["start_first_keyframe_in_file"]),
    ]
    if "B" in sides:
        series.append(("B first key\nin FLV", sides["B"]["start_first_keyframe_in_file"]))
    x = range(len(series))
    p50 = [s[1]["p50"] or 0 for s in series]
    p99 = [s[1]["p99"] or 0 for s in series]
    ax.bar([i - 0.2 for i in x], p50, width=0.4, label="p50", color="#3b7dd8")
    ax.bar([i + 0.2 for i in x], p99, width=0.4, label="p99", color="#a0c4f0")
    ax.set_xticks(list(x), [s[0] for s in series])
    ax.set_ylabel("s after push start")
    ax.set_title("Start latency")
    ax.legend()
    n, secs = result["args"]["streams"], result["args"]["seconds"]
    fig.suptitle(
        f"record_cost: {n} x 2 Mb/s 720p30 streams, {secs:g} s, "
        f"{result['machine']['nproc']} x {result['machine']['cpu_model']}"
    )
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0, help="pushed media seconds per stream")
    parser.add_argument("--stagger", type=float, default=0.25, help="seconds between push starts")
    parser.add_argument(
        "--no-nginx-record", dest="nginx_record", action="store_false", help="skip phase C (nginx-rtmp record all)"
    )
    parser.add_argument("--no-ffmpeg", action="store_true", help="skip phase B (for profiling A alone)")
    parser.add_argument(
        "--pull",
        action="store_true",
        help="A pulls over RTMP (a recorder on another host) instead of following main's record file",
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the recorder process (adds load: not for the reported figures)"
    )
    parser.add_argument(
        "--formats",
        default=",".join(FORMATS),
        help="formats of the recorder (default all five; a subset splits the cost)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the recorded media in benchmarks/out/record_cost_run")
    parser.add_argument("--json", type=Path, default=OUT / "record_cost.json")
    parser.add_argument("--png", type=Path, default=OUT / "record_cost.png")
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    result = run(args)
    text = table(result)
    print(text)
    result["table"] = text
    note = plot(result, args.png) if "A" in result["sides"] else "no data"
    result["plot"] = note or str(args.png)
    args.json.write_text(json.dumps(result, indent=1, default=str))
    print(f"\nraw numbers: {args.json}" + (f"; plot: {args.png}" if note is None else f"; {note}"))
    if result.get("leftover_processes_stopped"):
        print(f"stopped at the end (still running): {result['leftover_processes_stopped']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
