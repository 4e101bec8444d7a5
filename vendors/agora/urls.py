from __future__ import annotations

from django.urls import path, re_path

from vendors.agora import views

BASE = "v1/apps/<str:appid>/cloud_recording/"
SESSION = BASE + "resourceid/<str:rid>/sid/<str:sid>/mode/<str:mode>/"

urlpatterns = [
    path(BASE + "acquire", views.acquire, name="agora-acquire"),
    path(BASE + "resourceid/<str:rid>/mode/<str:mode>/start", views.start, name="agora-start"),
    path(SESSION + "query", views.query, name="agora-query"),
    path(SESSION + "update", views.update, name="agora-update"),
    path(SESSION + "updateLayout", views.update_layout, name="agora-update-layout"),
    path(SESSION + "stop", views.stop, name="agora-stop"),
    re_path(r"", views.no_route, name="agora-no-route"),
]
