from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from liverecord.api.schema import SchemaView
from liverecord.ops import health
from recordings import hooks, views
from recordings.metrics import metrics

api_v1 = [
    path("", include("templates_app.api.urls")),
    path("", include("rules.api.urls")),
    path("", include("recordings.api.urls")),
    path("", include("rooms.api.urls")),
]

handler404 = "liverecord.api.exceptions.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics, name="metrics"),
    path("hooks/nginx-rtmp/", hooks.nginx_rtmp_hook, name="hook-nginx-rtmp"),
    path("hooks/srs/", hooks.srs_hook, name="hook-srs"),
    path("files/dl/<str:token>/<str:filename>", views.file_download, name="file-download"),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SchemaView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    # Tencent Cloud API 3.0 (CSS): the SDKs post to the root path of their endpoint.
    path("", include("vendors.urls")),
]
