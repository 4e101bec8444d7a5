"""ZEGO server API errors: the envelope keeps HTTP 200 and carries a non-zero ``Code``.

Codes 1, 2, 3, 7 and the gateway's 1000000xx are ZEGO's public return codes; ZEGO documents none for the cloud
recording's own refusals (an unknown TaskId, a repeated stop), so those are ours and README lists them.
"""

from __future__ import annotations

INTERNAL = 1
INVALID_PARAMETER = 2
RATE_LIMITED = 7
APP_ID_FORMAT = 100000001
TIMESTAMP_MISSING = 100000002
TIMESTAMP_FORMAT = 100000003
SIGNATURE_EXPIRED = 100000004
SIGNATURE_INVALID = 100000005
ACTION_MISSING = 100000006
ACTION_UNSUPPORTED = 100000007
NONCE_MISSING = 100000008
SIGNATURE_MISSING = 100000009
SERVER_SECRET_NOT_FOUND = 100000010
BODY_INVALID = 100000012
SIGNATURE_VERSION_MISSING = 100000013
SIGNATURE_VERSION_UNSUPPORTED = 100000014
#: Ours (ZEGO documents none): see README "Coming from ZEGO".
TASK_NOT_FOUND = 1001
TASK_ALREADY_STOPPED = 1002
ROOM_ALREADY_RECORDING = 1003
OPERATION_FAILED = 1004


class ZegoError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def invalid(name: str, reason: str) -> ZegoError:
    """ZEGO's "incorrect input parameter", naming the field."""
    return ZegoError(INVALID_PARAMETER, f"invalid parameter `{name}`: {reason}")


def missing(name: str) -> ZegoError:
    return invalid(name, "is required")
