"""A throwaway HTTP server on 127.0.0.1 for the tests that need one to talk to (a Kubernetes API
stand-in, a gateway stand-in, a recorder of what a client sends)."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Callable, Iterator, Mapping

Answer = tuple[int, bytes]
Respond = Callable[[str, str, Mapping[str, str], bytes], Answer]
"""(method, path with query, headers, body) -> (status, body); answers are sent as JSON."""


@contextlib.contextmanager
def serving(respond: Respond) -> Iterator[str]:
    """Serve `respond` on a free port for the `with` block; yields the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            status, body = respond(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _handle

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
