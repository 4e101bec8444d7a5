from __future__ import annotations

from django.urls import include, path

from vendors.tencent.views import tencent_api

urlpatterns = [
    path("", tencent_api, name="tencent-api"),
    path("agora/", include("vendors.agora.urls")),
]
