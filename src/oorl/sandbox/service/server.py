"""Serving the app with uvicorn: start the slots, print where we listen, drain on SIGTERM, exit 0."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterator

import uvicorn

from oorl.sandbox.service import ServeSettings
from oorl.sandbox.service.app import Service, create_app
from oorl.sandbox.service.metrics import Metrics
from oorl.sandbox.service.slots import SlotPool


def run(settings: ServeSettings) -> int:
    metrics = Metrics(settings.workers)
    pool = SlotPool(
        settings.workers,
        limits=settings.limits,
        cache_dir=settings.cache_dir,
        on_restart=metrics.slot_restarts.inc,
    )
    service = Service(
        pool,
        token=settings.token,
        max_queue=settings.max_queue,
        max_body_mb=settings.max_body_mb,
        metrics=metrics,
    )
    config = uvicorn.Config(
        create_app(service),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        timeout_keep_alive=30,
    )
    server = _Server(config, service)
    try:
        asyncio.run(server.serve())
    finally:
        pool.close()
    print(
        f"oorl sandbox serve: stopped; {service.accepted} requests accepted, {service.answered} answered",
        file=sys.stderr,
        flush=True,
    )
    return 0 if server.started and service.accepted == service.answered else 1


class _Server(uvicorn.Server):
    """uvicorn's server, but after a graceful shutdown on SIGTERM it does not raise the signal again
    (which would make the exit status 143, not 0), and readiness turns 503 as the shutdown starts."""

    def __init__(self, config: uvicorn.Config, service: Service):
        super().__init__(config)
        self.service = service

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        def handle(sig: int, frame) -> None:
            self.service.draining = True
            self.handle_exit(sig, frame)

        previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets)
        if self.started:
            host, port = self.servers[0].sockets[0].getsockname()[:2]
            workers = self.service.pool.workers
            print(f"oorl sandbox serve: listening on http://{host}:{port} ({workers} workers)", flush=True)
