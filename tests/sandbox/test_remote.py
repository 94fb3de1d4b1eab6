"""RemoteSandbox against real servers on loopback: load, failover when a server dies, graceful drain."""

from __future__ import annotations

import asyncio
import json
import statistics
import threading
import time

import pytest
from servers import Server

from oorl.sandbox import JudgeRequest, RemoteSandbox, RemoteSandboxError, StdioTest, Verdict

pytestmark = pytest.mark.sandbox

# One tiny cached program; each request's stdin makes its right answer its own.
PRODUCT = "read a b; echo $((a * b))"


def product_requests(n: int) -> list[JudgeRequest]:
    return [
        JudgeRequest(language="bash", code=PRODUCT, tests=[StdioTest(stdin=f"{i} 7", expected=str(7 * i))])
        for i in range(n)
    ]


def assert_all_correct(requests: list[JudgeRequest], results: list) -> None:
    assert len(results) == len(requests)
    wrong = [
        (i, r.verdict.value, r.detail)
        for i, r in enumerate(results)
        if r.verdict is not Verdict.ACCEPTED or r.tests[0].stdout.strip() != str(7 * i)
    ]
    assert not wrong, f"{len(wrong)} wrong results, first: {wrong[:3]}"


@pytest.mark.slow
def test_load_2000_requests_at_concurrency_32():
    requests = product_requests(2000)
    with (
        Server("--workers", "2", "--max-queue", "64") as server,
        RemoteSandbox([server.url], concurrency=32) as sb,
    ):
        latencies = [0.0] * len(requests)

        async def load() -> list:
            in_flight = asyncio.Semaphore(32)

            async def one(i: int):
                async with in_flight:
                    start = time.monotonic()
                    result = await sb.ajudge(requests[i])
                    latencies[i] = time.monotonic() - start
                return result

            return await asyncio.wait_for(
                asyncio.gather(*(one(i) for i in range(len(requests)))), timeout=600
            )

        start = time.monotonic()
        results = asyncio.run(load())
        elapsed = time.monotonic() - start
        assert_all_correct(requests, results)
        assert server.metric('oorl_sandbox_verdicts_total{language="bash",verdict="accepted"}') == len(
            requests
        )
    q = statistics.quantiles(latencies, n=100)
    print(
        f"\n2000 requests at concurrency 32: {len(requests) / elapsed:.1f} runs/s, "
        f"p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms"
    )


def test_judge_many_in_order_exactly_once_through_429s():
    """One slot and no queue: most requests are refused at first and must come back, each once."""
    requests = product_requests(40)
    with Server("--workers", "1", "--max-queue", "0") as server:
        with RemoteSandbox([server.url], concurrency=8, backoff_s=0.01, max_backoff_s=0.2) as sb:
            results = sb.judge_many(requests)
            assert_all_correct(requests, results)
        assert server.metric('oorl_sandbox_requests_total{code="429",endpoint="judge"}') > 0
        assert server.metric('oorl_sandbox_verdicts_total{language="bash",verdict="accepted"}') == len(
            requests
        )


def test_wrong_token_raises_and_dead_servers_give_sandbox_error():
    with Server("--workers", "1", token="right") as server:
        with RemoteSandbox([server.url], token="wrong") as sb, pytest.raises(RemoteSandboxError, match="401"):
            sb.run("bash", "true")
        with RemoteSandbox([server.url], token="right") as sb:
            assert sb.run("bash", "echo ok").tests[0].stdout == "ok\n"
        url = server.url
    with RemoteSandbox([url], deadline_s=1.0) as sb:
        start = time.monotonic()
        result = sb.run("bash", "true")
        assert result.verdict is Verdict.SANDBOX_ERROR and "within 1 s" in result.detail
        assert time.monotonic() - start < 5


def _load_in_background(sb: RemoteSandbox, requests: list[JudgeRequest]) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(sb.judge_many(requests)), daemon=True)
    thread.start()
    return thread, out


def _wait_for(server: Server, judged: int, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while server.metric("oorl_sandbox_verdicts_total") < judged:
        assert time.monotonic() < deadline, f"{server.url} never judged {judged} programs"
        time.sleep(0.05)


def test_failover_when_a_server_is_killed_mid_load():
    requests = product_requests(240)
    with Server("--workers", "1") as a, Server("--workers", "1") as b:
        with RemoteSandbox([a.url, b.url], concurrency=8, batch=2, deadline_s=120) as sb:
            thread, out = _load_in_background(sb, requests)
            _wait_for(a, 40)
            a.stop()  # SIGKILL, server and sandboxes: as if its machine died
            thread.join(timeout=300)
            assert not thread.is_alive()
            assert_all_correct(requests, out[0])
        assert b.metric("oorl_sandbox_verdicts_total") > 0


def test_sigterm_under_load_answers_every_accepted_request():
    requests = product_requests(240)
    with Server("--workers", "1") as a, Server("--workers", "1") as b:
        with RemoteSandbox([a.url, b.url], concurrency=8, batch=2, deadline_s=120) as sb:
            thread, out = _load_in_background(sb, requests)
            _wait_for(a, 40)
            assert a.terminate() == 0
            thread.join(timeout=300)
            assert not thread.is_alive()
            assert_all_correct(requests, out[0])
        accepted, answered = a.stderr().split("stopped; ")[1].split(" requests accepted, ")
        assert int(accepted) >= 20 and int(answered.split()[0]) == int(accepted)


def test_oorl_judge_on_a_server(tmp_path):
    from typer.testing import CliRunner

    from oorl.cli import app
    from oorl.jsonl import write_jsonl
    from oorl.tasks.schema import Problem, Provenance

    problem = Problem(
        id="mul", provenance=Provenance(dataset="test"), tests=[StdioTest(stdin="6 7\n", expected="42\n")]
    )
    write_jsonl(tmp_path / "problems.jsonl", [problem])
    write_jsonl(
        tmp_path / "solutions.jsonl",
        [
            {"problem_id": "mul", "language": "bash", "code": PRODUCT},
            {"problem_id": "mul", "language": "python", "code": "print(41)"},
        ],
    )
    (tmp_path / "token").write_text("tok\n")
    args = [
        "judge",
        "--problems",
        str(tmp_path / "problems.jsonl"),
        "--solutions",
        str(tmp_path / "solutions.jsonl"),
    ]
    with Server("--workers", "1", token="tok") as server:
        out = tmp_path / "results.jsonl"
        ok = CliRunner().invoke(
            app,
            [*args, "--out", str(out), "--sandbox-url", server.url, "--token-file", str(tmp_path / "token")],
        )
        assert ok.exit_code == 0, ok.output
        assert [json.loads(line)["verdict"] for line in out.read_text().splitlines()] == [
            "accepted",
            "wrong_answer",
        ]
        assert server.metric("oorl_sandbox_verdicts_total") == 2  # judged there, not in-process
        (tmp_path / "bad").write_text("nope\n")
        refused = CliRunner().invoke(
            app,
            [
                *args,
                "--out",
                str(tmp_path / "r.jsonl"),
                "--sandbox-url",
                server.url,
                "--token-file",
                str(tmp_path / "bad"),
            ],
        )
        assert refused.exit_code == 2 and "401" in refused.output
