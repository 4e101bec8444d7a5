"""Where a file is: its storage backend and key (the glue between rows and ``workers.storage``), the folder a
task's files are made in, and the content type each extension is served with."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from recordings.models import RecordFile, RecordTask
from rules.models import StorageTarget
from workers.storage import StorageBackend, StorageConfig, backend_for

CONTENT_TYPES = {
    "flv": "video/x-flv",
    "mp4": "video/mp4",
    "m3u8": "application/vnd.apple.mpegurl",
    "ts": "video/mp2t",
    "aac": "audio/aac",
    "mp3": "audio/mpeg",
    "jpg": "image/jpeg",
}


def content_type(path: Path) -> str | None:
    """The content type a file of this extension is stored and served with (None: unknown)."""
    return CONTENT_TYPES.get(path.suffix.lstrip("."))


def task_output_dir(task: RecordTask) -> Path:
    """Where a task's files are made; an HLS playlist open for reconnects lives here between pushes."""
    return Path(settings.LIVEREC_SPOOL_DIR) / "tasks" / task.public_id


def storage_config(target: StorageTarget | None, *, app_id: int) -> StorageConfig:
    """A storage target's settings; none means local storage under ``LIVEREC_MEDIA_DIR/app<id>``."""
    if target is None:
        return StorageConfig(provider="local", local_root=Path(settings.LIVEREC_MEDIA_DIR), prefix=f"app{app_id}")
    return StorageConfig(
        provider=target.provider,
        bucket=target.bucket,
        region=target.region,
        endpoint_url=target.endpoint_url,
        path_style=target.path_style,
        access_key_id=target.access_key_id,
        secret_access_key=target.secret_access_key,
        prefix=target.prefix,
        local_root=Path(settings.LIVEREC_MEDIA_DIR),
    )


def file_backend(file: RecordFile) -> StorageBackend:
    return backend_for(storage_config(file.storage, app_id=file.app_id))


def file_key(file: RecordFile, filename: str | None = None) -> str:
    """The key (under the target's prefix) of a file, or of one of its HLS segments."""
    return object_key(file.name, file.extension, filename)


def object_key(name: str, extension: str, filename: str | None = None) -> str:
    """``<name>.<ext>``, or a sibling file (an HLS segment) in the same folder."""
    main = f"{name}.{extension}"
    if filename is None:
        return main
    folder = main.rsplit("/", 1)[0] if "/" in main else ""
    return f"{folder}/{filename}" if folder else filename


def is_local(file: RecordFile) -> bool:
    return file.storage is None or file.storage.provider == "local"
