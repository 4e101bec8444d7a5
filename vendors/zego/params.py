"""Typed reads of a ZEGO JSON body, each refusal ZEGO's invalid-parameter error naming the field."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from liverecord.models import App
from vendors.models import VendorKey
from vendors.zego.errors import invalid, missing

INT_MAX = 2**63 - 1


@dataclass(frozen=True)
class Context:
    """What every action receives: the App the AppId belongs to, the key (and its domain), the request's clock."""

    app: App
    key: VendorKey
    now: datetime


class Params:
    """One JSON object (the body, or a struct inside it), read field by field."""

    def __init__(self, data: Any, *, prefix: str = "") -> None:
        if not isinstance(data, dict):
            raise invalid(prefix.rstrip(".") or "body", "must be a JSON object")
        self.data = data
        self.prefix = prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

    def has(self, key: str) -> bool:
        return self.data.get(key) is not None

    def _get(self, key: str, required: bool) -> Any:
        value = self.data.get(key)
        if value is None and required:
            raise missing(self.name(key))
        return value

    def string(self, key: str, *, required: bool = False, default: str = "", max_length: int = 1024) -> str:
        value = self._get(key, required)
        if value is None:
            return default
        if not isinstance(value, str):
            raise invalid(self.name(key), "must be a string")
        if required and not value:
            raise missing(self.name(key))
        if len(value) > max_length:
            raise invalid(self.name(key), f"must be at most {max_length} characters")
        if "\x00" in value:
            raise invalid(self.name(key), "must not contain NUL characters")
        return value

    def integer(self, key: str, *, required: bool = False, default: int = 0, low: int = 0, high: int = INT_MAX) -> int:
        value = self._get(key, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(self.name(key), "must be an integer")
        if not low <= value <= high:
            raise invalid(self.name(key), f"must be between {low} and {high}")
        return value

    def boolean(self, key: str, *, default: bool = False) -> bool:
        value = self._get(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise invalid(self.name(key), "must be a boolean")
        return value

    def struct(self, key: str, *, required: bool = False) -> Params | None:
        value = self._get(key, required)
        return None if value is None else Params(value, prefix=self.name(key) + ".")

    def structs(self, key: str, *, max_items: int) -> list[Params]:
        value = self._get(key, False)
        if value is None:
            return []
        if not isinstance(value, list):
            raise invalid(self.name(key), "must be an array")
        if len(value) > max_items:
            raise invalid(self.name(key), f"must have at most {max_items} items")
        return [Params(item, prefix=f"{self.name(key)}[{i}].") for i, item in enumerate(value)]
