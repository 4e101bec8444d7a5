"""A real S3-compatible server on loopback (moto's server mode), shared by the storage and upload tests."""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

from tests.support.ports import free_port, wait_port, wait_port_closed

ACCESS_KEY = "AKIDLIVERECORDTEST"
SECRET_KEY = "liverecord-test-secret"


@dataclass
class S3Server:
    port: int
    server: ThreadedMotoServer

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, *, path_style: bool = True) -> object:
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path" if path_style else "auto"}),
        )

    def stop(self) -> None:
        self.server.stop()
        wait_port_closed(self.port)


def start_s3_server(port: int | None = None) -> S3Server:
    """Start moto's S3 server on 127.0.0.1 (a given port to restart one in place: its state starts empty)."""
    port = port or free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    wait_port(port)
    return S3Server(port=port, server=server)
