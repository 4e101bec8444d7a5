"""Typed reads of an action's JSON parameters, each refusal in Tencent's words and naming the parameter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import unquote_plus

from vendors.tencent.errors import invalid, missing, out_of_range

#: Tencent's wall-clock strings (rules' CreateTime, CreateLiveRecord's StartTime) are China Standard Time.
CST = timezone(timedelta(hours=8), "CST")
CST_FORMAT = "%Y-%m-%d %H:%M:%S"
INT_MAX = 2**63 - 1


def cst_string(value: datetime) -> str:
    return value.astimezone(CST).strftime(CST_FORMAT)


def unix(value: datetime | None) -> int:
    return int(value.timestamp()) if value is not None else 0


class Params:
    """One JSON object of parameters (the body, or a struct inside it), read field by field."""

    def __init__(self, data: Any, *, prefix: str = "") -> None:
        if not isinstance(data, dict):
            raise invalid(prefix.rstrip(".") or "body", "must be a JSON object")
        self.data = data
        self.prefix = prefix

    def name(self, key: str) -> str:
        return f"{self.prefix}{key}"

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
            raise out_of_range(self.name(key), f"must be at most {max_length} characters")
        if "\x00" in value:
            raise out_of_range(self.name(key), "must not contain NUL characters")
        return value

    def choice(self, key: str, choices: tuple[str, ...], *, default: str) -> str:
        """A case-insensitive keyword, answered in lower case."""
        value = self.string(key, default=default, max_length=32).lower()
        if value not in choices:
            raise out_of_range(self.name(key), f"must be one of {', '.join(choices)}")
        return value

    def integer(self, key: str, *, required: bool = False, default: int = 0, low: int = 0, high: int = INT_MAX) -> int:
        value = self._get(key, required)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            raise invalid(self.name(key), "must be an integer")
        if not low <= value <= high:
            raise out_of_range(self.name(key), f"must be between {low} and {high}")
        return value

    def boolean(self, key: str, *, default: bool = False) -> bool:
        value = self._get(key, False)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise invalid(self.name(key), "must be a boolean")
        return value

    def struct(self, key: str) -> Params | None:
        value = self._get(key, False)
        return None if value is None else Params(value, prefix=self.name(key) + ".")

    def unix_time(self, key: str, *, required: bool = False) -> datetime | None:
        """A Unix time in seconds (the new task API)."""
        value = self._get(key, required)
        if value is None:
            return None
        seconds = self.integer(key, low=0, high=253402300799)
        return datetime.fromtimestamp(seconds, UTC)

    def cst_time(self, key: str) -> datetime | None:
        """``YYYY-MM-DD HH:MM:SS`` in China Standard Time, URL-encoded or not (the legacy task API)."""
        raw = self.string(key, max_length=64)
        if not raw:
            return None
        try:
            return datetime.strptime(unquote_plus(raw).strip(), CST_FORMAT).replace(tzinfo=CST)
        except ValueError as exc:
            raise out_of_range(self.name(key), "must be a China Standard Time like 2017-01-01 10:10:01") from exc
