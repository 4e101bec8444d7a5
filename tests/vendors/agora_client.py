"""Agora cloud recording calls as a user's code makes them (no official Python SDK): Basic auth, JSON bodies."""

from __future__ import annotations

import base64
from typing import Any

from django.test import Client

from vendors.services import NewVendorKey


class Agora:
    """The facade through Django's test client, with a key's (or any) credentials."""

    def __init__(self, made: NewVendorKey, *, secret: str | None = None, appid: str | None = None) -> None:
        self.client = Client()
        token = base64.b64encode(f"{made.key.key_id}:{secret or made.secret}".encode()).decode()
        self.auth = f"Basic {token}"
        self.base = f"/agora/v1/apps/{appid or made.key.vendor_app_id}/cloud_recording"

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(
            f"{self.base}/{path}", data=body, content_type="application/json", HTTP_AUTHORIZATION=self.auth
        )

    def get(self, path: str) -> Any:
        return self.client.get(f"{self.base}/{path}", HTTP_AUTHORIZATION=self.auth)

    def acquire(self, cname: str, uid: str = "527841", **client_request: Any) -> str:
        response = self.post("acquire", {"cname": cname, "uid": uid, "clientRequest": client_request})
        assert response.status_code == 200, response.content
        return str(response.json()["resourceId"])

    def start(self, rid: str, cname: str, client_request: Any, uid: str = "527841", mode: str = "individual") -> Any:
        body = {"cname": cname, "uid": uid, "clientRequest": client_request}
        return self.post(f"resourceid/{rid}/mode/{mode}/start", body)
