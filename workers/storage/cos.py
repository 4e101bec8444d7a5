"""Tencent Cloud COS over cos-python-sdk-v5 (``qcloud_cos``).

``endpoint_url`` (optional) picks where requests go:

* empty: the region's public endpoint, ``https://<bucket>.cos.<region>.myqcloud.com``;
* a host starting with ``cos.`` or ``cos-`` (``https://cos.ap-guangzhou.myqcloud.com``,
  ``https://cos-internal.ap-guangzhou.tencentcos.cn``, ``https://cos.accelerate.myqcloud.com``): a regional,
  internal or accelerated endpoint; the SDK puts the bucket in front of it;
* any other host (``https://examplebucket-1250000000.cos.ap-guangzhou.myqcloud.com``, a custom origin
  domain bound to the bucket, a private gateway, a loopback test server): that host serves this bucket, so
  requests go to ``<scheme>://<host[:port]>/<key>`` (the SDK's ``Domain`` option).

Verification after every upload: ``HEAD`` size must match; the ETag must equal the MD5 (simple upload) or
the multipart ETag (``md5(part md5s)-N``) where it has that shape; and when COS reports
``x-cos-hash-crc64ecma`` (real COS does for every object) it must equal the CRC-64/ECMA-182 of the file.
"""

from __future__ import annotations

import base64
import mimetypes
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import crcmod
from qcloud_cos import CosConfig, CosS3Client
from qcloud_cos.cos_exception import CosClientError, CosServiceError

from .base import (
    MiB,
    StorageBackend,
    StorageConfig,
    StorageError,
    StorageUnavailable,
    StorageVerifyError,
    StoredObject,
    file_digest,
    validate_key,
)

__all__ = ["CosStorage", "crc64ecma"]

_MAX_PARTS = 10_000
_MAX_PRESIGN_SECONDS = 7 * 24 * 3600
_RETRYABLE_CODES = {"SlowDown", "RequestTimeout", "ServiceUnavailable", "InternalError", "TooManyRequests"}

# CRC-64/XZ (ECMA-182, reflected, init and xorout all ones): what COS reports as x-cos-hash-crc64ecma.
crc64ecma = cast(
    Callable[[bytes, int], int], crcmod.mkCrcFun(0x142F0E1EBA9EA3693, initCrc=0, xorOut=0xFFFFFFFFFFFFFFFF, rev=True)
)


class CosStorage(StorageBackend):
    """A COS bucket (``<name>-<appid>``, e.g. ``examplebucket-1250000000``)."""

    def __init__(self, config: StorageConfig) -> None:
        if not config.bucket:
            raise ValueError("COS storage needs a bucket")
        if not config.region and not config.endpoint_url:
            raise ValueError("COS storage needs a region or an endpoint_url")
        self.bucket = config.bucket
        self.prefix = config.prefix.strip("/")
        self.multipart_threshold = max(1 * MiB, config.multipart_threshold)
        self.part_mib = max(1, config.multipart_chunksize // MiB)  # the SDK takes whole MiB
        options: dict[str, Any] = {
            "Region": config.region or None,
            "SecretId": config.access_key_id,
            "SecretKey": config.secret_access_key,
            "Timeout": (config.connect_timeout, config.read_timeout),  # passed through to requests
            "Scheme": "https",
        }
        if config.endpoint_url:
            parts = urlsplit(config.endpoint_url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise ValueError(f"bad COS endpoint_url: {config.endpoint_url!r}")
            options["Scheme"] = parts.scheme
            if parts.hostname.startswith(("cos.", "cos-")):
                options["Endpoint"] = parts.netloc
            else:
                options["Domain"] = parts.netloc
        self.client = CosS3Client(CosConfig(**options), retry=max(0, config.max_attempts - 1))

    # -- interface ------------------------------------------------------------------------------
    def upload(self, local_path: Path, key: str, *, content_type: str | None = None) -> StoredObject:
        name = self.object_name(key)
        path = Path(local_path)
        extra: dict[str, Any] = {}
        ctype = content_type or mimetypes.guess_type(path.name)[0]
        if ctype:
            extra["ContentType"] = ctype
        try:
            size = path.stat().st_size
            if size < self.multipart_threshold:
                digest = file_digest(path, part_size=max(size, 1))
                with open(path, "rb") as body:
                    # Content-MD5 makes COS refuse a body damaged on the way (400 BadDigest)
                    content_md5 = base64.b64encode(bytes.fromhex(digest.md5)).decode()
                    self.client.put_object(Bucket=self.bucket, Body=body, Key=name, ContentMD5=content_md5, **extra)
            else:
                self.client.upload_file(
                    Bucket=self.bucket,
                    Key=name,
                    LocalFilePath=str(path),
                    PartSize=self.part_mib,
                    MAXThread=4,
                    EnableMD5=True,  # Content-MD5 on every part
                    **extra,
                )
        except FileNotFoundError as exc:
            raise StorageError(f"local file missing: {path}") from exc
        except Exception as exc:
            raise _map_error(exc, f"upload of {name}") from exc
        return self.verify(path, key)

    def verify(self, local_path: Path, key: str) -> StoredObject:
        path = Path(local_path)
        stored, size = self._stored_same_size(path, key)
        part_size = self.part_size_for(size)
        digest = file_digest(
            path,
            part_size=part_size or max(size, 1),
            crc64=crc64ecma if stored.checksum else None,
        )
        if stored.checksum and stored.checksum != f"crc64ecma:{digest.crc64ecma}":
            raise StorageVerifyError(f"{key}: stored {stored.checksum} != local crc64ecma:{digest.crc64ecma}")
        multipart_etag = bool(stored.etag and "-" in stored.etag)
        if (part_size or not multipart_etag) and digest.etag_matches(stored.etag) is False:
            raise StorageVerifyError(f"{key}: stored ETag {stored.etag} does not match the local file")
        return stored

    def delete(self, key: str) -> None:
        name = self.object_name(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)  # 204 for a missing key too
        except CosServiceError as exc:
            if exc.get_status_code() == 404 and exc.get_error_code() != "NoSuchBucket":
                return
            raise _map_error(exc, f"delete of {name}") from exc
        except Exception as exc:
            raise _map_error(exc, f"delete of {name}") from exc

    def head(self, key: str) -> StoredObject | None:
        name = self.object_name(key)
        try:
            resp = self.client.head_object(Bucket=self.bucket, Key=name)
        except CosServiceError as exc:
            if exc.get_status_code() == 404:
                return None
            raise _map_error(exc, f"head of {name}") from exc
        except Exception as exc:
            raise _map_error(exc, f"head of {name}") from exc
        headers = {k.lower(): v for k, v in cast(Mapping[str, str], resp).items()}
        etag = headers.get("etag")
        crc = headers.get("x-cos-hash-crc64ecma")
        return StoredObject(
            key=key,
            size=int(headers.get("content-length", "0")),
            etag=etag.strip('"') if etag else None,
            checksum=f"crc64ecma:{crc}" if crc else None,
        )

    def url(self, key: str, *, expires_in: int) -> str:
        if not 1 <= expires_in <= _MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires_in must be between 1 and {_MAX_PRESIGN_SECONDS} seconds")
        name = self.object_name(key)
        try:
            return str(self.client.get_presigned_download_url(Bucket=self.bucket, Key=name, Expired=expires_in))
        except Exception as exc:
            raise _map_error(exc, f"presign of {name}") from exc

    # -- helpers --------------------------------------------------------------------------------
    def part_size_for(self, size: int) -> int | None:
        """Part size the SDK uses for a file of this size; None when it spreads the rest over the last part."""
        if size < self.multipart_threshold:
            return max(size, 1)
        part = self.part_mib * MiB
        if size <= part:
            return max(size, 1)
        if -(-size // part) > _MAX_PARTS:
            return None  # the SDK then uses size // 10000 with a longer last part: ETag not recomputed
        return part

    def object_name(self, key: str) -> str:
        validate_key(key)
        return super().object_name(key)


def _map_error(exc: BaseException, what: str) -> StorageError:
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, CosServiceError):
        status = int(exc.get_status_code() or 0)
        code = str(exc.get_error_code() or "")
        if status >= 500 or status == 429 or code in _RETRYABLE_CODES:
            return StorageUnavailable(f"{what}: {status} {code}: {exc.get_error_msg()}")
        return StorageError(f"{what}: {status} {code}: {exc.get_error_msg()}")
    if isinstance(exc, CosClientError | OSError):
        # the SDK raises CosClientError for connection errors and timeouts once its retries are spent
        return StorageUnavailable(f"{what}: {exc}")
    return StorageError(f"{what}: {exc!r}")
