"""The `openai` backend against an OpenAI-compatible server started on loopback."""

import pytest
from openai_server import OpenAIServer

from oorl.rollout.openai import OpenAIBackend, OpenAIError, TextRequest


def _echo(body):
    text = body["prompt"] if "prompt" in body else body["messages"][-1]["content"]
    return [f"{text}#{i}" for i in range(body["n"])]


def test_completions_and_chat_in_order_with_their_parameters():
    with OpenAIServer(_echo) as server:
        backend = OpenAIBackend("m", base_url=server.base_url, api_key="k", concurrency=3)
        texts = backend.complete(
            [
                TextRequest(prompt="a", n=2, temperature=0.5, max_tokens=7, stop=("\ndef",), seed=3),
                TextRequest(prompt="b", chat=True),
                *(TextRequest(prompt=str(i)) for i in range(10)),
            ]
        )
    assert texts[0] == ["a#0", "a#1"]  # the server sends choices reversed: the client orders by index
    assert texts[1] == ["b#0"]
    assert texts[2:] == [[f"{i}#0"] for i in range(10)]
    first = next(r for r in server.requests if r.get("prompt") == "a")
    assert first["path"] == "/v1/completions" and first["auth"] == "Bearer k"
    assert (first["n"], first["temperature"], first["max_tokens"], first["stop"], first["seed"]) == (
        2,
        0.5,
        7,
        ["\ndef"],
        3,
    )
    chat = next(r for r in server.requests if "messages" in r)
    assert chat["path"] == "/v1/chat/completions" and chat["messages"] == [{"role": "user", "content": "b"}]


def test_server_errors_are_retried():
    with OpenAIServer(_echo, fail_first=2) as server:
        texts = OpenAIBackend("m", base_url=server.base_url, retries=3).complete([TextRequest(prompt="x")])
    assert texts == [["x#0"]] and len(server.requests) == 3


def test_a_refused_request_raises_with_the_servers_message():
    with OpenAIServer(_echo) as server:
        backend = OpenAIBackend("m", base_url=server.base_url + "/nope", retries=0)
        with pytest.raises(OpenAIError, match="HTTP 404.*no route"):
            backend.complete([TextRequest(prompt="x")])


def test_the_api_key_comes_from_the_named_environment_variable(monkeypatch):
    monkeypatch.setenv("MY_KEY", "s3cret")
    with OpenAIServer(_echo) as server:
        OpenAIBackend.from_env("m", base_url=server.base_url, api_key_env="MY_KEY").complete(
            [TextRequest(prompt="x")]
        )
        OpenAIBackend.from_env("m", base_url=server.base_url, api_key_env="UNSET_KEY_VAR").complete(
            [TextRequest(prompt="y")]
        )
    assert [r["auth"] for r in server.requests] == ["Bearer s3cret", None]
