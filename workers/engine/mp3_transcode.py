"""The MP3 transcode, away from the recorders: AAC (an ADTS file) → MP3 with libmp3lame, in a process pool.

MP3 is the engine's one transcode and was two thirds of the recorder's CPU (benchmarks/REPORT.md). Done on the
packaging thread it held up every other format of the stream and, through the GIL, every other stream of the
worker. So ``Mp3Series`` only remuxes the AAC packets of each MP3 file into a temporary ADTS file (as cheap as
the AAC format) and this pool encodes it, in separate processes at a lower CPU priority: an overloaded box makes
the MP3 files late, never the recordings. The pool is made on first use, one per process that records; its
processes start with ``spawn`` (forking a threaded worker is unsafe) and import only this module.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import shutil
import subprocess
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from fractions import Fraction
from typing import Any

import av

# LAME's quality/speed knob (``lame -q``; 0 slowest .. 9 fastest; its default is 3). -q 7 ("fast, ok quality" in
# LAME's docs) halves the encoder's time at the same bitrate.
MP3_ENCODER_OPTIONS = {"compression_level": "7"}
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
#: Processes of the pool (``LIVEREC_MP3_PROCESSES``; default: one per core but one, at least one).
PROCESSES_ENV = "LIVEREC_MP3_PROCESSES"
#: The ffmpeg binary that encodes (default: the one on PATH; none: PyAV in process).
FFMPEG_ENV = "LIVEREC_FFMPEG"
#: How much lower than the recorders the encoders run (``nice``): they use idle CPU first.
NICENESS = 10

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()


def transcode_to_mp3(adts_path: str, mp3_path: str, bit_rate: int) -> float:
    """Encode the ADTS file to ``mp3_path``; returns the seconds of audio encoded (LAME adds no time: its
    priming and padding are marked as such). Runs in a pool process.

    With the system's ``ffmpeg`` (``LIVEREC_FFMPEG`` or the one on PATH) when there is one: the libmp3lame
    that PyAV's wheel bundles is about 3.4 times slower at the same settings (120 s of stereo in 1.87 s of CPU
    against 0.55 s on this box); else in process with PyAV.
    """
    source_rate, channels, seconds = _audio_of(adts_path)
    rate = source_rate if source_rate in MP3_RATES else 48000
    layout = "mono" if channels == 1 else "stereo"
    ffmpeg = os.environ.get(FFMPEG_ENV) or shutil.which("ffmpeg")
    if ffmpeg:
        subprocess.run(
            [
                ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", adts_path, "-map", "0:a:0",
                "-c:a", "libmp3lame", "-b:a", str(bit_rate),
                "-compression_level", MP3_ENCODER_OPTIONS["compression_level"], "-ar", str(rate),
                "-ac", "1" if layout == "mono" else "2", "-f", "mp3", mp3_path,
            ],
            check=True, capture_output=True, timeout=3600,
        )  # fmt: skip
        return seconds
    return _encode_in_process(adts_path, mp3_path, bit_rate, rate, layout)


def _audio_of(adts_path: str) -> tuple[int, int, float]:
    """Sample rate, channels and seconds of an ADTS file, from its packets (no decoding)."""
    with av.open(adts_path) as source:
        audio: Any = source.streams.audio[0]
        rate, channels = audio.codec_context.sample_rate, audio.codec_context.channels or 2
        ticks = sum(packet.duration or 0 for packet in source.demux(audio) if packet.size)
        return rate, channels, float(ticks * audio.time_base) if audio.time_base else 0.0


def _encode_in_process(adts_path: str, mp3_path: str, bit_rate: int, rate: int, layout: str) -> float:
    seconds = 0.0
    samples = 0
    with av.open(adts_path) as source, av.open(mp3_path, "w", format="mp3") as target:
        audio: Any = source.streams.audio[0]
        out: Any = target.add_stream("libmp3lame", rate=rate, layout=layout, options=dict(MP3_ENCODER_OPTIONS))
        out.codec_context.bit_rate = bit_rate
        for packet in source.demux(audio):
            try:
                frames = packet.decode()
            except av.FFmpegError:
                continue  # a corrupt AAC frame is skipped, not worth the whole file
            for frame in frames:
                frame.pts = samples
                frame.time_base = Fraction(1, frame.sample_rate)
                samples += frame.samples
                seconds += frame.samples / frame.sample_rate
                target.mux(out.encode(frame))
        target.mux(out.encode(None))
    return seconds


def _lower_priority() -> None:
    os.nice(NICENESS)


def _processes() -> int:
    configured = os.environ.get(PROCESSES_ENV, "")
    if configured.isdigit() and int(configured) > 0:
        return int(configured)
    return max(1, (os.cpu_count() or 2) - 1)


def submit(adts_path: str, mp3_path: str, bit_rate: int) -> Future[float]:
    """Queue one MP3 file's encode on the pool (a new pool when a process of the old one died)."""
    for _ in range(2):
        pool = _the_pool()
        try:
            return pool.submit(transcode_to_mp3, adts_path, mp3_path, bit_rate)
        except BrokenProcessPool:
            _drop_pool(pool)
    raise BrokenProcessPool("the MP3 encoders keep dying")


def _the_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=_processes(),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_lower_priority,
            )
            atexit.register(_pool.shutdown, wait=False, cancel_futures=True)
        return _pool


def _drop_pool(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_lock:
        if _pool is pool:
            _pool = None
    pool.shutdown(wait=False, cancel_futures=True)
