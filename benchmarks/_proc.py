"""Linux /proc readings and child processes measured by ``wait4`` (no psutil needed).

* :func:`cpu_seconds` / :func:`status_kb`: a running process's user+sys CPU and VmRSS / VmHWM.
* :class:`Measured`: a child process started with Popen whose exit is reaped by ``os.wait4`` in a
  thread, so its own rusage (user+sys CPU, peak RSS) is known exactly, whatever else runs.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

CLK_TCK = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses
    return text.rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """user + sys CPU seconds of a live process (its own threads, not its children)."""
    f = _stat_fields(pid)
    # after "(comm)": state=0 ppid=1 ... utime=11 stime=12
    return (int(f[11]) + int(f[12])) / CLK_TCK


def status_kb(pid: int, key: str) -> int | None:
    """A ``kB`` field of /proc/<pid>/status (``VmRSS``, ``VmHWM``...)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def pss_kb(pid: int) -> int | None:
    """Proportional set size (shared library pages divided among their users), from smaps_rollup."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class PeakSampler:
    """Samples the PSS (and RSS) of registered pids every ``period`` s and keeps each one's peak."""

    def __init__(self, period: float = 1.0) -> None:
        self.period = period
        self.pids: set[int] = set()
        self.peak_pss: dict[int, int] = {}
        self.peak_rss: dict[int, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pss sampler", daemon=True)

    def add(self, pid: int) -> None:
        with self._lock:
            self.pids.add(pid)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            with self._lock:
                pids = list(self.pids)
            for pid in pids:
                pss = pss_kb(pid)
                rss = status_kb(pid, "VmRSS")
                if pss is None or rss is None:
                    with self._lock:
                        self.pids.discard(pid)
                    continue
                self.peak_pss[pid] = max(self.peak_pss.get(pid, 0), pss)
                self.peak_rss[pid] = max(self.peak_rss.get(pid, 0), rss)


def children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int(_stat_fields(int(entry.name))[1]) == pid:
                kids.append(int(entry.name))
        except (OSError, IndexError, ValueError):
            continue
    return kids


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its live direct children (nginx: master + workers)."""
    total = 0.0
    for p in [pid, *children(pid)]:
        with contextlib.suppress(OSError):
            total += cpu_seconds(p)
    return total


def tree_hwm_kb(pid: int) -> int:
    return sum(status_kb(p, "VmHWM") or 0 for p in [pid, *children(pid)])


class Measured:
    """A child process whose exit rusage is collected with ``os.wait4``.

    Never call ``proc.wait()``/``poll()`` on ``self.proc`` directly: the reaper thread owns the
    wait. ``returncode``, ``cpu`` (user+sys seconds), ``maxrss_kb`` and ``ended_at`` are set when it
    exits.
    """

    registry: list[Measured] = []
    _registry_lock = threading.Lock()

    def __init__(
        self,
        cmd: Sequence[str],
        role: str,
        *,
        stdin: Any = subprocess.DEVNULL,
        stdout: Any = subprocess.DEVNULL,
        stderr: Any = subprocess.DEVNULL,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self.cmd = list(cmd)
        self.role = role
        self.started_at = time.time()
        self.proc = subprocess.Popen(self.cmd, stdin=stdin, stdout=stdout, stderr=stderr, env=env, cwd=cwd)
        self.pid = self.proc.pid
        self.returncode: int | None = None
        self.cpu: float | None = None
        self.maxrss_kb: int | None = None
        self.ended_at: float | None = None
        self._done = threading.Event()
        self._reaper = threading.Thread(target=self._reap, name=f"reap {role} {self.pid}", daemon=True)
        self._reaper.start()
        with Measured._registry_lock:
            Measured.registry.append(self)

    def _reap(self) -> None:
        while True:
            try:
                _, status, ru = os.wait4(self.pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                self.returncode = -1
                self.ended_at = time.time()
                self._done.set()
                return
        self.ended_at = time.time()
        self.returncode = os.waitstatus_to_exitcode(status)
        self.proc.returncode = self.returncode  # Popen must not wait again
        self.cpu = ru.ru_utime + ru.ru_stime
        self.maxrss_kb = ru.ru_maxrss
        self._done.set()

    def alive(self) -> bool:
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def send_signal(self, sig: int) -> None:
        if self.alive():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, sig)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 5.0) -> None:
        """sig, then SIGKILL after timeout; returns once the process is reaped."""
        if not self.alive():
            return
        self.send_signal(sig)
        if not self.wait(timeout):
            self.send_signal(signal.SIGKILL)
            self.wait(timeout)

    @classmethod
    def stop_all(cls, timeout: float = 5.0) -> list[str]:
        """Stop every process started here that still runs (by its pid); what had to be stopped."""
        with cls._registry_lock:
            alive = [m for m in cls.registry if m.alive()]
        for m in alive:
            m.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        for m in alive:
            m.wait(max(0.0, deadline - time.monotonic()))
        for m in alive:
            if m.alive():
                m.send_signal(signal.SIGKILL)
                m.wait(timeout)
        return [f"{m.role} pid {m.pid}" for m in alive]


def pct(values: list[float], q: float) -> float | None:
    """Percentile by linear interpolation (q in 0..100); None for no values."""
    vals = sorted(v for v in values if v is not None)
    if not vals:
        return None
    if len(vals) == 1:
        return vals[0]
    k = (len(vals) - 1) * q / 100
    lo = int(k)
    hi = min(lo + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (k - lo)


def fmt(v: float | None, spec: str = ".2f") -> str:
    return "-" if v is None else format(v, spec)
