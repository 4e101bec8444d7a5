"""Reading FLV tag headers straight from a file nginx-rtmp is still writing (no demuxer, no decoding).

An FLV file is a 9-byte header, a 4-byte ``PreviousTagSize0``, then tags: an 11-byte header (type, 24-bit data
size, 24+8-bit timestamp in ms, stream id), the data, and the tag's own size (``11 + data size``) as 4 bytes.
Each tag ends with its own size, so the head of a file (header, ``onMetaData``, the codec sequence headers) and
any later run of whole tags make a valid FLV stream when put one after the other: that is how a recorder that
starts late skips what no recording needs, and how a record file nobody follows is trimmed without losing what
a later recorder needs to open it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass

#: FLV header (9 bytes) plus PreviousTagSize0.
FILE_HEADER_SIZE = 13
TAG_HEADER_SIZE = 11
AUDIO, VIDEO, SCRIPT = 8, 9, 18
#: A tag larger than this is not a tag (resync guard): 16 MiB is the format's own limit.
MAX_TAG_DATA = (1 << 24) - 1
_TAG_TYPE = re.compile(rb"[\x08\x09\x12]")
_AAC = 10
_AVC, _HEVC_LEGACY = 7, 12


@dataclass(frozen=True)
class Tag:
    """One tag header and the first bytes of its data."""

    offset: int
    type: int
    size: int  # data size
    timestamp: int  # ms
    first: bytes  # up to the first 5 data bytes

    @property
    def end(self) -> int:
        """Offset of the next tag."""
        return self.offset + TAG_HEADER_SIZE + self.size + 4

    @property
    def keyframe(self) -> bool:
        """A video keyframe (frame type 1) that is not a sequence header."""
        return self.type == VIDEO and bool(self.first) and self.first[0] >> 4 == 1 and not self.sequence_header

    @property
    def sequence_header(self) -> bool:
        """An AVC/HEVC decoder configuration or an AAC AudioSpecificConfig (also enhanced-RTMP's)."""
        if len(self.first) < 2:
            return False
        b0 = self.first[0]
        if self.type == AUDIO:
            return b0 >> 4 == _AAC and self.first[1] == 0
        if self.type == VIDEO:
            if b0 & 0x80:  # enhanced RTMP: packet type in the low nibble, 0 = sequence start
                return b0 & 0x0F == 0
            return b0 & 0x0F in (_AVC, _HEVC_LEGACY) and self.first[1] == 0
        return False


def parse_tag(buf: bytes, offset: int) -> Tag | None:
    """The tag whose header starts buf (at file offset ``offset``), or None if buf does not hold one."""
    if len(buf) < TAG_HEADER_SIZE or buf[0] not in (AUDIO, VIDEO, SCRIPT):
        return None
    size = int.from_bytes(buf[1:4], "big")
    timestamp = int.from_bytes(buf[4:7], "big") | (buf[7] << 24)
    if buf[8:11] != b"\0\0\0":  # stream id is always 0
        return None
    return Tag(offset=offset, type=buf[0], size=size, timestamp=timestamp, first=bytes(buf[11:16]))


def read_tag(fd: int, offset: int, file_size: int) -> Tag | None:
    """The whole tag at offset (its trailing size written too), or None."""
    buf = os.pread(fd, TAG_HEADER_SIZE + 5, offset)
    tag = parse_tag(buf, offset)
    if tag is None or tag.end > file_size:
        return None
    return tag


def iter_tags(fd: int, offset: int, file_size: int) -> Iterator[Tag]:
    """Whole tags from offset on, as long as they follow one another."""
    while True:
        tag = read_tag(fd, offset, file_size)
        if tag is None:
            return
        yield tag
        offset = tag.end


def head_end(fd: int, file_size: int) -> int | None:
    """Where the head (FLV header, script data, codec sequence headers) ends: the offset of the first media
    frame; None while nginx has not written that far (or the file is not FLV)."""
    if os.pread(fd, 3, 0) != b"FLV":
        return None
    offset = FILE_HEADER_SIZE
    for tag in iter_tags(fd, FILE_HEADER_SIZE, file_size):
        if not (tag.type == SCRIPT or tag.sequence_header):
            return tag.offset
        offset = tag.end
    if offset > FILE_HEADER_SIZE and os.pread(fd, 1, offset) == b"\0":
        return offset  # what followed the head was punched out (it reads as zeros)
    return None


def _valid_at(fd: int, offset: int, file_size: int) -> Tag | None:
    """A tag at offset whose trailing size matches and that is followed by another tag (or the end)."""
    tag = read_tag(fd, offset, file_size)
    if tag is None or tag.size > MAX_TAG_DATA:
        return None
    if int.from_bytes(os.pread(fd, 4, tag.end - 4), "big") != TAG_HEADER_SIZE + tag.size:
        return None
    if tag.end < file_size and read_tag(fd, tag.end, file_size) is None and file_size - tag.end >= TAG_HEADER_SIZE:
        return None
    return tag


def resync(fd: int, offset: int, file_size: int, *, limit: int = 1 << 22) -> Tag | None:
    """The first whole tag starting at or after offset; punched holes (zeros) are jumped over, and at most
    ``limit`` bytes of data are scanned."""
    scanned = 0
    while offset < file_size and scanned < limit:
        try:
            offset = max(offset, os.lseek(fd, offset, os.SEEK_DATA))
        except OSError:  # ENXIO: no data after offset (yet)
            return None
        buf = os.pread(fd, min(1 << 16, file_size - offset), offset)
        if not buf:
            return None
        for m in _TAG_TYPE.finditer(buf):
            tag = _valid_at(fd, offset + m.start(), file_size)
            if tag is not None:
                return tag
        offset += len(buf)
        scanned += len(buf)
    return None


def start_for(fd: int, from_offset: int, file_size: int, target_ms: int | None) -> Tag | None:
    """The tag a reader that needs media from ``target_ms`` on starts at: the last video keyframe at or
    before it (the first tag after from_offset if there is none), or the first whole tag when target_ms is
    None. Walks tag headers only: hours of backlog cost a few reads per tag, no demuxing."""
    first = resync(fd, from_offset, file_size)
    if first is None or target_ms is None:
        return first
    key: Tag | None = None
    latest = first
    for tag in iter_tags(fd, first.offset, file_size):
        if tag.timestamp > target_ms:
            break
        if tag.keyframe:
            key = tag
        if tag.type == AUDIO:
            latest = tag
    # Audio-only: any audio tag is a start point.
    return key if key is not None else latest if not _has_video(fd, first, file_size) else first


def _has_video(fd: int, first: Tag, file_size: int, *, probe: int = 64) -> bool:
    return any(tag.type == VIDEO for _, tag in zip(range(probe), iter_tags(fd, first.offset, file_size), strict=False))


def read_tags(path: str | os.PathLike[str]) -> list[Tag]:
    """Every tag of a finished FLV file (tests and tools)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return list(iter_tags(fd, FILE_HEADER_SIZE, os.fstat(fd).st_size))
    finally:
        os.close(fd)
