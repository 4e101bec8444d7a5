"""Test media made and pushed with the system (Debian) ffmpeg / ffprobe.

* :func:`make_clip` writes a clip from lavfi ``testsrc2`` (video) + ``sine`` (audio) with a fixed GOP.
* :func:`push` pushes a clip to an RTMP URL (``ffmpeg -re -i clip -c copy -f flv url``).
* :func:`push_generated` encodes from lavfi on the fly and pushes (long pushes without a file).
* :func:`probe` / :func:`probe_packets` / :func:`duration` wrap ffprobe.
* :func:`open_pull` / :func:`pull_packets` pull an RTMP stream with PyAV the way the recorder does.

Debian's ffmpeg is 5.1: its FLV muxer cannot carry HEVC (no "enhanced RTMP"), so libx265 clips are
for .mp4/.ts/.mkv files only, not for pushes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "FFMPEG",
    "FFPROBE",
    "PULL_OPTIONS",
    "duration",
    "make_clip",
    "open_pull",
    "probe",
    "probe_packets",
    "pull_packets",
    "push",
    "push_generated",
    "stop_push",
]

FFMPEG = shutil.which("ffmpeg", path="/usr/bin") or shutil.which("ffmpeg") or "ffmpeg"
FFPROBE = shutil.which("ffprobe", path="/usr/bin") or shutil.which("ffprobe") or "ffprobe"

_FORMATS = {
    ".flv": "flv",
    ".mp4": "mp4",
    ".m4a": "mp4",
    ".ts": "mpegts",
    ".mkv": "matroska",
    ".aac": "adts",
    ".mov": "mov",
}


def _lavfi_inputs(
    *,
    seconds: float | None,
    vcodec: str | None,
    acodec: str | None,
    size: str,
    fps: int,
    audio_rate: int,
    sine_hz: int,
    realtime: bool,
) -> list[str]:
    args: list[str] = []
    if vcodec is None and acodec is None:
        raise ValueError("need at least one of vcodec / acodec")
    if vcodec is not None:
        args += (["-re"] if realtime else []) + ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={fps}"]
    if acodec is not None:
        args += (["-re"] if realtime else []) + [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={sine_hz}:sample_rate={audio_rate}",
        ]
    if seconds is not None:
        args += ["-t", f"{seconds:g}"]
    return args


def _codec_args(
    *,
    vcodec: str | None,
    acodec: str | None,
    gop_frames: int,
    bitrate: str | int | None,
    bframes: int,
    preset: str,
    channels: int,
    audio_bitrate: str,
    container: str,
) -> list[str]:
    args: list[str] = []
    if vcodec is None:
        args.append("-vn")
    else:
        args += ["-c:v", vcodec, "-pix_fmt", "yuv420p", "-preset", preset]
        if vcodec == "libx264":
            args += ["-g", str(gop_frames), "-keyint_min", str(gop_frames), "-sc_threshold", "0", "-bf", str(bframes)]
        elif vcodec == "libx265":
            if container == "flv":
                raise ValueError("ffmpeg 5.1 cannot put HEVC in FLV/RTMP; use .mp4/.ts/.mkv")
            args += [
                "-x265-params",
                f"keyint={gop_frames}:min-keyint={gop_frames}:scenecut=0:bframes={bframes}:log-level=error",
            ]
            if container in ("mp4", "mov"):
                args += ["-tag:v", "hvc1"]
        else:
            args += ["-g", str(gop_frames)]
        if bitrate is not None:
            args += ["-b:v", str(bitrate), "-maxrate", str(bitrate), "-bufsize", str(bitrate)]
    if acodec is None:
        args.append("-an")
    else:
        args += ["-c:a", acodec, "-ac", str(channels), "-b:a", audio_bitrate]
    return args


def make_clip(
    path: str | os.PathLike[str],
    *,
    seconds: float,
    vcodec: str | None = "libx264",
    acodec: str | None = "aac",
    size: str = "320x240",
    fps: int = 25,
    gop_frames: int = 25,
    bitrate: str | int | None = None,
    bframes: int = 0,
    preset: str = "ultrafast",
    audio_rate: int = 44100,
    channels: int = 2,
    audio_bitrate: str = "64k",
    sine_hz: int = 1000,
    extra_args: Sequence[str] = (),
) -> Path:
    """Encode a test clip (testsrc2 + sine) to path; the container follows the suffix.

    Video: keyframe every gop_frames frames exactly (no scene-cut keyframes), yuv420p, no B-frames
    unless bframes > 0. Audio: sine tone, AAC stereo 44.1 kHz by default. vcodec/acodec None drops
    that stream. Returns path as a Path.
    """
    out = Path(path)
    container = _FORMATS.get(out.suffix.lower())
    if container is None:
        raise ValueError(f"unknown container for {out}")
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    cmd += _lavfi_inputs(
        seconds=seconds,
        vcodec=vcodec,
        acodec=acodec,
        size=size,
        fps=fps,
        audio_rate=audio_rate,
        sine_hz=sine_hz,
        realtime=False,
    )
    cmd += _codec_args(
        vcodec=vcodec,
        acodec=acodec,
        gop_frames=gop_frames,
        bitrate=bitrate,
        bframes=bframes,
        preset=preset,
        channels=channels,
        audio_bitrate=audio_bitrate,
        container=container,
    )
    cmd += [*list(extra_args), "-f", container, str(out)]
    res = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"ffmpeg failed ({res.returncode}): {' '.join(cmd)}\n{res.stderr}")
    return out


def push(
    url: str,
    clip: str | os.PathLike[str],
    *,
    realtime: bool = True,
    loop: int = 0,
    loglevel: str = "error",
    extra_args: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """Start ``ffmpeg -re -i clip -c copy -f flv url`` and return the Popen.

    stdin is /dev/null, stdout discarded, stderr piped (``proc.communicate()`` / ``proc.stderr``);
    loop=N replays the clip N more times (-1 forever). Stop early with :func:`stop_push`.
    """
    cmd = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", loglevel]
    if realtime:
        cmd.append("-re")
    if loop:
        cmd += ["-stream_loop", str(loop)]
    cmd += ["-i", str(clip), "-c", "copy", *extra_args, "-f", "flv", url]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def push_generated(
    url: str,
    *,
    seconds: float | None,
    vcodec: str | None = "libx264",
    acodec: str | None = "aac",
    size: str = "320x240",
    fps: int = 25,
    gop_frames: int = 25,
    bitrate: str | int | None = None,
    bframes: int = 0,
    preset: str = "ultrafast",
    audio_rate: int = 44100,
    channels: int = 2,
    audio_bitrate: str = "64k",
    sine_hz: int = 1000,
    realtime: bool = True,
    loglevel: str = "error",
    extra_args: Sequence[str] = (),
) -> subprocess.Popen[bytes]:
    """Encode testsrc2 + sine on the fly and push it as FLV to url (seconds=None: until stopped).

    Same codec knobs as :func:`make_clip`; costs one x264 ultrafast encode of CPU per push.
    """
    cmd = [FFMPEG, "-hide_banner", "-nostdin", "-loglevel", loglevel]
    cmd += _lavfi_inputs(
        seconds=seconds,
        vcodec=vcodec,
        acodec=acodec,
        size=size,
        fps=fps,
        audio_rate=audio_rate,
        sine_hz=sine_hz,
        realtime=realtime,
    )
    cmd += _codec_args(
        vcodec=vcodec,
        acodec=acodec,
        gop_frames=gop_frames,
        bitrate=bitrate,
        bframes=bframes,
        preset=preset,
        channels=channels,
        audio_bitrate=audio_bitrate,
        container="flv",
    )
    if vcodec == "libx264":
        cmd += ["-tune", "zerolatency"] if bframes == 0 else []
    cmd += [*extra_args, "-f", "flv", url]
    return subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop_push(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> int:
    """Stop a push cleanly (SIGINT: ffmpeg closes the RTMP stream), SIGKILL after timeout.

    Returns the exit status (ffmpeg exits 255 after SIGINT).
    """
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)
    if proc.stderr is not None and not proc.stderr.closed:
        proc.stderr.close()
    return int(proc.returncode)


def probe(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``ffprobe -v error -show_format -show_streams -of json path`` as a dict."""
    res = subprocess.run(
        [FFPROBE, "-v", "error", "-show_format", "-show_streams", "-of", "json", str(path)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise RuntimeError(f"ffprobe failed on {path}: {res.stderr}")
    return json.loads(res.stdout)  # type: ignore[no-any-return]


def probe_packets(path: str | os.PathLike[str], select: str | None = None) -> list[dict[str, Any]]:
    """Every packet of path (ffprobe -show_packets): codec_type, stream_index, pts, dts,
    pts_time, dts_time, duration_time, size, flags ("K__" = keyframe), ...

    select: an ffprobe stream specifier such as "v" or "a:0" (default: all streams).
    """
    cmd = [FFPROBE, "-v", "error", "-show_packets", "-of", "json"]
    if select:
        cmd += ["-select_streams", select]
    res = subprocess.run([*cmd, str(path)], stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if res.returncode != 0:
        raise RuntimeError(f"ffprobe failed on {path}: {res.stderr}")
    return list(json.loads(res.stdout).get("packets", []))


def duration(path: str | os.PathLike[str]) -> float:
    """Container duration in seconds (format.duration)."""
    return float(probe(path)["format"]["duration"])


# Short probe, as the recorder uses: spooling starts within about a second of the push.
PULL_OPTIONS = {"probesize": "32768", "analyzeduration": "500000"}


def open_pull(
    url: str,
    *,
    retry_for: float = 5.0,
    options: dict[str, str] | None = None,
    timeout: float | tuple[float, float] = (5.0, 10.0),
) -> Any:
    """``av.open(url)`` for an RTMP pull, retrying while the stream is not published yet.

    nginx-rtmp (idle_streams off) refuses a player of a stream that is not published -- PyAV raises
    PermissionError (EPERM) -- and a stream is only published once the on_publish hook has answered,
    so a pull started from inside the hook races the push. Do NOT pass the rtmp ``timeout`` option:
    for rtmp it means "listen for an incoming connection"; PyAV's ``timeout=`` argument is fine.
    """
    import av  # noqa: PLC0415 - media.py stays usable without PyAV

    deadline = time.monotonic() + retry_for
    while True:
        try:
            return av.open(url, options=dict(options or PULL_OPTIONS), timeout=timeout)
        except (PermissionError, ConnectionRefusedError):
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def pull_packets(
    url: str, *, max_packets: int | None = None, max_seconds: float | None = None, retry_for: float = 5.0
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Pull url with PyAV and describe the packets read.

    Stops after max_packets / max_seconds or at the end of the stream (nginx-rtmp with
    idle_streams off disconnects players when the publisher leaves: PyAV raises OSError EIO, which
    counts as the end here). Returns (packets, info): each packet is a dict with ``type``
    ("audio"/"video"), ``keyframe``, ``pts``, ``dts``, ``time_base``, ``size``, ``at``
    (time.monotonic() when read); info has ``streams`` [(type, codec)], ``opened_at``, ``end``
    ("limit" | "eof" | "eio").
    """
    t_start = time.monotonic()
    container = open_pull(url, retry_for=retry_for)
    info: dict[str, Any] = {
        "opened_at": time.monotonic(),
        "streams": [(s.type, s.codec_context.name) for s in container.streams],
        "end": "eof",
    }
    packets: list[dict[str, Any]] = []
    try:
        for pkt in container.demux():
            if pkt.size == 0:  # flush packet at the end
                continue
            packets.append(
                {
                    "type": pkt.stream.type,
                    "keyframe": bool(pkt.is_keyframe),
                    "pts": pkt.pts,
                    "dts": pkt.dts,
                    "time_base": pkt.time_base,
                    "size": pkt.size,
                    "at": time.monotonic(),
                }
            )
            if max_packets is not None and len(packets) >= max_packets:
                info["end"] = "limit"
                break
            if max_seconds is not None and time.monotonic() - t_start >= max_seconds:
                info["end"] = "limit"
                break
    except OSError as exc:
        if exc.errno != 5:  # EIO: the ingest closed the connection (publisher left)
            raise
        info["end"] = "eio"
    finally:
        container.close()
    return packets, info
