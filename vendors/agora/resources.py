"""Agora's ``resourceId``: issued by acquire, spent by one start, then naming the session with its ``sid``.

It is a signed token (appid, cname, uid, lifetime), so acquire stores nothing: start refuses one older than
5 minutes (433), and the cache remembers which resourceId started which sid (a repeated start is 7).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core import signing
from django.core.cache import cache

from vendors.agora.errors import BAD_RESOURCE_ID, MISMATCH, RESOURCE_EXPIRED, SID_MISMATCH, AgoraError

SALT = "liverecord.agora.resource"
START_WINDOW = 300
STARTED_PREFIX = "agora:started:"


@dataclass(frozen=True)
class Resource:
    appid: str
    cname: str
    uid: str
    hours: int


def resource_issue(*, appid: str, cname: str, uid: str, hours: int) -> str:
    return signing.dumps({"a": appid, "c": cname, "u": uid, "h": hours}, salt=SALT, compress=True)


def resource_read(token: str, *, appid: str, start: bool = False) -> Resource:
    """The resource of a path's ``{resourceid}``: 1001 unreadable, 433 expired, 1003 of another App ID."""
    max_age = START_WINDOW
    try:
        data = signing.loads(token, salt=SALT, max_age=None)
        if not start:
            max_age = int(data["h"]) * 3600
        signing.loads(token, salt=SALT, max_age=max_age)
        resource = Resource(appid=str(data["a"]), cname=str(data["c"]), uid=str(data["u"]), hours=int(data["h"]))
    except signing.SignatureExpired as exc:
        raise AgoraError(RESOURCE_EXPIRED, "the resourceId has expired") from exc
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise AgoraError(BAD_RESOURCE_ID, "cannot parse the resourceId") from exc
    if resource.appid != appid:
        raise AgoraError(SID_MISMATCH, "the appid does not match the resourceId")
    return resource


def resource_check(resource: Resource, *, cname: str, uid: str) -> None:
    """A body's cname and uid must be those the resource was acquired for (432)."""
    if (cname, uid) != (resource.cname, resource.uid):
        raise AgoraError(MISMATCH, "cname or uid does not match the resourceId")


def _key(token: str) -> str:
    return STARTED_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def resource_started_sid(token: str) -> str | None:
    value = cache.get(_key(token))
    return value if isinstance(value, str) else None


def resource_mark_started(token: str, *, sid: str, hours: int) -> None:
    cache.set(_key(token), sid, timeout=hours * 3600)
