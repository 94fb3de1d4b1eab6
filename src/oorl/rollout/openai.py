"""Completions from any OpenAI-compatible server (`vllm serve`, SGLang, TGI, llama.cpp's server...).

Text in, text out: the server owns the tokenizer and the chat template, so this backend serves
evaluation at scale, not training (the trainer needs token ids and log-probs of its own policy).

    backend = OpenAIBackend("Qwen/Qwen3-8B", base_url="http://localhost:8000/v1")
    texts = backend.complete([TextRequest(prompt="def f(x):", n=4, temperature=0.8, stop=("\\ndef",))])

Requests run concurrently (`concurrency` at a time); connection errors, 429 and 5xx answers are
retried with exponential back-off; any other error raises with the server's message.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class TextRequest:
    """One prompt and how to sample it. `chat`: send it as the user message of a chat."""

    prompt: str
    n: int = 1
    temperature: float = 0.0
    max_tokens: int = 512
    stop: tuple[str, ...] = ()
    chat: bool = False
    seed: int | None = None


class OpenAIError(RuntimeError):
    """The server refused a request (after the retries, for transient failures)."""


class OpenAIBackend:
    def __init__(
        self,
        model: str,
        *,
        base_url: str,
        api_key: str | None = None,
        concurrency: int = 32,
        timeout_s: float = 600.0,
        retries: int = 4,
    ):
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.retries = retries

    @classmethod
    def from_env(
        cls, model: str, *, base_url: str, api_key_env: str = "OPENAI_API_KEY", **kw
    ) -> OpenAIBackend:
        """The key is read from the environment variable `api_key_env` (none: no Authorization header)."""
        return cls(model, base_url=base_url, api_key=os.environ.get(api_key_env), **kw)

    def complete(self, requests: Sequence[TextRequest]) -> list[list[str]]:
        """The `n` completions of every request, in order."""
        return asyncio.run(self._complete_all(requests))

    async def _complete_all(self, requests: Sequence[TextRequest]) -> list[list[str]]:
        limit = asyncio.Semaphore(self.concurrency)
        async with httpx.AsyncClient(
            base_url=self.base_url,
            headers=self.headers,
            timeout=self.timeout_s,
            limits=httpx.Limits(max_connections=self.concurrency),
        ) as client:

            async def one(r: TextRequest) -> list[str]:
                async with limit:
                    return await self._complete(client, r)

            return list(await asyncio.gather(*(one(r) for r in requests)))

    def body(self, r: TextRequest) -> tuple[str, dict]:
        """The endpoint and JSON body of a request."""
        body: dict = {"model": self.model, "n": r.n, "temperature": r.temperature, "max_tokens": r.max_tokens}
        if r.stop:
            body["stop"] = list(r.stop)
        if r.seed is not None:
            body["seed"] = r.seed
        if r.chat:
            return "/chat/completions", body | {"messages": [{"role": "user", "content": r.prompt}]}
        return "/completions", body | {"prompt": r.prompt}

    async def _complete(self, client: httpx.AsyncClient, r: TextRequest) -> list[str]:
        path, body = self.body(r)
        for attempt in range(self.retries + 1):
            try:
                resp = await client.post(path, json=body)
            except httpx.TransportError as e:
                if attempt == self.retries:
                    raise OpenAIError(f"{self.base_url}{path}: {e!r}") from e
            else:
                if resp.status_code == 200:
                    return _texts(resp.json(), chat=r.chat, n=r.n)
                if (resp.status_code != 429 and resp.status_code < 500) or attempt == self.retries:
                    raise OpenAIError(f"{self.base_url}{path}: HTTP {resp.status_code}: {resp.text[:500]}")
            await asyncio.sleep(min(30.0, 0.5 * 2**attempt))
        raise AssertionError("unreachable")


def _texts(payload: dict, *, chat: bool, n: int) -> list[str]:
    choices = sorted(payload.get("choices", []), key=lambda c: c.get("index", 0))
    if len(choices) != n:
        raise OpenAIError(f"asked for {n} choices, the server returned {len(choices)}")
    if chat:
        return [(c.get("message") or {}).get("content") or "" for c in choices]
    return [c.get("text") or "" for c in choices]
