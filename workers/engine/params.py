"""Parameter sets: the cheap way to see a resolution change without decoding every frame."""

from __future__ import annotations

import logging
from typing import Any

import av

log = logging.getLogger(__name__)

_PS_TYPES = {"h264": {7}, "hevc": {32, 33}}
PS_CODECS = frozenset(_PS_TYPES)


def _nal_type(nal: bytes | memoryview, codec: str) -> int:
    return (nal[0] & 0x1F) if codec == "h264" else ((nal[0] >> 1) & 0x3F)


def _is_vcl(nal_type: int, codec: str) -> bool:
    return 1 <= nal_type <= 5 if codec == "h264" else nal_type < 32


def parameter_sets(data: bytes, codec: str) -> bytes | None:
    """The SPS (and HEVC VPS) NAL units in front of a keyframe, if any.

    Handles Annex B (MPEG-TS sources) and 4-byte length prefixes (FLV/MP4).
    Stops at the first slice, so the scan is short.
    """
    types = _PS_TYPES.get(codec)
    if types is None or len(data) < 5:
        return None
    found: list[bytes] = []
    if data[:3] == b"\0\0\1" or data[:4] == b"\0\0\0\1":
        i = data.find(b"\0\0\1")
        while i >= 0:
            start = i + 3
            j = data.find(b"\0\0\1", start)
            if start >= len(data):
                break
            t = _nal_type(data[start : start + 1], codec)
            if _is_vcl(t, codec):
                break
            if t in types:
                found.append(data[start : (len(data) if j < 0 else j)].rstrip(b"\0"))
            i = j
    else:
        pos = 0
        while pos + 4 < len(data):
            size = int.from_bytes(data[pos : pos + 4], "big")
            if size <= 0 or pos + 4 + size > len(data):
                break
            t = _nal_type(data[pos + 4 : pos + 5], codec)
            if _is_vcl(t, codec):
                break
            if t in types:
                found.append(data[pos + 4 : pos + 4 + size])
            pos += 4 + size
    return b"".join(found) or None


def decoded_size(codec: str, extradata: bytes | None, data: bytes) -> tuple[int | None, int | None]:
    """Width and height of one keyframe, by decoding it (only done on a change)."""
    try:
        ctx: Any = av.CodecContext.create(codec, "r")
        if extradata:
            ctx.extradata = extradata
        frames = list(ctx.decode(av.Packet(data))) + list(ctx.decode(None))
        if frames:
            return frames[0].width, frames[0].height
    except Exception:  # a size we cannot learn is recorded as unknown
        log.debug("could not decode keyframe to learn its size", exc_info=True)
    return None, None
