"""``/agora/v1/apps/{appid}/cloud_recording/...``: Agora's cloud recording RESTful API (vendor-apis.md §3).

HTTP Basic auth of a customer key and secret (``create_vendor_key --vendor agora``), whose App ID must be the
path's ``{appid}``. Errors are Agora's: ``{"code", "reason"}`` with the HTTP status Agora answers them with;
credentials and routes are refused with Agora's gateway messages. Never a bare 500.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from liverecord.api.throttling import app_rate_wait
from liverecord.errors import ConflictError
from recordings.constants import ROOM_ID_MESSAGE, ROOM_ID_PATTERN
from vendors.agora import errors
from vendors.agora.errors import AgoraError, invalid
from vendors.agora.params import Params, uid_string
from vendors.agora.recording import (
    Mode,
    recording_of,
    recording_query,
    recording_start,
    recording_stop,
    recording_update,
)
from vendors.agora.resources import (
    resource_check,
    resource_issue,
    resource_mark_started,
    resource_read,
    resource_started_sid,
)
from vendors.choices import Vendor
from vendors.models import VendorKey
from vendors.selectors import vendor_key_active
from vendors.services import vendor_key_used

logger = logging.getLogger(__name__)

#: Our services' field names in refusals, as Agora names them.
FIELD_NAMES = {
    "room_id": "cname",
    "max_idle_time": "clientRequest.recordingConfig.maxIdleTime",
    "subscribe_audio": "clientRequest.recordingConfig.subscribeAudioUids",
    "subscribe_video": "clientRequest.recordingConfig.subscribeVideoUids",
    "unsubscribe_audio": "clientRequest.recordingConfig.unSubscribeAudioUids",
    "unsubscribe_video": "clientRequest.recordingConfig.unSubscribeVideoUids",
    "stream_type": "clientRequest.recordingConfig.streamTypes",
    "formats": "clientRequest.recordingFileConfig",
    "bucket": "clientRequest.storageConfig.bucket",
    "region": "clientRequest.storageConfig.region",
    "endpoint_url": "clientRequest.storageConfig.extensionParams.endpoint",
    "access_key_id": "clientRequest.storageConfig.accessKey",
    "prefix": "clientRequest.storageConfig.fileNamePrefix",
}
RESOURCE_HOURS = (1, 720, 72)
_ROOM_ID = re.compile(ROOM_ID_PATTERN)
NO_ROUTE = "no Route matched with those values"


class GatewayError(Exception):
    """Refused before the API: Agora's gateway answers ``{"message": ...}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _key(request: HttpRequest, appid: str) -> VendorKey:
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    try:
        customer, sep, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        customer, sep, secret = "", "", ""
    key = vendor_key_active(vendor=Vendor.AGORA, key_id=customer[:64]) if scheme.lower() == "basic" and sep else None
    if key is None or not hmac.compare_digest(key.secret.encode(), secret.encode()):
        raise GatewayError(401, "Invalid authentication credentials")
    if key.vendor_app_id != appid:
        raise GatewayError(401, "invalid appid")
    return key


def _body(request: HttpRequest) -> Params:
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise AgoraError(errors.BAD_REQUEST, "the body is not valid JSON") from exc
    return Params(data)


def _cname(body: Params) -> str:
    cname = body.string("cname", required=True, max_length=1024)
    if len(cname.encode()) >= 64:
        raise AgoraError(errors.BAD_CHANNEL_NAME, "invalid channel name: it must be shorter than 64 bytes")
    if not _ROOM_ID.match(cname):
        raise AgoraError(errors.BAD_CHANNEL_NAME, f"invalid channel name: this service's rooms {ROOM_ID_MESSAGE}")
    return cname


def _client_request(body: Params) -> Params:
    return body.obj("clientRequest") or Params({}, prefix="clientRequest.")


def _acquire(key: VendorKey, appid: str, body: Params) -> tuple[int, dict[str, Any]]:
    cname, uid = _cname(body), uid_string(body)
    request = _client_request(body)
    low, high, default = RESOURCE_HOURS
    hours = request.integer("resourceExpiredHour", low=low, high=high, default=default)
    request.integer("scene", low=0, high=0, default=0)
    return 200, {"resourceId": resource_issue(appid=appid, cname=cname, uid=uid, hours=hours)}


def _start(key: VendorKey, appid: str, body: Params, rid: str, mode: str) -> tuple[int, dict[str, Any]]:
    resource = resource_read(rid, appid=appid, start=True)
    cname, uid = _cname(body), uid_string(body)
    resource_check(resource, cname=cname, uid=uid)
    if resource_started_sid(rid) is not None:
        raise AgoraError(errors.ALREADY_STARTED, "the recording is already running (repeated start)")
    try:
        recording = recording_start(key=key, mode=Mode(mode), cname=cname, request=_client_request(body))
    except ConflictError as exc:
        raise AgoraError(errors.ALREADY_RUNNING, f"{exc.message}: acquire again with another uid") from exc
    resource_mark_started(rid, sid=recording.public_id, hours=resource.hours)
    return 200, {"cname": cname, "uid": uid, "resourceId": rid, "sid": recording.public_id}


def _session(key: VendorKey, appid: str, body: Params | None, rid: str, sid: str) -> Any:
    resource = resource_read(rid, appid=appid)
    if body is not None and (body.has("cname") or body.has("uid")):
        resource_check(resource, cname=_cname(body), uid=uid_string(body))
    recording = recording_of(app=key.app, sid=sid, cname=resource.cname)
    if resource_started_sid(rid) not in (None, sid):
        raise AgoraError(errors.SID_MISMATCH, "the sid does not match the resourceId")
    return recording, resource


def _query(key: VendorKey, appid: str, rid: str, sid: str, mode: str) -> tuple[int, dict[str, Any]]:
    recording, _ = _session(key, appid, None, rid, sid)
    return 200, {"resourceId": rid, "sid": sid, "serverResponse": recording_query(recording=recording, mode=Mode(mode))}


def _update(key: VendorKey, appid: str, body: Params, rid: str, sid: str, mode: str) -> tuple[int, dict[str, Any]]:
    recording, resource = _session(key, appid, body, rid, sid)
    try:
        recording_update(key=key, recording=recording, mode=Mode(mode), request=_client_request(body))
    except ConflictError as exc:
        raise errors.not_found(f"the recording session ({exc.message})") from exc
    return 200, {"cname": resource.cname, "uid": resource.uid, "resourceId": rid, "sid": sid}


def _update_layout(key: VendorKey, appid: str, body: Params, rid: str, sid: str, mode: str) -> tuple[int, Any]:
    _session(key, appid, body, rid, sid)
    Mode(mode).check(layout=True)
    raise AssertionError("unreachable: Mode.check refuses every layout")


def _stop(key: VendorKey, appid: str, body: Params, rid: str, sid: str, mode: str) -> tuple[int, dict[str, Any]]:
    recording, resource = _session(key, appid, body, rid, sid)
    try:
        response, recorded = recording_stop(recording=recording, mode=Mode(mode), request=_client_request(body))
    except ConflictError as exc:
        raise AgoraError(errors.ALREADY_STOPPED, f"repeated stop: {exc.message}") from exc
    answer = {"cname": resource.cname, "uid": resource.uid, "resourceId": rid, "sid": sid, "serverResponse": response}
    return (200 if recorded else 206), answer


def _validation_reason(exc: ValidationError) -> str:
    if not hasattr(exc, "error_dict"):
        return "invalid parameter: " + " ".join(exc.messages)
    return "; ".join(f"invalid parameter `{FIELD_NAMES.get(k, k)}`: {' '.join(v)}" for k, v in exc.message_dict.items())


def _run(request: HttpRequest, appid: str, action: Callable[..., tuple[int, Any]], *args: str) -> JsonResponse:
    now = timezone.now()
    key = _key(request, appid)
    if app_rate_wait(app_id=key.app_id, now=now.timestamp()) is not None:
        raise GatewayError(429, "API rate limit exceeded")
    vendor_key_used(key=key, now=now)
    if key.domain is None:
        raise AgoraError(errors.INVALID_PARAMETER, "the customer key is tied to no push domain")
    body = None if request.method == "GET" else _body(request)
    try:
        with transaction.atomic():
            status, answer = action(key, appid, *(() if body is None else (body,)), *args)
    except ValidationError as exc:
        raise AgoraError(errors.INVALID_PARAMETER, _validation_reason(exc)) from exc
    except ConflictError as exc:
        raise invalid(exc.field or "body", exc.message) from exc
    return JsonResponse(answer, status=status)


def _endpoint(method: str, action: Callable[..., tuple[int, Any]]) -> Callable[..., JsonResponse]:
    @csrf_exempt
    def view(request: HttpRequest, appid: str, **path: str) -> JsonResponse:
        ids = {"resourceId": path.get("rid", ""), "sid": path.get("sid", "")}
        if request.method != method:
            return JsonResponse({"message": NO_ROUTE}, status=404)
        try:
            return _run(request, appid, action, *path.values())
        except GatewayError as exc:
            return JsonResponse({"message": exc.message}, status=exc.status)
        except AgoraError as exc:
            return JsonResponse(exc.body(**ids), status=exc.status)
        except RequestDataTooBig:
            return JsonResponse(AgoraError(errors.BAD_REQUEST, "the body is too large").body(**ids), status=400)
        except Exception:  # the client must get Agora's envelope whatever went wrong
            logger.exception("agora facade: unexpected error")
            return JsonResponse(
                {**ids, "code": 65, "reason": "internal error; retry with the same resourceId"}, status=500
            )

    return view


@csrf_exempt
def no_route(request: HttpRequest) -> JsonResponse:
    """Any other path under ``/agora/``, as Agora's gateway answers it."""
    return JsonResponse({"message": NO_ROUTE}, status=404)


acquire = _endpoint("POST", _acquire)
start = _endpoint("POST", _start)
query = _endpoint("GET", _query)
update = _endpoint("POST", _update)
update_layout = _endpoint("POST", _update_layout)
stop = _endpoint("POST", _stop)
