"""``POST /zego/?Action=...``: ZEGO's cloud recording server API, signed in the query string.

Every answer is HTTP 200 with ZEGO's ``{Code, Message, RequestId, Data}``; a non-zero Code is an error.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from liverecord.api.throttling import app_rate_wait
from vendors.choices import Vendor
from vendors.models import VendorKey
from vendors.selectors import vendor_key_active
from vendors.services import vendor_key_used
from vendors.zego import errors, records
from vendors.zego.errors import ZegoError
from vendors.zego.params import Context, Params
from vendors.zego.signing import verify

logger = logging.getLogger(__name__)

Action = Callable[[Context, Params], dict[str, Any] | None]
ACTIONS: dict[str, Action] = {
    "StartRecord": records.start_record,
    "StopRecord": records.stop_record,
    "DescribeRecordStatus": records.describe_record_status,
    "UpdateLayout": records.update_layout,
}

#: The clock of signature checks and actions; tests replace it.
clock: Callable[[], datetime] = timezone.now


def _answer(code: int, message: str, request_id: str, data: dict[str, Any] | None = None) -> JsonResponse:
    body: dict[str, Any] = {"Code": code, "Message": message, "RequestId": request_id}
    if data is not None:
        body["Data"] = data
    return JsonResponse(body, json_dumps_params={"ensure_ascii": False})


def _run(request: HttpRequest) -> dict[str, Any] | None:
    now = clock()
    query = {name: request.GET.get(name, "") for name in request.GET}
    keys: dict[str, VendorKey | None] = {}

    def secret_for(app_id: str) -> str | None:
        keys["key"] = key = vendor_key_active(vendor=Vendor.ZEGO, key_id=app_id)
        return key.secret if key is not None and key.domain_id is not None else None

    action_name = query.get("Action", "")
    if not action_name:
        raise ZegoError(errors.ACTION_MISSING, "Action is required")
    action = ACTIONS.get(action_name)
    if action is None:
        raise ZegoError(errors.ACTION_UNSUPPORTED, f"unsupported Action {action_name[:64]!r}")
    verify(query, secret_for=secret_for, now=now)
    key = keys["key"]
    assert key is not None
    try:
        data = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ZegoError(errors.BODY_INVALID, "the request body is not valid JSON") from exc
    if app_rate_wait(app_id=key.app_id, now=now.timestamp()) is not None:
        raise ZegoError(errors.RATE_LIMITED, "the App sends more requests a second than LIVEREC_API_RATE allows")
    vendor_key_used(key=key, now=now)
    with transaction.atomic():
        return action(Context(app=key.app, key=key, now=now), Params(data))


@csrf_exempt
@require_POST
def zego_api(request: HttpRequest) -> JsonResponse:
    request_id = uuid.uuid4().hex
    try:
        return _answer(0, "succeed", request_id, _run(request))
    except ZegoError as exc:
        return _answer(exc.code, exc.message, request_id)
    except RequestDataTooBig:
        return _answer(errors.BODY_INVALID, "the request body is too large", request_id)
    except Exception:  # ZEGO's clients read the envelope whatever went wrong, never a bare 500
        logger.exception("zego facade: unexpected error (request %s)", request_id)
        return _answer(errors.INTERNAL, "internal error; retry later", request_id)
