"""Agora's error answers: an HTTP status and a ``code`` of Agora's table (vendor-apis.md §3.7, §3.8)."""

from __future__ import annotations

from typing import Any

INVALID_PARAMETER = 2
ALREADY_STARTED = 7
BAD_REQUEST = 8
ALREADY_STOPPED = 49
ALREADY_RUNNING = 53
NOT_FOUND = 404
MISMATCH = 432
RESOURCE_EXPIRED = 433
BAD_RESOURCE_ID = 1001
SID_MISMATCH = 1003
BAD_CHANNEL_NAME = 1013


class AgoraError(Exception):
    """A refusal: ``code`` and ``reason`` in the JSON body, ``status`` the HTTP status Agora answers it with."""

    def __init__(self, code: int, reason: str, *, status: int = 400) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.status = status

    def body(self, **ids: Any) -> dict[str, Any]:
        return {**{k: v for k, v in ids.items() if v}, "code": self.code, "reason": self.reason}


def invalid(name: str, reason: str) -> AgoraError:
    """Agora's code 2 (wrong type, out of range, missing, unsupported), naming the field."""
    return AgoraError(INVALID_PARAMETER, f"invalid parameter `{name}`: {reason}")


def not_found(what: str) -> AgoraError:
    return AgoraError(NOT_FOUND, f"{what} not found", status=404)
