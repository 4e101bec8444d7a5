"""The console's admin site: the product's own sections first, Django's and Celery beat's below them."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest

#: The product's sections, in the order a user sets the service up and then looks at what it recorded.
PRODUCT_SECTIONS = ("liverecord", "templates_app", "rules", "recordings", "vendors")
#: Everything else is plumbing; Celery beat's schedule (written by the service itself) is named for what it is.
SYSTEM_NAMES = {"django_celery_beat": "System: periodic jobs (Celery beat)", "auth": "System: console users"}


class ConsoleAdminSite(admin.AdminSite):
    site_header = "liverecord console"
    site_title = "liverecord"
    index_title = "Recording service"
    # The sections sidebar takes a third of a 1366 px screen from every list; the breadcrumbs and Home suffice.
    enable_nav_sidebar = False

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        apps = super().get_app_list(request, app_label)
        for section in apps:
            section["name"] = SYSTEM_NAMES.get(section["app_label"], section["name"])

        def place(section: dict[str, Any]) -> tuple[int, str]:
            label = section["app_label"]
            return (PRODUCT_SECTIONS.index(label) if label in PRODUCT_SECTIONS else len(PRODUCT_SECTIONS), label)

        return sorted(apps, key=place)


class ConsoleAdminConfig(AdminConfig):
    default_site = "liverecord.admin_site.ConsoleAdminSite"
