"""Loopback ports for tests."""

from __future__ import annotations

import socket
import time

__all__ = ["free_port", "port_is_open", "wait_port", "wait_port_closed"]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    The port is released before returning, so another process could take it in between; the
    kernel hands out ephemeral ports in sequence, which makes that rare in practice.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
    """Wait until host:port accepts TCP connections; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_is_open(port, host):
            return
        time.sleep(0.02)
    raise TimeoutError(f"nothing accepted on {host}:{port} within {timeout}s")


def wait_port_closed(port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> None:
    """Wait until nothing accepts TCP connections on host:port; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not port_is_open(port, host):
            return
        time.sleep(0.02)
    raise TimeoutError(f"{host}:{port} still accepts connections after {timeout}s")
