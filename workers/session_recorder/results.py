"""The engine's output as the file services take it: the one place a ``PackagedFile`` becomes a ``PackagedResult``,
and HLS playlists left open (held for a reconnect, or by a dead worker) closed and measured like any file.

This is glue, not a service: it calls the media engine (PyAV), which ``recordings`` never imports (DESIGN.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from recordings.models import PublishSession
from recordings.services import PackagedResult, PlaylistCloser, SnapshotResult
from templates_app.choices import Format
from workers.engine import HlsPlaylistWriter, PackagedFile, SnapshotFile


def _utc(wallclock: float) -> datetime:
    return datetime.fromtimestamp(wallclock, tz=UTC)


def packaged_result(f: PackagedFile) -> PackagedResult:
    """The one translation of the engine's ``PackagedFile``."""
    return PackagedResult(
        format=f.format,
        path=f.path,
        start=_utc(f.start_wallclock),
        end=_utc(f.end_wallclock),
        duration=f.duration,
        size=f.size,
        video_codec=f.video_codec,
        audio_codec=f.audio_codec,
        width=f.width,
        height=f.height,
        error=f.error,
    )


def snapshot_result(shot: SnapshotFile) -> SnapshotResult:
    """The one translation of the engine's ``SnapshotFile``."""
    return SnapshotResult(
        path=shot.path, time=_utc(shot.wallclock), size=shot.size, width=shot.width, height=shot.height
    )


def closed_playlist(
    playlist: HlsPlaylistWriter,
    *,
    recording_id: str,
    start: float | None,
    end: float | None = None,
    video_codec: str | None,
    audio_codec: str | None,
    width: int | None,
    height: int | None,
) -> PackagedResult:
    """End a playlist (``#EXT-X-ENDLIST``) and measure it. Without a known ``start``, it ended when it was last
    written (its last segment's time, read before ``finish()`` rewrites the file). ``end`` is the end of the last
    push when a stitched playlist knows it; else the start plus the duration."""
    last_written = playlist.path.stat().st_mtime
    playlist.finish()
    duration = playlist.duration
    if end is None:
        end = start + duration if start is not None else last_written
    return packaged_result(
        PackagedFile(
            recording_id=recording_id,
            format=Format.HLS,
            path=playlist.path,
            start_wallclock=start if start is not None else end - duration,
            end_wallclock=end,
            duration=round(duration, 6),
            size=playlist.size(),
            video_codec=video_codec,
            audio_codec=audio_codec,
            width=width,
            height=height,
        )
    )


def dead_worker_playlist_closer(session: PublishSession, recording_id: str) -> PlaylistCloser:
    """How ``record_files_salvage`` closes a playlist a dead worker was growing: None when it holds no segment."""

    def close(path: Path) -> PackagedResult | None:
        playlist = HlsPlaylistWriter.reopen(path)
        if not playlist.segments:
            return None
        return closed_playlist(
            playlist,
            recording_id=recording_id,
            start=None,
            video_codec=session.video_codec or None,
            audio_codec=session.audio_codec or None,
            width=session.width,
            height=session.height,
        )

    return close
