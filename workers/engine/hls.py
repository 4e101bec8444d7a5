"""HLS playlists written by the engine itself.

Not FFmpeg's ``hls`` muxer: a playlist here outlives one push. A later push of
the same stream reopens it and appends after ``#EXT-X-DISCONTINUITY`` with
segment numbers that carry on (reconnect stitching).
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

SEGMENT_RE = re.compile(r"_(\d+)\.ts$")


@dataclass(frozen=True)
class HlsSegment:
    uri: str
    duration: float
    discontinuity: bool = False


class HlsPlaylistWriter:
    """A VOD-style playlist that grows segment by segment.

    Every change rewrites the playlist atomically (temp file + rename) so a
    reader or a crash never sees half a playlist. ``finish()`` adds
    ``#EXT-X-ENDLIST``; after that the file is never touched again.
    """

    def __init__(self, path: Path, *, base_name: str | None = None) -> None:
        self.path = Path(path)
        self.base_name = base_name if base_name is not None else self.path.stem
        self.segments: list[HlsSegment] = []
        self.finished = False
        self._next_seq = 0
        self._pending_discontinuity = False

    @classmethod
    def reopen(cls, path: Path) -> HlsPlaylistWriter:
        """Load an existing playlist to append to it after a discontinuity.

        A playlist that was already ended loses its ``#EXT-X-ENDLIST``: the
        caller reopens only playlists it decided to continue.
        """
        writer = cls(path)
        discontinuity = False
        duration: float | None = None
        for raw in Path(path).read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if line.startswith("#EXTINF:"):
                duration = float(line[len("#EXTINF:") :].split(",", 1)[0])
            elif line == "#EXT-X-DISCONTINUITY":
                discontinuity = True
            elif line and not line.startswith("#") and duration is not None:
                writer.segments.append(HlsSegment(uri=line, duration=duration, discontinuity=discontinuity))
                if m := SEGMENT_RE.search(line):
                    writer._next_seq = max(writer._next_seq, int(m.group(1)) + 1)
                discontinuity = False
                duration = None
        writer._next_seq = max(writer._next_seq, len(writer.segments))
        writer._pending_discontinuity = bool(writer.segments)
        return writer

    @property
    def next_sequence(self) -> int:
        return self._next_seq

    def segment_name(self, seq: int | None = None) -> str:
        return f"{self.base_name}_{self._next_seq if seq is None else seq}.ts"

    def mark_discontinuity(self) -> None:
        """The next segment follows a break (codec change, new push)."""
        if self.segments:
            self._pending_discontinuity = True

    def add_segment(self, uri: str, duration: float, *, discontinuity: bool = False) -> None:
        if self.finished:
            raise ValueError("the playlist is finished")
        disc = (discontinuity or self._pending_discontinuity) and bool(self.segments)
        self.segments.append(HlsSegment(uri=uri, duration=duration, discontinuity=disc))
        self._pending_discontinuity = False
        if m := SEGMENT_RE.search(uri):
            self._next_seq = max(self._next_seq, int(m.group(1)) + 1)
        else:
            self._next_seq += 1
        self.write()

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)

    def render(self) -> str:
        target = max((math.ceil(round(s.duration, 3)) for s in self.segments), default=1)
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            f"#EXT-X-TARGETDURATION:{max(target, 1)}",
            "#EXT-X-MEDIA-SEQUENCE:0",
        ]
        for seg in self.segments:
            if seg.discontinuity:
                lines.append("#EXT-X-DISCONTINUITY")
            lines.append(f"#EXTINF:{seg.duration:.6f},")
            lines.append(seg.uri)
        if self.finished:
            lines.append("#EXT-X-ENDLIST")
        return "\n".join(lines) + "\n"

    def write(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".", suffix=".m3u8.tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(self.render())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def finish(self) -> None:
        if not self.finished:
            self.finished = True
            self.write()

    def rename(self, path: Path) -> None:
        """Move the playlist to path (its name carries the real end once the recording ended).

        The segments keep their names and place: they were named when the playlist started (a live upload
        already stored them under those names), and the playlist lists them relative to itself.
        """
        path = Path(path)
        if path == self.path:
            return
        os.replace(self.path, path)
        self.path = path

    def size(self) -> int:
        """Bytes of the playlist and every segment it lists."""
        total = self.path.stat().st_size if self.path.exists() else 0
        for seg in self.segments:
            p = self.path.parent / seg.uri
            if p.exists():
                total += p.stat().st_size
        return total
