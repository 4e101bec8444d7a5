"""Recording cost against the number of streams: ``record_cost`` once per N, one table and one plot.

    .venv/bin/python -m benchmarks.record_cost_sweep --streams 1,10,30 --seconds 30

Each N is a full ``record_cost`` run (A our recorder, B one ``ffmpeg -c copy`` per stream, C nginx-rtmp's own
record, side by side on the same pushes); runs are sequential, so compare the ratio A / B within a row, not
absolute CPU across rows. Writes ``benchmarks/out/record_cost_sweep.json`` and ``.png`` and copies the table to
``benchmarks/results/record_cost_sweep.txt``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from benchmarks import record_cost
from benchmarks._proc import fmt

OUT = record_cost.OUT
RESULTS = Path(__file__).resolve().parent / "results"


def row(n: int, result: dict[str, Any]) -> dict[str, Any]:
    a, b = result["sides"]["A"], result["sides"]["B"]
    return {
        "streams": n,
        "a_pct_core_per_stream": a.get("cpu_pct_core_per_stream"),
        "b_pct_core_per_stream": b.get("cpu_pct_core_per_stream"),
        "ratio": a.get("cpu_ratio_vs_ffmpeg"),
        "a_peak_rss_mb": a.get("peak_rss_mb"),
        "b_peak_pss_mb": b.get("peak_pss_mb"),
        "start_p50": (a.get("start_first_packet") or {}).get("p50"),
        "start_p99": (a.get("start_first_packet") or {}).get("p99"),
        "completeness_min": a.get("completeness_min"),
        "gaps": a.get("gaps"),
        "failed_files": a.get("failed_files"),
    }


def table(rows: list[dict[str, Any]], seconds: float) -> str:
    out = [
        f"record_cost_sweep: {seconds:g} s pushes of 2 Mb/s 720p30; A = liverecord (five formats), B = ffmpeg -c copy",
        "| N | A % core/stream | B % core/stream | A / B | A peak RSS MB | B peak PSS MB | start p50 / p99 s "
        "| completeness min | gaps | failed files |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        out.append(
            f"| {r['streams']} | {fmt(r['a_pct_core_per_stream'], '.3f')} | {fmt(r['b_pct_core_per_stream'], '.3f')} "
            f"| {fmt(r['ratio'], '.2f')}x | {fmt(r['a_peak_rss_mb'], '.0f')} | {fmt(r['b_peak_pss_mb'], '.0f')} "
            f"| {fmt(r['start_p50'], '.2f')} / {fmt(r['start_p99'], '.2f')} | {fmt(r['completeness_min'], '.4f')} "
            f"| {r['gaps']} | {r['failed_files']} |"
        )
    return "\n".join(out)


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [r["streams"] for r in rows]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(ns, [r["a_pct_core_per_stream"] for r in rows], "o-", label="liverecord (5 formats)")
    left.plot(ns, [r["b_pct_core_per_stream"] for r in rows], "s-", label="ffmpeg -c copy (FLV)")
    left.set_xlabel("concurrent streams")
    left.set_ylabel("% of one core per stream")
    left.legend()
    left.set_title("CPU per stream")
    right.plot(ns, [r["start_p50"] for r in rows], "o-", label="p50")
    right.plot(ns, [r["start_p99"] for r in rows], "s-", label="p99")
    right.axhline(0.5, color="grey", linestyle=":", label="target p50")
    right.set_xlabel("concurrent streams")
    right.set_ylabel("s from push start to first packet spooled")
    right.legend()
    right.set_title("Start latency")
    fig.tight_layout()
    fig.savefig(path, dpi=100)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", default="1,10,30", help="comma-separated N")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in [int(x) for x in args.streams.split(",") if x]:
        json_path = OUT / f"record_cost_{n}.json"
        status = record_cost.main(
            [
                "--streams",
                str(n),
                "--seconds",
                str(args.seconds),
                "--json",
                str(json_path),
                "--png",
                str(OUT / f"record_cost_{n}.png"),
            ]
        )
        rows.append({**row(n, json.loads(json_path.read_text())), "exit": status})
    text = table(rows, args.seconds)
    print(text)
    (OUT / "record_cost_sweep.json").write_text(json.dumps(rows, indent=1))
    plot(rows, OUT / "record_cost_sweep.png")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "record_cost_sweep.txt").write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
