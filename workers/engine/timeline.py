"""Timestamp hygiene: one monotonic spool timeline and its wallclock mapping.

Publishers send timestamps that restart, wrap or leap (an encoder restart, a
32-bit FLV wrap, a paused camera). Everything downstream (MPEG-TS chunks, MP4
files, HLS players) wants dts that only grow, so the spool rewrites them once
here and nothing later has to care.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workers.engine.datatypes import TS_HZ

#: Where the spool timeline starts: far enough from 0 that a stream starting a
#: little before another (or B-frame dts before pts) never goes negative.
TIMELINE_ORIGIN = 10 * TS_HZ
#: A dts this far behind the previous one of its stream is a restart, not jitter.
MAX_BACKWARD = TS_HZ // 2
#: A gap this long between two packets of one stream is a jump, not a pause.
MAX_FORWARD = 10 * TS_HZ
#: Source timestamps this far behind the last packet's restarted (anchored wallclock only).
BACKWARD_SECONDS = 0.5
#: Duration assumed for a packet when nothing better is known (one 25 fps frame).
DEFAULT_DURATION = TS_HZ // 25


@dataclass
class Mapped:
    dts: int
    pts: int
    duration: int
    jumped: bool


@dataclass
class _StreamState:
    offset: int
    last_dts: int | None = None
    last_duration: int = DEFAULT_DURATION


@dataclass
class Timeline:
    """Maps source timestamps (already in 90 kHz ticks) onto the spool timeline.

    Streams share the first offset so their relative sync is kept as pushed;
    after a jump each stream is re-based on its own continuation, which keeps
    sync within about one frame when all streams jump together.
    """

    _streams: dict[str, _StreamState] = field(default_factory=dict)
    _base_offset: int | None = None
    _head: int = TIMELINE_ORIGIN
    jumps: int = 0

    def map(self, kind: str, dts: int | None, pts: int | None, duration: int | None) -> Mapped:
        state = self._streams.get(kind)
        if dts is None:
            dts = pts
        if dts is None:
            # No timestamp at all: the next tick after the previous packet.
            if state is None or state.last_dts is None:
                dts = -(self._base_offset or 0) + self._head
            else:
                dts = state.last_dts - state.offset + state.last_duration
        if pts is None:
            pts = dts
        if self._base_offset is None:
            self._base_offset = TIMELINE_ORIGIN - dts
        jumped = False
        if state is None:
            state = _StreamState(offset=self._base_offset)
            out = dts + state.offset
            if out < 0 or abs(out - self._head) > MAX_FORWARD:
                # A stream joining late with unrelated timestamps: start it at the head.
                state.offset = self._head - dts
            self._streams[kind] = state
        else:
            out = dts + state.offset
            assert state.last_dts is not None
            expected = state.last_dts + state.last_duration
            if out < state.last_dts - MAX_BACKWARD or out > expected + MAX_FORWARD:
                state.offset = expected - dts
                jumped = True
                self.jumps += 1
        out_dts = dts + state.offset
        out_pts = pts + state.offset
        if state.last_dts is not None and out_dts <= state.last_dts:
            # Small jitter backwards: nudge rather than re-base, so sync is kept.
            out_dts = state.last_dts + 1
        out_pts = max(out_pts, out_dts)
        if duration and duration > 0:
            state.last_duration = duration
        elif state.last_dts is not None and 0 < out_dts - state.last_dts < TS_HZ:
            state.last_duration = out_dts - state.last_dts
        state.last_dts = out_dts
        self._head = max(self._head, out_dts)
        return Mapped(dts=out_dts, pts=out_pts, duration=state.last_duration, jumped=jumped)


@dataclass
class WallClock:
    """Wallclock time of a spool timestamp.

    Packet arrival times are jittery (network bursts, the probe holding the
    first packets back), so the mapping is ``anchor + media time``. For a live
    source the anchor follows the earliest arrival seen (a packet can arrive
    late, never before it was made) and re-anchors when media time falls
    behind the real clock by more than ``tolerance`` (a paused publisher). For
    a file read as fast as possible media time is the only clock there is.
    """

    live: bool
    tolerance: float = 3.0
    #: The wallclock of source time 0, when the source knows it (a record file nginx started at the push's
    #: start): packets are then placed by their own timestamps, whenever they are read.
    epoch: float | None = None
    _anchor: float | None = None
    _last: float = float("-inf")

    def wall(self, dts_ts: int, now: float, source_ts: int | None = None) -> float:
        """The wallclock of a packet at spool time dts_ts, read at ``now`` (source_ts: its own timestamp)."""
        if self.epoch is not None and source_ts is not None:
            return self._anchored(source_ts / TS_HZ, now)
        t = dts_ts / TS_HZ
        if self._anchor is None:
            self._anchor = now - t
        elif self.live:
            predicted = self._anchor + t
            if predicted > now or now - predicted > self.tolerance:
                self._anchor = now - t
        w = max(self._anchor + t, self._last)
        self._last = w
        return w

    def _anchored(self, t: float, now: float) -> float:
        """``epoch + t``, never ahead of now (a late epoch is moved back) and never backwards (timestamps that
        restart continue from the last packet)."""
        assert self.epoch is not None
        w = self.epoch + t
        if w < self._last - BACKWARD_SECONDS:
            self.epoch = self._last - t
            w = self._last
        if w > now:
            self.epoch -= w - now
            w = now
        w = max(w, self._last)
        self._last = w
        return w
