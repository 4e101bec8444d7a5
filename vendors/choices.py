from __future__ import annotations

from django.db import models


class Vendor(models.TextChoices):
    TENCENT = "tencent", "Tencent Cloud CSS"
    ZEGO = "zego", "ZEGO cloud recording"
    AGORA = "agora", "Agora cloud recording"
