"""Snapshot cost per stream (issue 12, Measure): the media engine alone, no Django, no network.

    .venv/bin/python -m benchmarks.snapshot_cost --seconds 120 --intervals 2,10,60

One clip (testsrc2, H.264 at ``--size``/``--fps``, GOP ``--gop`` s, + AAC) is spooled once by a StreamRecorder
with a look-back long enough to keep every chunk. Then, for each interval, a ``Snapshotter`` walks the chunks as
the packager does on a live stream (open the chunk due, demux up to its first video packet, decode that keyframe
alone, encode a JPEG, write it) and the process CPU time it takes (``time.process_time``: user + sys of this
process, so other load on the machine does not count) is divided by the media duration: the share of one core a
live stream costs at that interval. Each interval is run ``--repeat`` times; the median is reported.
For comparison it also measures decoding every frame of the same chunks (what a snapshotter that decodes
the stream would cost). Writes ``benchmarks/out/snapshot_cost.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import av

from workers.engine import RecorderListener, Snapshotter, Spool, StreamRecorder
from workers.engine.datatypes import SnapshotFile

OUT = Path(__file__).resolve().parent / "out"


def make_clip(path: Path, *, seconds: int, size: str, fps: int, gop: float) -> None:
    inputs = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}", "-f", "lavfi", "-i", "sine=frequency=440"]
    video = ["-c:v", "libx264", "-preset", "veryfast", "-b:v", "2M", "-g", str(round(gop * fps)), "-bf", "2"]
    rest = ["-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-t", str(seconds), str(path)]
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *inputs, *video, *rest], check=True)


def spool_clip(clip: Path, spool_dir: Path, seconds: int) -> Spool:
    """Spool the clip with every chunk kept (look-back longer than the clip)."""
    recorder = StreamRecorder(str(clip), spool_dir, listener=RecorderListener(), lookback_seconds=seconds * 10)
    recorder.run()
    return Spool.recover(spool_dir, lookback_seconds=seconds * 10)


def measure(spool: Spool, interval: float, out_dir: Path) -> dict[str, Any]:
    chunks = [c for c in spool.chunks() if c.path is not None and c.path.exists()]
    shots: list[SnapshotFile] = []
    snapper = Snapshotter(
        "bench", interval=interval, start=chunks[0].first_wallclock, output_dir=out_dir, emit=shots.append
    )
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for info in chunks:
        snapper.feed(info)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    media = chunks[-1].last_wallclock - chunks[0].first_wallclock
    for shot in shots:
        shot.path.unlink()
    return {
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "media_seconds": media,
        "snapshots": len(shots),
        "core_percent": 100 * cpu / media,
        "cpu_ms_per_snapshot": 1000 * cpu / max(len(shots), 1),
        "jpeg_bytes_mean": statistics.mean(s.size for s in shots) if shots else 0,
    }


def measure_full_decode(spool: Spool) -> dict[str, Any]:
    """The alternative the Snapshotter avoids: decoding every video frame of the stream (one core share)."""
    chunks = [c for c in spool.chunks() if c.path is not None and c.path.exists()]
    cpu0 = time.process_time()
    frames = 0
    for info in chunks:
        with av.open(str(info.path)) as container:
            for _frame in container.decode(video=0):
                frames += 1
    cpu = time.process_time() - cpu0
    media = chunks[-1].last_wallclock - chunks[0].first_wallclock
    return {"cpu_seconds": cpu, "media_seconds": media, "frames": frames, "core_percent": 100 * cpu / media}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=int, default=120)
    parser.add_argument("--intervals", default="2,10,60")
    parser.add_argument("--size", default="1280x720")
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--gop", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=OUT / "snapshot_cost.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="snapshot_cost_") as tmp:
        base = Path(tmp)
        clip = base / "clip.flv"
        make_clip(clip, seconds=args.seconds, size=args.size, fps=args.fps, gop=args.gop)
        spool = spool_clip(clip, base / "spool", args.seconds)
        rows = []
        for interval in [float(i) for i in args.intervals.split(",")]:
            runs = [measure(spool, interval, base / "shots") for _ in range(args.repeat)]
            best = sorted(runs, key=lambda r: r["core_percent"])[len(runs) // 2]
            rows.append({"interval": interval, **best, "core_percent_runs": [r["core_percent"] for r in runs]})
        full = measure_full_decode(spool)
    print(f"snapshot cost per stream, {args.size} {args.fps} fps, GOP {args.gop} s, {args.seconds} s of media")
    print(f"{'interval':>8} {'snapshots':>9} {'ms/snapshot':>11} {'% of a core':>11} {'JPEG kB':>8}")
    for r in rows:
        print(
            f"{r['interval']:>7.0f}s {r['snapshots']:>9} {r['cpu_ms_per_snapshot']:>11.1f} "
            f"{r['core_percent']:>11.3f} {r['jpeg_bytes_mean'] / 1000:>8.1f}"
        )
    print(f"for comparison, decoding every frame of the stream: {full['core_percent']:.1f} % of a core")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    meta = {"python": platform.python_version(), "av": av.__version__, "machine": platform.machine()}
    args.json.write_text(
        json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, **meta, "rows": rows, "full_decode": full})
    )


if __name__ == "__main__":
    main()
