from __future__ import annotations

from django.db import models


class StorageProvider(models.TextChoices):
    LOCAL = "local", "local disk"
    S3 = "s3", "S3 or S3-compatible"
    COS = "cos", "Tencent COS"
