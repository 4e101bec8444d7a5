"""``storageConfig`` → a storage target of the App, reused when one with the same bucket and keys exists.

Agora's vendor numbers: 1 Amazon S3, 3 Tencent COS and 11 a self-hosted S3-compatible service
(``extensionParams.endpoint``) are spoken; the others (Qiniu, Alibaba OSS, Kingsoft, Azure, Google, Huawei,
Baidu) are refused with code 2 naming ``storageConfig.vendor``.
"""

from __future__ import annotations

import secrets

from liverecord.models import App
from rules.choices import StorageProvider
from rules.models import StorageTarget
from rules.services import storage_target_create
from vendors.agora.errors import invalid
from vendors.agora.params import Params

S3, COS, S3_COMPATIBLE = 1, 3, 11
#: Agora's region numbers of Amazon S3 and of Tencent COS.
S3_REGIONS = [
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-central-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "sa-east-1",
    "ca-central-1",
    "ap-south-1",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-west-1",
]
COS_REGIONS = [
    "ap-beijing-1",
    "ap-beijing",
    "ap-shanghai",
    "ap-guangzhou",
    "ap-chengdu",
    "ap-chongqing",
    "ap-shenzhen-fsi",
    "ap-shanghai-fsi",
    "ap-beijing-fsi",
    "ap-hongkong",
    "ap-singapore",
    "ap-mumbai",
    "ap-seoul",
    "ap-bangkok",
    "ap-tokyo",
    "na-siliconvalley",
    "na-ashburn",
    "na-toronto",
    "eu-frankfurt",
    "eu-moscow",
]
PREFIX_MAX = 128


def _prefix(config: Params) -> str:
    parts = config.strings("fileNamePrefix", max_items=32, max_length=PREFIX_MAX) or []
    if any(not part.isascii() or not part.isalnum() for part in parts):
        raise invalid(config.name("fileNamePrefix"), "items must be letters and digits only")
    prefix = "/".join(parts)
    if len(prefix) + 1 > PREFIX_MAX:
        raise invalid(config.name("fileNamePrefix"), f"must be at most {PREFIX_MAX} characters with the slashes")
    return prefix or "liverecord"


def storage_target_of(*, app: App, config: Params) -> StorageTarget:
    """The App's target for this ``storageConfig``: an existing one with the same fields, else a new one."""
    vendor = config.integer("vendor", low=0, high=99, default=-1)
    if vendor not in (S3, COS, S3_COMPATIBLE):
        raise invalid(config.name("vendor"), "only 1 (Amazon S3), 3 (Tencent COS) and 11 (S3-compatible) are supported")
    regions = COS_REGIONS if vendor == COS else S3_REGIONS
    region_number = config.integer("region", low=0, high=len(regions) - 1, default=0)
    extension = config.obj("extensionParams")
    endpoint = extension.string("endpoint", max_length=512) if extension is not None else ""
    if vendor == S3_COMPATIBLE and not endpoint:
        raise invalid(config.name("extensionParams.endpoint"), "is required for vendor 11")
    fields = {
        "provider": StorageProvider.COS if vendor == COS else StorageProvider.S3,
        "bucket": config.string("bucket", required=True, max_length=63),
        "region": "" if vendor == S3_COMPATIBLE else regions[region_number],
        "endpoint_url": endpoint,
        "path_style": vendor == S3_COMPATIBLE,
        "access_key_id": config.string("accessKey", required=True, max_length=128),
        "prefix": _prefix(config),
    }
    secret = config.string("secretKey", required=True, max_length=256)
    for target in StorageTarget.objects.filter(app=app, **fields):
        if target.secret_access_key == secret:
            return target
    name = f"agora-{secrets.token_hex(6)}"
    return storage_target_create(app=app, name=name, secret_access_key=secret, **fields)
