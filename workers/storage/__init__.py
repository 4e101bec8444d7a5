"""Storage backends behind one interface: a local directory, S3 (and compatibles) and Tencent COS.

>>> backend = backend_for(StorageConfig(provider="s3", bucket="media", endpoint_url="http://127.0.0.1:9000",
...                                     path_style=True, access_key_id="...", secret_access_key="..."))
>>> stored = backend.upload(Path("var/spool/x.mp4"), "live/stream1/2026-11-21/120000.mp4")  # verified
>>> backend.url("live/stream1/2026-11-21/120000.mp4", expires_in=3600)

Errors: :class:`StorageUnavailable` (retry later), :class:`StorageVerifyError` (stored copy differs: keep the
local file), :class:`StorageError` (anything else, e.g. bad credentials); ``ValueError`` for unsafe keys.
"""

from __future__ import annotations

import functools

from .base import (
    MiB,
    StorageBackend,
    StorageConfig,
    StorageError,
    StorageUnavailable,
    StorageVerifyError,
    StoredObject,
    validate_key,
)
from .local import LocalStorage

__all__ = [
    "LocalStorage",
    "MiB",
    "StorageBackend",
    "StorageConfig",
    "StorageError",
    "StorageUnavailable",
    "StorageVerifyError",
    "StoredObject",
    "backend_for",
    "validate_key",
]


def backend_for(config: StorageConfig) -> StorageBackend:
    """The backend for a storage target (S3 and COS SDKs are imported only when used)."""
    if config.provider == "local":
        if config.local_root is None:
            raise ValueError("local storage needs local_root")
        return LocalStorage(config.local_root, prefix=config.prefix)
    return _remote_backend(config)


@functools.lru_cache(maxsize=64)
def _remote_backend(config: StorageConfig) -> StorageBackend:
    """One S3 or COS client per storage target and process, shared by its threads (SDK clients are thread-safe).

    A new client per upload costs a credentials and endpoint resolution and a new connection pool: under load
    that was most of an upload's time (benchmarks/REPORT.md, file availability on S3).
    """
    if config.provider == "s3":
        from .s3 import S3Storage  # noqa: PLC0415 - boto3 is loaded by the processes that use S3 only

        return S3Storage(config)
    if config.provider == "cos":
        from .cos import CosStorage  # noqa: PLC0415 - the COS SDK is loaded by the processes that use COS only

        return CosStorage(config)
    raise ValueError(f"unknown storage provider: {config.provider!r}")
