"""Errors raised by services, whatever called them (API view, admin action, Celery task).

Invalid input is Django's ``ValidationError`` (with a field → messages dict where a field is to blame);
a state or uniqueness conflict is ``ConflictError``. The API maps both to SPEC.md's error shape.
"""

from __future__ import annotations


class ConflictError(Exception):
    """The request is valid but clashes with what exists: a duplicate, or an object in the wrong state."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "conflict") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code
