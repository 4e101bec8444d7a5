"""Typed reads of Agora's JSON bodies, each refusal Agora's code 2 naming the field by its dotted path."""

from __future__ import annotations

from typing import Any

from vendors.agora.errors import invalid

UINT32_MAX = 2**32 - 1


class Params:
    """One JSON object of a body (``clientRequest``, ``recordingConfig``, ...), read field by field."""

    def __init__(self, data: Any, *, prefix: str = "") -> None:
        if not isinstance(data, dict):
            raise invalid(prefix.rstrip(".") or "body", "must be a JSON object")
        self.data = data
        self.prefix = prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def obj(self, key: str, *, required: bool = False) -> Params | None:
        value = self.data.get(key)
        if value is None:
            if required:
                raise invalid(self.name(key), "is required")
            return None
        return Params(value, prefix=f"{self.name(key)}.")

    def string(self, key: str, *, required: bool = False, default: str = "", max_length: int = 1024) -> str:
        value = self.data.get(key)
        if value is None or (required and value == ""):
            if required:
                raise invalid(self.name(key), "is required")
            return default
        if not isinstance(value, str):
            raise invalid(self.name(key), "must be a string")
        if len(value) > max_length or "\x00" in value:
            raise invalid(self.name(key), f"must be at most {max_length} characters, without NUL")
        return value

    def integer(self, key: str, *, low: int, high: int, default: int) -> int:
        value = self.data.get(key)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(self.name(key), "must be an integer")
        if not low <= value <= high:
            raise invalid(self.name(key), f"must be between {low} and {high}")
        return value

    def strings(self, key: str, *, max_items: int, max_length: int = 128) -> list[str] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise invalid(self.name(key), "must be a list of strings")
        if len(value) > max_items:
            raise invalid(self.name(key), f"must have at most {max_items} items")
        if any(not item or len(item) > max_length or "\x00" in item for item in value):
            raise invalid(self.name(key), f"items must be 1–{max_length} characters")
        return value


def uid_string(params: Params, key: str = "uid") -> str:
    """Agora's recorder uid: the string of a 32-bit unsigned integer 1..2^32−1."""
    value = params.string(key, required=True, max_length=10)
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= UINT32_MAX:
        raise invalid(params.name(key), f"must be the string of an integer between 1 and {UINT32_MAX}")
    return value
