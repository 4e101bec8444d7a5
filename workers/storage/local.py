"""Local directory storage (the embedded default): files under ``root/prefix/key``."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import uuid
from pathlib import Path

from .base import StorageBackend, StorageError, StorageUnavailable, StorageVerifyError, StoredObject, file_digest

__all__ = ["LocalStorage"]


class LocalStorage(StorageBackend):
    """Stores files in a directory tree.

    upload() never exposes a partial file under the final name: it hardlinks (same filesystem) or copies +
    fsyncs into a temporary name beside the target, verifies size and SHA-256 of that temporary file against
    the source, then renames it into place (atomic on POSIX) and fsyncs the directory.
    """

    def __init__(self, root: Path | str, *, prefix: str = "") -> None:
        self.root = Path(root).resolve()
        self.prefix = prefix.strip("/")

    def path_for(self, key: str) -> Path:
        """Absolute path of key; ValueError for keys that would leave the root."""
        path = (self.root / self.object_name(key)).resolve()
        if path == self.root or self.root not in path.parents:
            raise ValueError(f"object key leaves the storage root: {key!r}")
        return path

    def upload(self, local_path: Path, key: str, *, content_type: str | None = None) -> StoredObject:
        target = self.path_for(key)
        source = Path(local_path)
        tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.resolve() == target:
                return self.verify(source, key)
            try:
                os.link(source, tmp)  # same filesystem: no copy; the spool never rewrites finished files
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES):
                    raise
                with open(source, "rb") as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1024 * 1024)
                    dst.flush()
                    os.fsync(dst.fileno())
            stored = self._check(source, tmp, key)
            os.replace(tmp, target)
            _fsync_dir(target.parent)
        except StorageError:
            raise
        except FileNotFoundError as exc:
            raise StorageError(f"local upload of {key!r} failed: {exc}") from exc
        except OSError as exc:  # disk full, permissions, I/O error: the spool keeps the file and retries
            raise StorageUnavailable(f"local upload of {key!r} failed: {exc}") from exc
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        return stored

    def verify(self, local_path: Path, key: str) -> StoredObject:
        target = self.path_for(key)
        if not target.is_file():
            raise StorageVerifyError(f"{key!r} is not stored")
        return self._check(Path(local_path), target, key)

    def _check(self, source: Path, stored: Path, key: str) -> StoredObject:
        try:
            stored_size = stored.stat().st_size
            source_size = source.stat().st_size
            if stored_size != source_size:
                raise StorageVerifyError(f"{key!r}: stored size {stored_size} != local size {source_size}")
            want = file_digest(source)
            got = want if _same_inode(source, stored) else file_digest(stored)
        except OSError as exc:
            raise StorageError(f"cannot verify {key!r}: {exc}") from exc
        if got.sha256 != want.sha256:
            raise StorageVerifyError(f"{key!r}: stored sha256 {got.sha256} != local sha256 {want.sha256}")
        return StoredObject(key=key, size=got.size, etag=None, checksum=f"sha256:{got.sha256}")

    def delete(self, key: str) -> None:
        target = self.path_for(key)
        try:
            target.unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"cannot delete {key!r}: {exc}") from exc

    def head(self, key: str) -> StoredObject | None:
        target = self.path_for(key)
        try:
            st = target.stat()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"cannot stat {key!r}: {exc}") from exc
        if not target.is_file():
            return None
        return StoredObject(key=key, size=st.st_size, etag=None, checksum=None)

    def url(self, key: str, *, expires_in: int) -> str:
        raise NotImplementedError("local files are served through a signed Django URL")


def _same_inode(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem lets a directory be opened or fsynced
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
