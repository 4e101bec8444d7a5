"""What every action receives: the App the SecretId belongs to, the key, and the request's clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from liverecord.models import App
from vendors.models import VendorKey


@dataclass(frozen=True)
class Context:
    app: App
    key: VendorKey
    now: datetime
