"""The storage interface, its configuration, its errors and the digests every backend verifies with.

Plain Python (no Django): a Celery task on queue ``io`` builds a backend with :func:`backend_for` from a
storage target row, calls :meth:`StorageBackend.upload`, and deletes the local copy only after it returned.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "FileDigest",
    "MiB",
    "StorageBackend",
    "StorageConfig",
    "StorageError",
    "StorageUnavailable",
    "StorageVerifyError",
    "StoredObject",
    "file_digest",
    "join_key",
    "validate_key",
]

MiB = 1024 * 1024
_READ_SIZE = 1 * MiB
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
_MD5_ETAG = re.compile(r'^"?([0-9a-fA-F]{32})(?:-(\d+))?"?$')


class StorageError(Exception):
    """Any failure of a storage backend (bad credentials, missing bucket, refused request...)."""


class StorageUnavailable(StorageError):
    """The store could not be reached or answered 5xx / throttled: the same call may succeed later."""


class StorageVerifyError(StorageError):
    """The stored object does not match the local file (size, checksum or ETag): never delete the local copy."""


@dataclass(frozen=True)
class StoredObject:
    """What the store holds under ``key`` (the caller's key, without the target's prefix)."""

    key: str
    size: int
    etag: str | None  # as the store reports it, quotes stripped
    checksum: str | None  # "<algorithm>:<value>", e.g. "sha256:<hex>" (local), "crc64ecma:<int>" (COS)


@dataclass(frozen=True)
class StorageConfig:
    """A storage target, as plain values (the Django side decrypts the secret and fills this in)."""

    provider: str  # "local" | "s3" | "cos"
    bucket: str = ""
    region: str = ""
    endpoint_url: str = ""
    path_style: bool = False
    access_key_id: str = ""
    secret_access_key: str = ""
    prefix: str = ""
    local_root: Path | None = None
    multipart_threshold: int = 8 * MiB
    multipart_chunksize: int = 8 * MiB
    connect_timeout: float = 5
    read_timeout: float = 30
    max_attempts: int = 2

    def __repr__(self) -> str:  # never print the secret in logs or tracebacks
        return (
            f"StorageConfig(provider={self.provider!r}, bucket={self.bucket!r}, region={self.region!r}, "
            f"endpoint_url={self.endpoint_url!r}, prefix={self.prefix!r}, local_root={self.local_root!r})"
        )


class StorageBackend(ABC):
    """One interface over a local directory, S3 and COS.

    Keys are relative ("app/stream/2026-11-21/120000.mp4"); the backend puts them under the target's prefix
    (:meth:`object_name` tells the name in the store). All methods raise :class:`StorageError` subclasses only.
    """

    prefix: str = ""

    @abstractmethod
    def upload(self, local_path: Path, key: str, *, content_type: str | None = None) -> StoredObject:
        """Store the file under key, then verify the stored copy (see :meth:`verify`) before returning."""

    @abstractmethod
    def verify(self, local_path: Path, key: str) -> StoredObject:
        """Compare what the store holds under key with the local file; StorageVerifyError when they differ."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error."""

    @abstractmethod
    def head(self, key: str) -> StoredObject | None:
        """What the store holds under key, or None."""

    def exists(self, key: str) -> bool:
        return self.head(key) is not None

    @abstractmethod
    def url(self, key: str, *, expires_in: int) -> str:
        """A presigned GET URL valid for expires_in seconds (NotImplementedError for local storage)."""

    def object_name(self, key: str) -> str:
        """The name of key in the store: the target's prefix joined with the validated key."""
        return join_key(self.prefix, key)

    def _stored_same_size(self, path: Path, key: str) -> tuple[StoredObject, int]:
        """The first check of every remote verify: the object exists and has the local file's size."""
        stored = self.head(key)
        if stored is None:
            raise StorageVerifyError(f"{self.object_name(key)} is not in bucket {getattr(self, 'bucket', '')}")
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise StorageError(f"cannot read local file {path}: {exc}") from exc
        if stored.size != size:
            raise StorageVerifyError(f"{key}: stored size {stored.size} != local size {size}")
        return stored, size


def validate_key(key: str) -> str:
    """Return key if it is a safe relative object key, else raise ValueError.

    Refused: empty keys, absolute keys, empty / "." / ".." segments, control characters. The same rule holds
    for every backend so that a key accepted by S3 can also be mirrored to the local backup spool.
    """
    if not isinstance(key, str) or not key:
        raise ValueError("object key must be a non-empty string")
    if _CONTROL_CHARS.search(key):
        raise ValueError(f"object key contains a control character: {key!r}")
    if key.startswith("/") or key.startswith("\\") or re.match(r"^[A-Za-z]:", key):
        raise ValueError(f"object key must be relative: {key!r}")
    for segment in key.replace("\\", "/").split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(f"object key has an empty, '.' or '..' segment: {key!r}")
    return key


def join_key(prefix: str, key: str) -> str:
    validate_key(key)
    prefix = prefix.strip("/")
    if prefix:
        validate_key(prefix)
        return f"{prefix}/{key}"
    return key


@dataclass(frozen=True)
class FileDigest:
    size: int
    md5: str  # hex
    sha256: str  # hex
    part_size: int
    part_md5s: tuple[bytes, ...]  # raw md5 of each part_size slice (what S3/COS fold into a multipart ETag)
    crc64ecma: int | None = None

    def multipart_etag(self) -> str:
        """ETag an S3-style store gives a multipart upload of this file in part_size parts: md5(md5s) + "-N"."""
        folded = hashlib.md5(b"".join(self.part_md5s), usedforsecurity=False).hexdigest()
        return f"{folded}-{len(self.part_md5s)}"

    def etag_matches(self, etag: str | None) -> bool | None:
        """True / False when etag is an MD5-style ETag this digest can check; None when it is not (SSE-KMS...)."""
        if not etag:
            return None
        match = _MD5_ETAG.match(etag.strip())
        if not match:
            return None
        md5_hex, parts = match.group(1).lower(), match.group(2)
        if parts is None:
            return md5_hex == self.md5
        if int(parts) != len(self.part_md5s):
            return False
        return f"{md5_hex}-{parts}" == self.multipart_etag()


def file_digest(
    path: Path, *, part_size: int = 8 * MiB, crc64: Callable[[bytes, int], int] | None = None
) -> FileDigest:
    """Read path once: size, MD5, SHA-256, MD5 of every part_size slice and optionally a CRC-64."""
    if part_size <= 0:
        raise ValueError("part_size must be positive")
    md5 = hashlib.md5(usedforsecurity=False)
    sha = hashlib.sha256()
    parts: list[bytes] = []
    part = hashlib.md5(usedforsecurity=False)
    in_part = 0
    size = 0
    crc = 0
    with open(path, "rb") as f:
        while block := f.read(_READ_SIZE):
            size += len(block)
            md5.update(block)
            sha.update(block)
            if crc64 is not None:
                crc = crc64(block, crc)
            view = memoryview(block)
            while view:
                take = min(len(view), part_size - in_part)
                part.update(view[:take])
                in_part += take
                view = view[take:]
                if in_part == part_size:
                    parts.append(part.digest())
                    part = hashlib.md5(usedforsecurity=False)
                    in_part = 0
    if in_part or not parts:
        parts.append(part.digest())
    return FileDigest(
        size=size,
        md5=md5.hexdigest(),
        sha256=sha.hexdigest(),
        part_size=part_size,
        part_md5s=tuple(parts),
        crc64ecma=crc if crc64 is not None else None,
    )
