"""`oorl sandbox serve`: the sandbox as an HTTP service (SandboxFusion's `/run_code` plus our own API).

    serve(ServeSettings(port=8080, workers=8, token="..."))   # blocks until SIGTERM / SIGINT

Every program is judged by the same `Sandbox` as in-process judging. On SIGTERM the server stops
accepting connections, answers every request it has accepted, closes its sandboxes and returns 0.
"""

from __future__ import annotations

import os

from pydantic import BaseModel, ConfigDict, Field, model_validator

from oorl.sandbox import Limits

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class ServeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = Field("127.0.0.1", description="address to bind; any but loopback needs a token")
    port: int = Field(8080, ge=0, le=65535, description="TCP port (0: any free one, printed at start)")
    token: str | None = Field(None, description="bearer token every endpoint but /healthz requires")
    workers: int = Field(default_factory=lambda: os.cpu_count() or 1, ge=1, description="worker slots")
    max_queue: int = Field(256, ge=0, description="programs waiting beyond the busy slots before 429")
    max_body_mb: float = Field(64, gt=0, description="largest request body (MiB) before 413")
    limits: Limits = Field(default_factory=Limits, description="limits of requests that set none")
    cache_dir: str | None = Field(None, description="compile cache (None: the sandbox's default)")

    @model_validator(mode="after")
    def _token_off_loopback(self) -> ServeSettings:
        if self.host not in LOOPBACK and not self.token:
            raise ValueError(f"binding {self.host} (not loopback) needs a token: pass --token-file")
        return self


def read_token(path: str | os.PathLike) -> str:
    """The token in `path` (surrounding whitespace dropped); an empty file is an error."""
    with open(path, encoding="utf-8") as f:
        token = f.read().strip()
    if not token:
        raise ValueError(f"{path} holds no token")
    return token


def serve(settings: ServeSettings) -> int:
    """Run the service until SIGTERM or SIGINT; 0 once every accepted request has been answered."""
    from oorl.sandbox.service.server import run

    return run(settings)
