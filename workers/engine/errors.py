"""Exceptions of the media engine.

The engine has its own hierarchy so the Celery task can tell a dead source
(retry later, the push may come back) from a packaging fault (one file lost,
the recording goes on) without knowing anything about FFmpeg.
"""

from __future__ import annotations


class EngineError(Exception):
    """Base class of every error the engine raises on purpose."""


class SourceError(EngineError):
    """The pull URL could not be opened or read."""


class StallError(SourceError):
    """No packet arrived for ``stall_timeout`` seconds."""


class SpoolError(EngineError):
    """A chunk or the index could not be written or read."""


class PackagingError(EngineError):
    """One deliverable could not be written; the recorder carries on."""
