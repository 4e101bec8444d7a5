"""One log line per event, plain or JSON (``LIVEREC_LOG_FORMAT``), carrying the ids of what it concerns.

Code that works on a session, a record task, a file or a cloud recording says so once, with ``log_context``;
every record logged inside (by any logger, Celery's and Django's too) then carries those ids, as fields of the JSON
line or as ``key=value`` after a plain message. A single call can also pass them: ``log.info(..., extra={"file": 7})``.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
from collections.abc import Iterator

from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

__all__ = ["CONTEXT_FIELDS", "JsonFormatter", "LogContextFilter", "PlainFormatter", "log_context"]

#: The ids a line may carry (SPEC.md "Operations": session, task, file, cloud_recording).
CONTEXT_FIELDS = ("session", "task", "file", "cloud_recording")

_context: contextvars.ContextVar[dict[str, object] | None] = contextvars.ContextVar("liverecord_log", default=None)


@contextlib.contextmanager
def log_context(**ids: object) -> Iterator[None]:
    """Every record logged inside (on this thread or task) carries these ids; ``None`` values are left out."""
    unknown = set(ids) - set(CONTEXT_FIELDS)
    if unknown:
        raise ValueError(f"unknown log context field(s): {', '.join(sorted(unknown))}")
    merged = {**(_context.get() or {}), **{k: v for k, v in ids.items() if v is not None}}
    token = _context.set(merged)
    try:
        yield
    finally:
        _context.reset(token)


class LogContextFilter(logging.Filter):
    """Puts the current ``log_context`` ids on each record (an id passed with ``extra=`` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class PlainFormatter(logging.Formatter):
    """``<time> <level> <logger> <message> session=1 task=abc``: one line, ids after the message."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = " ".join(f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS if getattr(record, k, None) is not None)
        # A traceback stays part of its event's line (escaped), so one event is one line.
        line = line.replace("\n", "\\n")
        return f"{line} {ids}" if ids else line


class JsonFormatter(_JsonFormatter):
    """JSON lines: ``time``, ``level``, ``logger``, ``message``, the context ids and any other ``extra``."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
