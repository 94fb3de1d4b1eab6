"""The HTTP service: a Starlette app over a `SlotPool`.

    POST /run_code   SandboxFusion's API (see fusion.py)
    POST /v1/judge   {"requests": [JudgeRequest, ...]} -> {"results": [JudgeResult, ...]}, same order
    POST /v1/run     {"language", "code", "stdin"?, "limits"?} -> JudgeResult (one run, like Sandbox.run)
    GET  /healthz    the process answers (no token needed)
    GET  /readyz     every worker slot is up (crashed ones are restarted first) and not shutting down
    GET  /metrics    Prometheus text

With a token every endpoint but /healthz needs `Authorization: Bearer <token>` (or, for clients
that cannot send headers, `?token=<token>` in the URL); 401 otherwise.
Past `workers + max_queue` programs admitted and unanswered, requests get 429 with Retry-After;
bodies over `max_body_mb` get 413; malformed JSON or a wrong field gets 422 naming the field;
a language we do not judge gets 400.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from oorl.langs import UnknownLanguageError, get_language
from oorl.sandbox import JudgeRequest, JudgeResult, Limits
from oorl.sandbox.service.fusion import (
    FUSION_FIELDS,
    RunCodeRequest,
    UnsupportedRequest,
    fusion_language,
    to_fusion_response,
    to_judge_request,
)
from oorl.sandbox.service.metrics import Metrics
from oorl.sandbox.service.slots import SlotPool

M = TypeVar("M", bound=BaseModel)
# The most a request may ask for; a higher limit is a 422 naming the field.
MAX_LIMITS = Limits(
    time_s=300,
    memory_mb=16384,
    processes=1024,
    file_size_mb=1024,
    disk_mb=4096,
    open_files=4096,
    output_mb=256,
    compile_time_s=600,
    compile_memory_mb=16384,
)


class JudgeBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests: list[JudgeRequest] = Field(description="programs with their tests, judged in any order")


class RunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    language: str = Field(description="language name or alias")
    code: str = Field(description="the program")
    stdin: str | None = Field(None, description="standard input (None: empty)")
    limits: Limits | None = Field(None, description="limits for this run (None: the server's)")


class HTTPProblem(Exception):
    """An answer other than 200, with its JSON body."""

    def __init__(self, code: int, detail: str | list, headers: dict[str, str] | None = None):
        self.code, self.detail, self.headers = code, detail, headers


def _validation_problem(e: ValidationError, rename: dict[str, str] | None = None) -> HTTPProblem:
    """422 naming each bad field as FastAPI does ({"loc": ["body", field, ...], "msg", "type"});
    `rename` maps our field names to the request's (time_s -> SandboxFusion's run_timeout)."""
    rename = rename or {}
    errors = [
        {"loc": ["body", *(rename.get(p, p) for p in err["loc"])], "msg": err["msg"], "type": err["type"]}
        for err in e.errors()
    ]
    fields = ", ".join(".".join(str(p) for p in err["loc"][1:]) or "body" for err in errors)
    return HTTPProblem(422, errors, {"X-Invalid-Fields": fields[:500]})


def _limit_problems(limits: Limits | None, where: Callable[[str], list]) -> list[dict]:
    """A 422 entry for each limit above MAX_LIMITS; `where(name)` is its loc in the request body."""
    if limits is None:
        return []
    problems = []
    for name, ceiling in MAX_LIMITS.model_dump().items():
        value = getattr(limits, name)
        if value is not None and ceiling is not None and value > ceiling:
            problems.append(
                {
                    "loc": where(name),
                    "msg": f"at most {ceiling} on this server",
                    "type": "less_than_equal",
                }
            )
    return problems


def _language_label(name: str) -> str:
    """The registry's name, so that clients cannot grow the metric's label set without bound."""
    try:
        return get_language(name).name
    except UnknownLanguageError:
        return "unknown"


class Service:
    """The app's state: the slot pool, admission counting and metrics."""

    def __init__(
        self,
        pool: SlotPool,
        *,
        token: str | None = None,
        max_queue: int = 256,
        max_body_mb: float = 64,
        metrics: Metrics | None = None,
    ):
        self.pool = pool
        self.token = token.encode() if token else None
        self.max_queue = max_queue
        self.max_body = int(max_body_mb * 2**20)
        self.metrics = metrics or Metrics(pool.workers)
        self.pending = 0  # programs admitted and not answered (touched on the event loop only)
        self.accepted = 0  # HTTP requests admitted to judging, and answered: equal after a clean drain
        self.answered = 0
        self.draining = False

    # --- guards ---------------------------------------------------------------------------------
    def authorize(self, request: Request) -> None:
        if self.token is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            # SandboxFusion clients that send no headers (verl's reward) carry it in the URL instead
            given = request.query_params.get("token", "")
        # compare_digest: the time taken does not depend on how much of the token is right
        if not hmac.compare_digest(given.strip().encode(), self.token):
            raise HTTPProblem(401, "missing or wrong bearer token", {"WWW-Authenticate": "Bearer"})

    async def body(self, request: Request) -> bytes:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            raise HTTPProblem(413, f"the body is over {self.max_body} bytes")
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise HTTPProblem(413, f"the body is over {self.max_body} bytes")
            chunks.append(chunk)
        return b"".join(chunks)

    def admit(self, n: int) -> None:
        """Reserve room for `n` programs or refuse with 429. An idle server takes a batch of any size."""
        capacity = self.pool.workers + self.max_queue
        if self.pending and self.pending + n > capacity:
            raise HTTPProblem(
                429,
                f"{self.pending} programs are queued or running (capacity {capacity}); retry later",
                # a queue drains in seconds; clients back off exponentially beyond this first pause
                {"Retry-After": "1"},
            )
        self.pending += n
        self.accepted += 1
        self._gauges()

    def _gauges(self) -> None:
        self.metrics.in_flight.set(self.pending)
        self.metrics.queue_depth.set(max(0, self.pending - self.pool.workers))

    async def judge(self, requests: list[JudgeRequest]) -> list[JudgeResult]:
        """Judge admitted programs; frees their room as each finishes."""
        futures = [asyncio.wrap_future(self.pool.submit(r)) for r in requests]
        results: list[JudgeResult] = []
        try:
            for request, future in zip(requests, futures, strict=True):
                result = await future
                self.pending -= 1
                self._gauges()
                self.metrics.verdicts.labels(_language_label(request.language), result.verdict.value).inc()
                results.append(result)
            return results
        finally:
            self.answered += 1
            self.pending -= len(requests) - len(results)  # nonzero only if the app is torn down mid-way
            self._gauges()

    def ceiling(self, requests: list[JudgeRequest], where: Callable[[int, str], list]) -> None:
        problems = [
            p
            for i, r in enumerate(requests)
            for p in _limit_problems(r.limits, lambda name, i=i: where(i, name))
        ]
        if problems:
            raise HTTPProblem(422, problems)

    # --- endpoints ------------------------------------------------------------------------------
    async def run_code(self, request: Request) -> Response:
        self.authorize(request)
        req = self._parse(RunCodeRequest, await self.body(request))
        try:
            lang = fusion_language(req.language)
            judge_request = to_judge_request(req, self.pool.limits)
        except UnsupportedRequest as e:
            raise HTTPProblem(400, str(e)) from None
        except ValidationError as e:
            raise _validation_problem(e, FUSION_FIELDS) from None
        self.ceiling([judge_request], lambda i, name: ["body", FUSION_FIELDS.get(name, name)])
        self.admit(1)
        (result,) = await self.judge([judge_request])
        fetch = bool(req.files or req.fetch_files)
        response = to_fusion_response(result, lang, req.code, fetch=fetch)
        return Response(response.model_dump_json(), media_type="application/json")

    async def judge_batch(self, request: Request) -> Response:
        self.authorize(request)
        batch = self._parse(JudgeBatch, await self.body(request))
        self.ceiling(batch.requests, lambda i, name: ["body", "requests", i, "limits", name])
        self.admit(len(batch.requests))
        results = await self.judge(batch.requests)
        body = '{"results":[' + ",".join(r.model_dump_json() for r in results) + "]}"
        return Response(body, media_type="application/json")

    async def run(self, request: Request) -> Response:
        self.authorize(request)
        req = self._parse(RunRequest, await self.body(request))
        judge_request = JudgeRequest.single_run(req.language, req.code, req.stdin, req.limits)
        self.ceiling([judge_request], lambda i, name: ["body", "limits", name])
        self.admit(1)
        (result,) = await self.judge([judge_request])
        return Response(result.model_dump_json(), media_type="application/json")

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def readyz(self, request: Request) -> Response:
        self.authorize(request)
        if self.draining:
            return PlainTextResponse("shutting down\n", status_code=503)
        up = await asyncio.get_running_loop().run_in_executor(None, self.pool.check)
        return PlainTextResponse(
            "ready\n" if up else "a worker slot is down\n", status_code=200 if up else 503
        )

    async def metrics_text(self, request: Request) -> Response:
        self.authorize(request)
        return Response(generate_latest(self.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    @staticmethod
    def _parse(model: type[M], body: bytes) -> M:
        try:
            return model.model_validate_json(body)
        except ValidationError as e:
            raise _validation_problem(e) from None

    async def watchdog(self, every_s: float = 1.0) -> None:
        """Restart crashed idle slots (and so count them) without waiting for a request to meet one."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(every_s)
            await loop.run_in_executor(None, self.pool.check)


def _endpoint(
    service: Service, name: str, handler: Callable[[Request], Awaitable[Response]]
) -> Callable[[Request], Awaitable[Response]]:
    """Problems become their JSON answers; every answer is counted and timed."""

    async def endpoint(request: Request) -> Response:
        start = time.monotonic()
        try:
            response = await handler(request)
        except HTTPProblem as p:
            response = JSONResponse({"detail": p.detail}, status_code=p.code, headers=p.headers)
        service.metrics.requests.labels(name, str(response.status_code)).inc()
        service.metrics.latency.labels(name).observe(time.monotonic() - start)
        return response

    return endpoint


def create_app(service: Service, *, watchdog_s: float | None = 1.0) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        task = asyncio.create_task(service.watchdog(watchdog_s)) if watchdog_s else None
        try:
            yield
        finally:
            if task is not None:
                task.cancel()

    routes = [
        Route("/run_code", _endpoint(service, "run_code", service.run_code), methods=["POST"]),
        Route("/v1/judge", _endpoint(service, "judge", service.judge_batch), methods=["POST"]),
        Route("/v1/run", _endpoint(service, "run", service.run), methods=["POST"]),
        Route("/healthz", _endpoint(service, "healthz", service.healthz), methods=["GET"]),
        Route("/readyz", _endpoint(service, "readyz", service.readyz), methods=["GET"]),
        Route("/metrics", _endpoint(service, "metrics", service.metrics_text), methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
