"""Run a demo HTTP server in a daemon thread, and stop it (every demo server does both)."""

from __future__ import annotations

import threading
from socketserver import BaseServer


def serve_in_background(server: BaseServer, poll_s: float = 0.1) -> None:
    """Serve until `stop_server`, in a daemon thread kept on the server as `.thread`."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": poll_s}, daemon=True
    )
    thread.start()
    server.thread = thread  # type: ignore[attr-defined]


def stop_server(server: BaseServer) -> None:
    """Stop serving, free the port and wait for the serving thread."""
    server.shutdown()
    server.server_close()
    thread = getattr(server, "thread", None)
    if thread is not None:
        thread.join(5)
