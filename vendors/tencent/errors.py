"""Tencent Cloud API 3.0 errors: a code from Tencent's own table and a message."""

from __future__ import annotations


class TencentError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def missing(name: str) -> TencentError:
    return TencentError("MissingParameter", f"The request is missing a required parameter `{name}`.")


def invalid(name: str, reason: str) -> TencentError:
    """A parameter of the wrong type or shape (Tencent's ``InvalidParameter``)."""
    return TencentError("InvalidParameter", f"The parameter `{name}` {reason}.")


def out_of_range(name: str, reason: str, code: str = "InvalidParameterValue") -> TencentError:
    """A well-formed parameter with a value outside its range (Tencent's ``InvalidParameterValue``)."""
    return TencentError(code, f"The value of the parameter `{name}` {reason}.")
