"""Public ids of the rows the API shows."""

from __future__ import annotations

import secrets


def public_id() -> str:
    """16 URL-safe characters: ids the API shows, unguessable and not the primary key."""
    return secrets.token_urlsafe(12)[:16]
