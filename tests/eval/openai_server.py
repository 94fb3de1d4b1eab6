"""A small OpenAI-compatible server on loopback (stdlib only), for the `openai` backend's tests.

`answer(body) -> list[str]` decides the choices; every request body is recorded in `requests`.
`fail_first` makes the first N requests answer HTTP 500 (to exercise the client's retries).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class OpenAIServer:
    def __init__(self, answer: Callable[[dict], list[str]], *, fail_first: int = 0):
        self.answer = answer
        self.requests: list[dict] = []
        self.fail_first = fail_first
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append(
                        {"path": self.path, "auth": self.headers.get("Authorization"), **body}
                    )
                    fail = server.fail_first > 0
                    server.fail_first -= fail
                if fail:
                    return self._send(500, {"error": {"message": "try again"}})
                if self.path not in ("/v1/completions", "/v1/chat/completions"):
                    return self._send(404, {"error": {"message": f"no route {self.path}"}})
                if "model" not in body:
                    return self._send(400, {"error": {"message": "model is required"}})
                texts = server.answer(body)
                chat = self.path.endswith("chat/completions")
                choices = [
                    {"index": i, "message": {"role": "assistant", "content": t}}
                    if chat
                    else {"index": i, "text": t}
                    for i, t in enumerate(texts)
                ]
                self._send(
                    200,
                    {"object": "chat.completion" if chat else "text_completion", "choices": choices[::-1]},
                )

            def _send(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> OpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
