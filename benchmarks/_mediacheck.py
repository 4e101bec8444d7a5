"""What a recorded file holds, from its packets (ffprobe): duration and gaps.

Durations come from packets, not headers (ADTS and MP3 headers carry none; FLV's is what the muxer
was told). A gap is a dts step larger than ``GAP_FRAMES`` frame durations inside one stream (the
frame duration is that stream's median dts step); a step <= 0 is counted as ``backwards``.
"""

from __future__ import annotations

import itertools
import json
import statistics
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

from tests.support.media import FFPROBE

GAP_FRAMES = 2.0


def analyze(path: Path | str) -> dict[str, Any]:
    """{"duration", "streams": {type: {...}}, "gaps", "backwards", "first_video_key", "error"}."""
    cmd = [
        FFPROBE,
        "-v",
        "error",
        "-show_entries",
        "stream=index,codec_type,codec_name,time_base:packet=stream_index,pts,dts,duration,flags",
        "-of",
        "json",
        str(path),
    ]
    res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    out: dict[str, Any] = {
        "path": str(path),
        "duration": 0.0,
        "recorded": 0.0,
        "gaps": 0,
        "backwards": 0,
        "streams": {},
        "first_video_key": None,
        "error": None,
    }
    if res.returncode != 0:
        out["error"] = res.stderr.strip()[-500:] or f"ffprobe exit {res.returncode}"
        return out
    data = json.loads(res.stdout)
    streams = {s["index"]: s for s in data.get("streams", []) if s.get("codec_type") in ("video", "audio")}
    per: dict[int, list[tuple[int, int]]] = {i: [] for i in streams}
    first_video_flags: str | None = None
    for p in data.get("packets", []):
        i = p.get("stream_index")
        if i not in per:
            continue
        ts = p.get("dts", p.get("pts"))
        if ts is None:
            continue
        if streams[i]["codec_type"] == "video" and first_video_flags is None:
            first_video_flags = p.get("flags", "")
        per[i].append((int(ts), int(p.get("duration") or 0)))
    if first_video_flags is not None:
        out["first_video_key"] = first_video_flags.startswith("K")
    worst = 0.0
    for i, pkts in per.items():
        s = streams[i]
        tb = Fraction(s.get("time_base", "1/1000"))
        info: dict[str, Any] = {
            "codec": s.get("codec_name"),
            "packets": len(pkts),
            "duration": 0.0,
            "gaps": 0,
            "backwards": 0,
            "max_step": 0.0,
            "gap_at": [],
        }
        if pkts:
            steps = [b[0] - a[0] for a, b in itertools.pairwise(pkts)]
            positive = [d for d in steps if d > 0]
            frame = statistics.median(positive) if positive else 0
            # +1 tick: 1/1000 time bases round 33.3 ms frames to 33/34
            limit = GAP_FRAMES * frame + 1
            for k, d in enumerate(steps):
                if d <= 0:
                    info["backwards"] += 1
                elif frame and d > limit:
                    info["gaps"] += 1
                    if len(info["gap_at"]) < 5:
                        info["gap_at"].append([float(pkts[k][0] * tb), float(d * tb)])
            last_dur = pkts[-1][1] or frame
            start = pkts[0][0]
            end = max(ts + (d or frame) for ts, d in pkts[-3:]) if len(pkts) > 1 else pkts[0][0] + last_dur
            info["duration"] = float((end - start) * tb)
            info["max_step"] = float(max(steps, default=0) * tb)
            info["frame"] = float(frame * tb)
        out["streams"][s["codec_type"]] = info
        out["gaps"] += info["gaps"]
        out["backwards"] += info["backwards"]
        worst = max(worst, info["duration"])
    out["duration"] = round(worst, 3)
    # what was recorded of the stream: the shortest track (ffmpeg -c copy keeps the audio that comes
    # before the first video keyframe, which would otherwise count as recorded video)
    out["recorded"] = round(min((st["duration"] for st in out["streams"].values()), default=0.0), 3)
    return out
