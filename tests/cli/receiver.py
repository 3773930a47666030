"""A real HTTP server on loopback that records what functions send it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, reply: dict[str, Any] | None = None, status: int = 200) -> None:
        self.requests: list[dict[str, Any]] = []
        self.reply = reply if reply is not None else {"id": "crm-42"}
        self.status = status
        self.statuses: list[int] = []  # answered in turn, one per request, before falling back to status
        self.url = ""


@contextmanager
def receiver(reply: dict[str, Any] | None = None, status: int = 200) -> Iterator[Receiver]:
    state = Receiver(reply, status)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state.requests.append(
                {"path": self.path, "headers": dict(self.headers), "json": json.loads(body or b"null")}
            )
            payload = json.dumps(state.reply).encode()
            self.send_response(state.statuses.pop(0) if state.statuses else state.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
