"""A TCP port that hangs up on every connection and counts them: a store that is down, whose attempts a test
can count (a refused port leaves no trace of how often a client tried)."""

from __future__ import annotations

import socket
import threading
from types import TracebackType

__all__ = ["HangUp"]


class HangUp:
    """Accept on 127.0.0.1:``port`` and close each connection at once; ``connections`` counts them."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connections = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", port))
        self._sock.listen(16)
        self._thread = threading.Thread(target=self._serve, name=f"hang up {port}", daemon=True)

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:  # closed by __exit__
                return
            self.connections += 1
            conn.close()

    def __enter__(self) -> HangUp:
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._thread.join(timeout=5)
