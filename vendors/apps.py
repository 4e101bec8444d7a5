from __future__ import annotations

from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "vendors"
    verbose_name = "vendor-compatible APIs"
    default_auto_field = "django.db.models.BigAutoField"
