"""Phase A of record_cost: ONE process hosting one StreamRecorder thread per stream (like a Celery
``record`` worker with a thread pool), all five formats enabled.

Driven through stdin by ``benchmarks.record_cost``, one command per line:

* ``start <name> <url> <push_started_at> [<record_dir> <hook_at>]``: a publish hook arrived; start
  recording that stream, following the ingest's record file in record_dir when given (the recorder on
  the ingest host), else pulling url (retried while nginx does not play it yet, as a hook-triggered
  job would have to);
* ``finish``: wait for every recorder to end on its own (the push ended: nginx closes the players),
  at most ``--finish-timeout`` seconds, then stop the stragglers;
* SIGTERM / SIGINT: stop every recorder now.

Prints ``ready`` once imports are done. At exit writes ``--result`` (JSON): CPU and RSS of this
process at ready and at the end, and per stream: timings (time.time()), open attempts, files, errors.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

from benchmarks._proc import status_kb
from workers.engine import (
    ChunkInfo,
    IngestRecord,
    PackagedFile,
    RecorderListener,
    RecordingSpec,
    SourceError,
    StreamRecorder,
    StreamStats,
)
from workers.engine import file_series as engine_writers

FORMATS = {"flv": 60, "mp4": 60, "hls": 0, "aac": 60, "mp3": 60}
OPEN_RETRY_FOR = 15.0
OPEN_RETRY_SLEEP = 0.02

_first_open: dict[tuple[str, str], float] = {}
_orig_open = engine_writers.FileSeries._open


def _timed_open(self: Any, cp: Any, chunk: Any) -> None:
    """FileSeries._open wrapped (once per file, not per packet): when a deliverable gets its first
    packet -- a keyframe for FLV/MP4 -- that is muxed right after this returns."""
    _orig_open(self, cp, chunk)
    _first_open.setdefault((self.spec.recording_id, self.fmt), time.time())


engine_writers.FileSeries._open = _timed_open  # type: ignore[method-assign]


def _usage() -> dict[str, float]:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {"user": ru.ru_utime, "sys": ru.ru_stime, "cpu": ru.ru_utime + ru.ru_stime}


class Listener(RecorderListener):
    def __init__(self, name: str) -> None:
        self.name = name
        self.started_at: float | None = None
        self.first_chunk_closed_at: float | None = None
        self.chunks = 0
        self.files: list[dict[str, Any]] = []
        self.errors: list[str] = []
        self.finished_at: float | None = None
        self.stats: dict[str, Any] = {}

    def on_started(self, stats: StreamStats) -> None:
        self.started_at = time.time()

    def on_chunk_closed(self, chunk: ChunkInfo) -> None:
        if self.first_chunk_closed_at is None:
            self.first_chunk_closed_at = time.time()
        self.chunks += 1

    def on_heartbeat(self, stats: StreamStats) -> None:
        self.stats = dict(stats.__dict__)

    def on_file(self, f: PackagedFile) -> None:
        self.files.append(
            {
                "format": f.format,
                "path": str(f.path) if f.path else None,
                "start_wallclock": f.start_wallclock,
                "end_wallclock": f.end_wallclock,
                "duration": f.duration,
                "size": f.size,
                "error": f.error,
                "announced_at": time.time(),
            }
        )

    def on_recording_finished(self, recording_id: str) -> None:
        self.finished_at = time.time()

    def on_error(self, exc: BaseException) -> None:
        self.errors.append(f"{type(exc).__name__}: {exc}")


class StreamJob:
    def __init__(
        self, name: str, url: str, push_started_at: float, root: Path, ingest: IngestRecord | None = None
    ) -> None:
        self.name = name
        self.ingest = ingest
        self.url = url
        self.push_started_at = push_started_at
        self.command_at = time.time()
        self.root = root
        self.listener = Listener(name)
        self.recorder: StreamRecorder | None = None
        self.attempts = 0
        self.first_packet_at: float | None = None
        self.open_failures: list[str] = []
        self.fatal: str | None = None
        self.ended_at: float | None = None
        self.final_stats: dict[str, Any] = {}
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self.run, name=f"record {name}", daemon=True)

    def _watch_first_packet(self, rec: StreamRecorder) -> None:
        """Time the first packet the spool accepts (it drops what precedes the first keyframe, so
        that packet is the keyframe opening chunk 1, flushed to disk). The wrapper removes itself
        after it, so the hot loop pays for it only until then."""
        spool = rec.spool
        original = spool.write

        def write(sp: Any) -> Any:
            closed = original(sp)
            if spool._cur is not None and spool._cur.first_dts is not None:
                self.first_packet_at = time.time()
                del spool.write  # back to the class method
            return closed

        spool.write = write  # type: ignore[method-assign]

    def run(self) -> None:
        deadline = time.monotonic() + OPEN_RETRY_FOR
        try:
            while not self._stop.is_set():
                self.attempts += 1
                rec = StreamRecorder(
                    self.url,
                    self.root / "spool",
                    listener=self.listener,
                    chunk_seconds=2.0,
                    ingest_record=self.ingest,
                )
                self.recorder = rec
                rec.add_recording(
                    RecordingSpec(
                        recording_id=self.name,
                        formats=dict(FORMATS),
                        output_dir=self.root / "files",
                        name_for=lambda fmt, s, e: f"{self.name}_{fmt}_{int(s * 1000)}",
                    )
                )
                self._watch_first_packet(rec)
                try:
                    stats = rec.run()
                    self.final_stats = dict(stats.__dict__)
                    break
                except SourceError as exc:
                    # run() raises SourceError only when the source could not be opened: nginx
                    # refuses a player until the on_publish hook has been answered.
                    self.open_failures.append(str(exc))
                    if self.listener.started_at is not None or time.monotonic() > deadline:
                        self.fatal = f"open failed: {exc}"
                        break
                    self.listener.errors.clear()
                    time.sleep(OPEN_RETRY_SLEEP)
        except BaseException as exc:  # noqa: BLE001 - reported in the result
            self.fatal = "".join(traceback.format_exception(exc))
        finally:
            self.ended_at = time.time()

    def stop(self) -> None:
        self._stop.set()
        if self.recorder is not None:
            self.recorder.stop()

    def result(self) -> dict[str, Any]:
        lst = self.listener
        return {
            "name": self.name,
            "url": self.url,
            "push_started_at": self.push_started_at,
            "command_at": self.command_at,
            "opened_at": lst.started_at,
            "first_packet_at": self.first_packet_at,
            "first_flv_keyframe_at": _first_open.get((self.name, "flv")),
            "first_file_open_at": {fmt: t for (rid, fmt), t in _first_open.items() if rid == self.name},
            "first_chunk_closed_at": lst.first_chunk_closed_at,
            "chunks": lst.chunks,
            "attempts": self.attempts,
            "open_failures": self.open_failures[:5],
            "ended_at": self.ended_at,
            "finished_at": lst.finished_at,
            "files": lst.files,
            "errors": lst.errors[:20],
            "error_count": len(lst.errors),
            "fatal": self.fatal,
            "stats": self.final_stats or lst.stats,
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    parser.add_argument("--finish-timeout", type=float, default=60.0)
    parser.add_argument("--formats", default=",".join(FORMATS), help="comma-separated subset of the five")
    args = parser.parse_args(argv)
    chosen = [f for f in args.formats.split(",") if f]
    unknown = set(chosen) - set(FORMATS)
    if unknown:
        parser.error(f"unknown formats {sorted(unknown)}")
    for f in list(FORMATS):
        if f not in chosen:
            del FORMATS[f]

    ready_usage = _usage()
    ready_rss = status_kb_self("VmRSS")
    ready_at = time.time()
    jobs: dict[str, StreamJob] = {}
    lock = threading.Lock()
    stop_now = threading.Event()
    finish = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop_now.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def read_commands() -> None:
        for line in sys.stdin:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "start" and len(parts) in (4, 6):
                name, url, t0 = parts[1], parts[2], float(parts[3])
                ingest = IngestRecord(Path(parts[4]), name, float(parts[5])) if len(parts) == 6 else None
                with lock:
                    if name in jobs:
                        continue
                    job = StreamJob(name, url, t0, args.root / name, ingest)
                    jobs[name] = job
                job.thread.start()
            elif parts[0] == "finish":
                finish.set()
        finish.set()  # stdin closed

    threading.Thread(target=read_commands, name="commands", daemon=True).start()
    print("ready", flush=True)

    while not (finish.is_set() or stop_now.is_set()):
        time.sleep(0.1)
    finish_called_at = time.time()
    deadline = time.monotonic() + args.finish_timeout
    while not stop_now.is_set() and time.monotonic() < deadline:
        with lock:
            running = [j for j in jobs.values() if j.thread.is_alive()]
        if not running:
            break
        time.sleep(0.1)
    with lock:
        stragglers = [j.name for j in jobs.values() if j.thread.is_alive()]
        for j in jobs.values():
            j.stop()
    for j in list(jobs.values()):
        j.thread.join(timeout=30)
    end_usage = _usage()
    result = {
        "pid": __import__("os").getpid(),
        "ready_at": ready_at,
        "finish_called_at": finish_called_at,
        "end_at": time.time(),
        "ready_usage": ready_usage,
        "end_usage": end_usage,
        "cpu_seconds": end_usage["cpu"] - ready_usage["cpu"],
        "ready_rss_kb": ready_rss,
        "hwm_kb": status_kb_self("VmHWM"),
        "stragglers_stopped": stragglers,
        "killed_by_signal": stop_now.is_set(),
        "streams": [j.result() for j in jobs.values()],
    }
    args.result.write_text(json.dumps(result, indent=1, default=str))
    return 0


def status_kb_self(key: str) -> int | None:
    import os

    return status_kb(os.getpid(), key)


if __name__ == "__main__":
    sys.exit(main())
