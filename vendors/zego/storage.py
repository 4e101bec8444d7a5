"""StartRecord's StorageParams onto a storage target of the App: made once, reused by later tasks."""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError

from liverecord.errors import ConflictError
from rules.choices import StorageProvider
from rules.models import StorageTarget
from rules.services import storage_target_create
from vendors.zego.errors import invalid
from vendors.zego.params import Context, Params

AMAZON_S3, TENCENT_COS, S3_COMPATIBLE = 1, 3, 10
#: ZEGO's other vendors: Alibaba OSS and VOD, Qiniu, Tencent VOD, Huawei OBS, Google Cloud Storage, China Mobile EOS.
UNSPOKEN = {
    2: "Alibaba OSS",
    4: "Qiniu Kodo",
    5: "Alibaba VOD",
    6: "Tencent VOD",
    7: "Huawei OBS",
    8: "Google",
    9: "EOS",
}
FIELDS = {"bucket": "Bucket", "region": "Region", "endpoint_url": "EndPoint", "access_key_id": "AccessKeyId"}


def storage_target(ctx: Context, p: Params) -> StorageTarget:
    """The App's target for these parameters: an existing one with the same place and keys, else a new one."""
    vendor = p.integer("Vendor", required=True, low=1, high=10)
    if vendor not in (AMAZON_S3, TENCENT_COS, S3_COMPATIBLE):
        raise invalid(p.name("Vendor"), f"{UNSPOKEN[vendor]} ({vendor}) is not supported: use 1 (S3), 3 (COS) or 10")
    fields = {
        "provider": StorageProvider.COS if vendor == TENCENT_COS else StorageProvider.S3,
        "bucket": p.string("Bucket", required=True, max_length=63),
        "region": p.string("Region", required=vendor != S3_COMPATIBLE, max_length=32),
        "endpoint_url": p.string("EndPoint", required=vendor == S3_COMPATIBLE, max_length=512),
        "access_key_id": p.string("AccessKeyId", required=True, max_length=128),
        "path_style": vendor == S3_COMPATIBLE,
    }
    secret = p.string("AccessKeySecret", required=True, max_length=256)
    for target in StorageTarget.objects.filter(app=ctx.app, **fields):
        if target.secret_access_key == secret:
            return target
    digest = hashlib.sha256(repr(sorted(fields.items())).encode() + secret.encode()).hexdigest()[:12]
    try:
        return storage_target_create(app=ctx.app, name=f"zego-{digest}", secret_access_key=secret, **fields)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise invalid(p.name(FIELDS.get(field, field)), messages[0]) from exc
    except ConflictError as exc:  # the same name: these parameters with a secret since changed on the target
        raise invalid(p.name("AccessKeySecret"), exc.message) from exc
