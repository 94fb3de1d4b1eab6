"""Judging on sandbox servers (`oorl sandbox serve`) instead of in-process, and the switch between the two.

    with RemoteSandbox(urls=["http://10.0.0.5:8080", "http://10.0.0.6:8080"], token=token) as sb:
        result = sb.judge(request)                  # same interface as Sandbox
        results = sb.judge_many(requests)           # in order, each exactly once
        result = await sb.ajudge(request)           # from any event loop

    with open_sandbox(SandboxSettings(urls=[...], token_file="/etc/oorl/token")) as sb: ...  # remote
    with open_sandbox(SandboxSettings()) as sb: ...                                          # in-process

`judge_many` sends programs in batches (up to `batch` per POST /v1/judge, at most `concurrency` POSTs
in flight), which shares the cost of HTTP between them. Each POST goes to the next server in turn. A refused connection, a dropped connection, 429 or 503
sends it to the next server after an exponentially growing, jittered pause (honouring Retry-After),
until its total deadline; a server that failed is skipped for a while. Like `Sandbox`, infrastructure
trouble comes back as a `sandbox_error` verdict (which callers retry, never score), except a rejected
token, which raises `RemoteSandboxError` at once: no retry can fix it. Each result is delivered
exactly once, in order; a program whose server died while judging it may have run twice.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from oorl.sandbox.pool import Sandbox
from oorl.sandbox.types import JudgeRequest, JudgeResult, Limits

if TYPE_CHECKING:
    import httpx  # imported when a RemoteSandbox is made: in-process judging never pays for it

RETRY_STATUS = frozenset({429, 502, 503, 504})


class RemoteSandboxError(RuntimeError):
    """A server refused us for good (a wrong token, a path that is not a sandbox server)."""


class _Results(BaseModel):
    results: list[JudgeResult]


class RemoteSandbox:
    """A client of one or more sandbox servers with `Sandbox`'s judging interface."""

    def __init__(
        self,
        urls: Sequence[str],
        token: str | None = None,
        *,
        concurrency: int = 32,
        batch: int = 8,
        deadline_s: float = 600.0,
        connect_timeout_s: float = 5.0,
        backoff_s: float = 0.05,
        max_backoff_s: float = 2.0,
        limits: Limits | None = None,
    ):
        if not urls:
            raise ValueError("RemoteSandbox needs at least one server url")
        self.urls = [u.rstrip("/") for u in urls]
        self.workers = concurrency  # HTTP requests in flight at once, like Sandbox.workers
        self.batch = batch  # programs per HTTP request in judge_many
        self.limits = limits
        self.deadline_s = deadline_s
        self._connect_timeout_s = connect_timeout_s
        self._backoff_s, self._max_backoff_s = backoff_s, max_backoff_s
        self._headers = {"Content-Type": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._down_until = dict.fromkeys(self.urls, 0.0)
        self._next = 0
        # All HTTP happens on one private event loop: the sync API works from any thread, `ajudge`
        # from any loop, and the connection pool is never shared across loops.
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="oorl-remote-sandbox", daemon=True
        )
        self._thread.start()
        self._client = self._call(self._open_client(concurrency))
        self._slots: asyncio.Semaphore = self._call(self._semaphore(concurrency))

    async def _open_client(self, concurrency: int) -> httpx.AsyncClient:
        import httpx

        pool = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        return httpx.AsyncClient(limits=pool, headers=self._headers)

    @staticmethod
    async def _semaphore(n: int) -> asyncio.Semaphore:
        return asyncio.Semaphore(n)

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    # --- the Sandbox interface ------------------------------------------------------------------
    def judge(self, request: JudgeRequest) -> JudgeResult:
        return self._call(self._judge(request))

    def judge_many(
        self, requests: Sequence[JudgeRequest], *, progress: bool | str = False
    ) -> list[JudgeResult]:
        """Results in request order, each exactly once."""
        if not progress:
            return self._call(self._judge_all(requests, None))
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            task = bar.add_task(progress if isinstance(progress, str) else "judging", total=len(requests))
            return self._call(self._judge_all(requests, lambda: bar.advance(task)))

    def imap(self, requests: Sequence[JudgeRequest]):
        """`Sandbox.imap`'s results in order (here they arrive all at once, after the last)."""
        return iter(self.judge_many(requests))

    async def ajudge(self, request: JudgeRequest) -> JudgeResult:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._judge(request), self._loop))

    async def ajudge_many(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        future = asyncio.run_coroutine_threadsafe(self._judge_all(requests, None), self._loop)
        return await asyncio.wrap_future(future)

    def run(
        self,
        language: str,
        code: str,
        stdin: str | None = None,
        limits: Limits | None = None,
        *,
        harness: bool = False,
    ) -> JudgeResult:
        """As `Sandbox.run`."""
        return self.judge(JudgeRequest.single_run(language, code, stdin, limits, harness=harness))

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._call(self._client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> RemoteSandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- on the private loop --------------------------------------------------------------------
    async def _judge_all(self, requests: Sequence[JudgeRequest], advance) -> list[JudgeResult]:
        """Batches of up to `batch` programs, at most `workers` batches in flight, so the per-request
        cost of HTTP is shared; small lists are split finer so that every connection has work."""
        n = len(requests)
        size = max(1, min(self.batch, math.ceil(n / (2 * self.workers))))
        results: list[JudgeResult | None] = [None] * n

        async def chunk(start: int) -> None:
            done = await self._judge_batch(requests[start : start + size])
            results[start : start + len(done)] = done
            if advance is not None:
                for _ in done:
                    advance()

        await asyncio.gather(*(chunk(start) for start in range(0, n, size)))
        missing = [i for i, r in enumerate(results) if r is None]
        assert not missing, f"requests {missing[:10]} got no result"
        return results  # type: ignore[return-value]

    async def _judge(self, request: JudgeRequest) -> JudgeResult:
        (result,) = await self._judge_batch([request])
        return result

    async def _judge_batch(self, requests: Sequence[JudgeRequest]) -> list[JudgeResult]:
        """One POST /v1/judge (retried and failed over as a whole): one result per request, in order."""
        if self.limits is not None:
            requests = [r if r.limits else r.model_copy(update={"limits": self.limits}) for r in requests]
        body = b'{"requests":[' + b",".join(r.model_dump_json().encode() for r in requests) + b"]}"
        async with self._slots:
            answer = await self._post("/v1/judge", body, time.monotonic() + self.deadline_s)
        if isinstance(answer, str):
            return [JudgeResult.sandbox_error(r, answer) for r in requests]
        results = _Results.model_validate_json(answer).results
        if len(results) != len(requests):
            raise RemoteSandboxError(
                f"the server answered {len(results)} results for {len(requests)} programs"
            )
        return results

    def _pick(self) -> str:
        """The next server in turn, skipping those that failed lately while any other is not."""
        now = time.monotonic()
        n = len(self.urls)
        start = self._next
        self._next = (self._next + 1) % n
        order = [self.urls[(start + k) % n] for k in range(n)]
        up = [u for u in order if self._down_until[u] <= now]
        return up[0] if up else min(order, key=self._down_until.__getitem__)

    async def _post(self, path: str, body: bytes, deadline: float) -> bytes | str:
        """The 200 answer's body, or (once the deadline has passed) a string saying what went wrong."""
        import httpx

        last, attempt = "no attempt made", 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return f"no sandbox server answered within {self.deadline_s:g} s; last: {last}"
            url = self._pick()
            pause = 0.0
            try:
                timeout = httpx.Timeout(left, connect=min(left, self._connect_timeout_s))
                response = await self._client.post(url + path, content=body, timeout=timeout)
            except httpx.TransportError as e:  # refused, reset, dropped mid-answer, timed out
                last = f"{url}: {type(e).__name__}: {e}"
                self._down_until[url] = time.monotonic() + min(self._max_backoff_s, 0.5 * 2**attempt)
            else:
                if response.status_code == 200:
                    return response.content
                detail = _detail(response)
                if response.status_code in (401, 403, 404):
                    raise RemoteSandboxError(f"{url}{path}: {response.status_code} {detail}")
                if response.status_code not in RETRY_STATUS:
                    return f"{url}{path}: {response.status_code} {detail}"
                last = f"{url}: {response.status_code} {detail}"
                pause = _retry_after(response)
            attempt += 1
            backoff = min(self._max_backoff_s, self._backoff_s * 2 ** min(attempt, 16))
            pause = max(pause, backoff * random.uniform(0.5, 1.0))  # jitter: retries do not march in step
            await asyncio.sleep(max(0.0, min(pause, deadline - time.monotonic())))


def _detail(response: httpx.Response) -> str:
    try:
        return json.dumps(response.json().get("detail"))[:2000]
    except (ValueError, AttributeError):
        return response.text[:2000]


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(30.0, float(response.headers.get("retry-after", 0)))
    except ValueError:
        return 0.0


class SandboxSettings(BaseModel):
    """Where programs are judged: in-process, or on sandbox servers when `urls` is set."""

    model_config = ConfigDict(extra="forbid")

    urls: list[str] = Field([], description="sandbox servers (`oorl sandbox serve`); empty: judge in-process")
    token_file: str | None = Field(None, description="file holding the servers' bearer token")
    workers: int | None = Field(
        None,
        ge=1,
        description="in-process: parallel runs (None: core count); remote: requests in flight (None: 32)",
    )
    deadline_s: float = Field(600.0, gt=0, description="remote: total seconds per request, retries included")

    @classmethod
    def from_env(cls) -> SandboxSettings:
        """OORL_SANDBOX_URLS (comma-separated) and OORL_SANDBOX_TOKEN_FILE, when set."""
        urls = [u.strip() for u in os.environ.get("OORL_SANDBOX_URLS", "").split(",") if u.strip()]
        return cls(urls=urls, token_file=os.environ.get("OORL_SANDBOX_TOKEN_FILE") or None)


def open_sandbox(
    settings: SandboxSettings | None = None, *, workers: int | None = None, limits: Limits | None = None
) -> Sandbox | RemoteSandbox:
    """A `Sandbox`, or a `RemoteSandbox` when `settings.urls` is set; use it as a context manager.

    `settings` None reads the environment (`SandboxSettings.from_env`), so a command without a
    sandbox setting of its own can still judge remotely. `workers` overrides `settings.workers`;
    `limits` are the defaults of requests that carry none.
    """
    settings = settings if settings is not None else SandboxSettings.from_env()
    workers = workers or settings.workers
    if not settings.urls:
        return Sandbox(workers=workers, limits=limits)
    token = None
    if settings.token_file:
        from oorl.sandbox.service import read_token

        token = read_token(settings.token_file)
    return RemoteSandbox(
        settings.urls, token, concurrency=workers or 32, deadline_s=settings.deadline_s, limits=limits
    )
