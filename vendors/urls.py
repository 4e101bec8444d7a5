from __future__ import annotations

from django.urls import include, path

from vendors.tencent.views import tencent_api
from vendors.zego.views import zego_api

urlpatterns = [
    path("", tencent_api, name="tencent-api"),
    path("zego/", zego_api, name="zego-api"),
    path("agora/", include("vendors.agora.urls")),
]
