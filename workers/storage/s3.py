"""S3 and S3-compatible storage (AWS, MinIO, Ceph, R2, COS's S3 API...) over boto3.

Verification after every upload:

* ``HEAD`` the object; its size must equal the local size.
* Its ETag must equal the MD5 of the file (single-part upload) or the multipart ETag
  ``md5(md5(part 1) + ... + md5(part N)) + "-N"`` computed locally with the same part size the transfer
  manager used. This works on every S3-compatible store that does not encrypt with SSE-KMS/SSE-C (there the
  ETag is not an MD5; then only the size is checked, plus the transport checksum below).

Why ETags rather than ``ChecksumAlgorithm=SHA256``: moto (our loopback test server) does accept SHA256
checksums but reports a single full-object value for multipart uploads where AWS reports a composite
``<b64>-N`` value, and many S3-compatible services (MinIO before 2023, Ceph, Huawei OBS, Backblaze B2) refuse
or ignore the flexible-checksum headers. The MD5/multipart ETag is the one check that behaves the same on
AWS, moto and the compatible stores. When a server does report a flexible checksum on ``HEAD``
(``ChecksumMode=ENABLED``), it is kept in ``StoredObject.checksum`` for the record.

On AWS itself (no ``endpoint_url``) botocore's default request checksums (CRC, validated by S3 on receipt)
stay on. With a custom ``endpoint_url`` they are only sent when an operation requires them, because
boto3 >= 1.36 otherwise sends ``x-amz-checksum-*`` / ``aws-chunked`` bodies that several compatible stores
reject (boto/boto3#4392).
"""

from __future__ import annotations

import ipaddress
import mimetypes
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError, NoCredentialsError, ParamValidationError
from botocore.exceptions import ConnectionError as BotoConnectionError
from s3transfer.utils import ChunksizeAdjuster

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

__all__ = ["S3Storage"]

_MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 limit
_RETRYABLE_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "ServiceUnavailable",
    "InternalError",
    "OperationAborted",
}


class S3Storage(StorageBackend):
    """A bucket on AWS S3 or any S3-compatible endpoint."""

    def __init__(self, config: StorageConfig) -> None:
        if not config.bucket:
            raise ValueError("S3 storage needs a bucket")
        if config.multipart_threshold < 5 * MiB or config.multipart_chunksize < 5 * MiB:
            raise ValueError("S3 multipart threshold and part size must be at least 5 MiB")
        self.bucket = config.bucket
        self.prefix = config.prefix.strip("/")
        self.multipart_threshold = config.multipart_threshold
        self.multipart_chunksize = config.multipart_chunksize
        botocore_config: dict[str, Any] = {
            "signature_version": "s3v4",
            "connect_timeout": config.connect_timeout,
            "read_timeout": config.read_timeout,
            "retries": {"total_max_attempts": max(1, config.max_attempts), "mode": "standard"},
            "s3": {"addressing_style": _addressing_style(config)},
            "tcp_keepalive": True,
        }
        if config.endpoint_url:
            botocore_config["request_checksum_calculation"] = "when_required"
            botocore_config["response_checksum_validation"] = "when_required"
        self.client = boto3.session.Session().client(
            "s3",
            endpoint_url=config.endpoint_url or None,
            region_name=config.region or "us-east-1",
            aws_access_key_id=config.access_key_id or None,
            aws_secret_access_key=config.secret_access_key or None,
            config=Config(**botocore_config),
        )
        self.transfer_config = TransferConfig(
            multipart_threshold=config.multipart_threshold,
            multipart_chunksize=config.multipart_chunksize,
            max_concurrency=4,
            use_threads=True,
        )

    # -- interface ------------------------------------------------------------------------------
    def upload(self, local_path: Path, key: str, *, content_type: str | None = None) -> StoredObject:
        name = self.object_name(key)
        path = Path(local_path)
        extra: dict[str, Any] = {}
        ctype = content_type or mimetypes.guess_type(path.name)[0]
        if ctype:
            extra["ContentType"] = ctype
        try:
            self.client.upload_file(str(path), self.bucket, name, ExtraArgs=extra, Config=self.transfer_config)
        except FileNotFoundError as exc:
            raise StorageError(f"local file missing: {path}") from exc
        except S3UploadFailedError as exc:
            raise _upload_failed(exc, name) from exc
        except Exception as exc:
            raise _map_error(exc, f"upload of {name}") from exc
        return self.verify(path, key)

    def verify(self, local_path: Path, key: str) -> StoredObject:
        path = Path(local_path)
        stored, size = self._stored_same_size(path, key)
        digest = file_digest(path, part_size=self.part_size_for(size))
        if digest.etag_matches(stored.etag) is False:
            expected = digest.md5 if size < self.multipart_threshold else digest.multipart_etag()
            raise StorageVerifyError(f"{key}: stored ETag {stored.etag} != expected {expected}")
        return stored

    def delete(self, key: str) -> None:
        name = self.object_name(key)
        try:
            self.client.delete_object(Bucket=self.bucket, Key=name)  # S3 answers 204 for a missing key too
        except ClientError as exc:
            if _status(exc) == 404 and _code(exc) != "NoSuchBucket":
                return
            raise _map_error(exc, f"delete of {name}") from exc
        except Exception as exc:
            raise _map_error(exc, f"delete of {name}") from exc

    def head(self, key: str) -> StoredObject | None:
        name = self.object_name(key)
        try:
            resp = self.client.head_object(Bucket=self.bucket, Key=name, ChecksumMode="ENABLED")
        except ClientError as exc:
            if _status(exc) == 404:
                return None
            raise _map_error(exc, f"head of {name}") from exc
        except Exception as exc:
            raise _map_error(exc, f"head of {name}") from exc
        checksum = None
        for algorithm in ("SHA256", "CRC64NVME", "CRC32C", "CRC32", "SHA1"):
            value = resp.get(f"Checksum{algorithm}")
            if value:
                checksum = f"{algorithm.lower()}:{value}"
                break
        etag = resp.get("ETag")
        return StoredObject(
            key=key,
            size=int(resp["ContentLength"]),
            etag=etag.strip('"') if etag else None,
            checksum=checksum,
        )

    def url(self, key: str, *, expires_in: int) -> str:
        if not 1 <= expires_in <= _MAX_PRESIGN_SECONDS:
            raise ValueError(f"expires_in must be between 1 and {_MAX_PRESIGN_SECONDS} seconds")
        name = self.object_name(key)
        try:
            return str(
                self.client.generate_presigned_url(
                    "get_object", Params={"Bucket": self.bucket, "Key": name}, ExpiresIn=expires_in
                )
            )
        except Exception as exc:
            raise _map_error(exc, f"presign of {name}") from exc

    # -- helpers --------------------------------------------------------------------------------
    def part_size_for(self, size: int) -> int:
        """The part size s3transfer uses for a file of this size (it grows past 10,000 parts)."""
        if size < self.multipart_threshold:
            return max(size, 1)
        return int(ChunksizeAdjuster().adjust_chunksize(self.multipart_chunksize, size))

    def object_name(self, key: str) -> str:
        validate_key(key)
        return super().object_name(key)


def _addressing_style(config: StorageConfig) -> str:
    """path_style=True: path. Otherwise virtual-hosted (which AWS, COS's and OSS's S3 APIs expect), except for
    an endpoint on an IP address or localhost, where a bucket cannot be a sub-domain."""
    if config.path_style:
        return "path"
    if not config.endpoint_url:
        return "auto"
    host = urlsplit(config.endpoint_url).hostname or ""
    if host == "localhost" or host.endswith(".localhost"):
        return "path"
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return "virtual"
    return "path"


def _status(exc: ClientError) -> int | None:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if status is not None else None


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _map_error(exc: BaseException, what: str) -> StorageError:
    if isinstance(exc, StorageError):
        return exc
    if isinstance(exc, ClientError):
        status = _status(exc) or 0
        code = _code(exc)
        if status >= 500 or status == 429 or code in _RETRYABLE_CODES:
            return StorageUnavailable(f"{what}: {status} {code}: {exc}")
        return StorageError(f"{what}: {status} {code}: {exc}")
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        return StorageUnavailable(f"{what}: {exc}")
    if isinstance(exc, NoCredentialsError | ParamValidationError):
        return StorageError(f"{what}: {exc}")
    if isinstance(exc, BotoCoreError | OSError):
        return StorageUnavailable(f"{what}: {exc}")
    return StorageError(f"{what}: {exc!r}")


def _upload_failed(exc: S3UploadFailedError, name: str) -> StorageError:
    # boto3 re-raises a ClientError of the transfer as S3UploadFailedError with the original as context
    cause = exc.__cause__ or exc.__context__
    if cause is not None:
        return _map_error(cause, f"upload of {name}")
    text = str(exc)
    if any(f"({code})" in text for code in ("500", "502", "503", "504", "SlowDown", "RequestTimeout")):
        return StorageUnavailable(text)
    return StorageError(text)
