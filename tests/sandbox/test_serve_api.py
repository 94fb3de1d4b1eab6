"""`oorl sandbox serve` over loopback: SandboxFusion's client, our API, the guards, hostile programs."""

from __future__ import annotations

import base64
import os
import signal
import threading
import time

import httpx
import pytest
from servers import Server, descendants

from oorl.sandbox import JudgeRequest, JudgeResult, StdioTest

pytestmark = pytest.mark.sandbox

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="module")
def open_server():
    """No token (SandboxFusion's client sends none), default limits."""
    with Server("--workers", "2", "--max-body-mb", "1") as server:
        yield server


@pytest.fixture(scope="module")
def guarded():
    """A token, one slot and no queue: a second program at once is refused."""
    with Server("--workers", "1", "--max-queue", "0", "--max-body-mb", "1", token=TOKEN) as server:
        yield server


HELLO = {
    "python": "print(input()[::-1])",
    "cpp": "#include <iostream>\n#include <string>\nint main(){std::string s;std::cin>>s;"
    "std::cout<<std::string(s.rbegin(),s.rend())<<std::endl;}",
    "java": "import java.util.*;\npublic class Main { public static void main(String[] a) {"
    " String s = new Scanner(System.in).next(); System.out.println(new StringBuilder(s).reverse()); } }",
    "nodejs": "const s = require('fs').readFileSync(0, 'utf8').trim();"
    " console.log(s.split('').reverse().join(''));",
    "bash": 'read s; echo "$s" | rev',
}


@pytest.mark.parametrize("language", sorted(HELLO))
def test_sandbox_fusion_client_success(open_server, language):
    from sandbox_fusion import RunCodeRequest, RunStatus, run_code

    response = run_code(
        RunCodeRequest(code=HELLO[language], language=language, stdin="stressed\n", compile_timeout=60),
        endpoint=open_server.url,
        max_attempts=1,
    )
    assert response.status == RunStatus.Success, response
    assert response.run_result.stdout == "desserts\n"
    assert response.run_result.return_code == 0
    assert (response.compile_result is not None) == (language in ("cpp", "java"))


def test_sandbox_fusion_client_failed_and_time_limit(open_server):
    from sandbox_fusion import CommandRunStatus, RunCodeRequest, RunStatus, run_code

    failing = run_code(
        RunCodeRequest(code="import sys\nprint('partial')\nsys.exit(3)", language="python"),
        endpoint=open_server.url,
        max_attempts=1,
    )
    assert failing.status == RunStatus.Failed
    assert failing.run_result.status == CommandRunStatus.Finished
    assert failing.run_result.return_code == 3
    assert failing.run_result.stdout == "partial\n"

    broken = run_code(
        RunCodeRequest(code="int main( { return 0; }", language="cpp"),
        endpoint=open_server.url,
        max_attempts=1,
    )
    assert broken.status == RunStatus.Failed
    assert broken.run_result is None and broken.compile_result.return_code != 0

    start = time.monotonic()
    looping = run_code(
        RunCodeRequest(code="while True:\n    pass", language="python", run_timeout=1),
        endpoint=open_server.url,
        max_attempts=1,
    )
    assert looping.status == RunStatus.Failed
    assert looping.run_result.status == CommandRunStatus.TimeLimitExceeded
    assert time.monotonic() - start < 10


def test_run_code_files_in_and_out(open_server):
    code = "data = open('in/data.txt').read()\nopen('out.txt', 'w').write(data.upper())\nprint(len(data))"
    response = open_server.post(
        "/run_code",
        json={
            "code": code,
            "language": "python",
            "files": {"in/data.txt": base64.b64encode(b"hello files").decode()},
            "fetch_files": ["out.txt", "missing.txt"],
        },
    ).json()
    assert response["status"] == "Success", response
    assert response["run_result"]["stdout"] == "11\n"
    assert base64.b64decode(response["files"]["out.txt"]) == b"HELLO FILES"
    assert "missing.txt" not in response["files"]


def test_unknown_language_is_400_naming_ours(open_server):
    response = open_server.post("/run_code", json={"code": "print 1", "language": "lua"})
    assert response.status_code == 400
    assert "lua" in response.json()["detail"] and "python" in response.json()["detail"]


def test_judge_batch_keeps_order_and_run_endpoint(open_server):
    requests = [
        JudgeRequest(
            language="python",
            code=f"print(int(input()) * {k})",
            tests=[StdioTest(stdin="3", expected=str(3 * k))],
        )
        for k in range(6)
    ] + [JudgeRequest(language="python", code="print(1)", tests=[StdioTest(stdin="", expected="2")])]
    body = {"requests": [r.model_dump(mode="json") for r in requests]}
    results = [
        JudgeResult.model_validate(r) for r in open_server.post("/v1/judge", json=body).json()["results"]
    ]
    assert [r.verdict.value for r in results] == ["accepted"] * 6 + ["wrong_answer"]
    assert [r.tests[0].stdout for r in results[:6]] == [f"{3 * k}\n" for k in range(6)]

    run = JudgeResult.model_validate(
        open_server.post(
            "/v1/run", json={"language": "bash", "code": "cat; echo err >&2", "stdin": "x"}
        ).json()
    )
    assert run.accepted and run.tests[0].stdout == "x"
    assert run.tests[0].stderr == "err\n"


def test_hostile_programs_over_http(open_server):
    def fusion(code: str, **kw) -> dict:
        return open_server.post("/run_code", json={"code": code, "language": "python", **kw}).json()

    bomb = fusion(
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass",
        run_timeout=3,
    )
    assert bomb["status"] == "Failed"
    assert bomb["verdict"] in ("time_limit", "runtime_error", "memory_limit")

    hog = fusion("x = []\nwhile True:\n    x.append(b'x' * 10**7)", memory_limit_MB=96, run_timeout=15)
    assert hog["status"] == "Failed" and hog["verdict"] == "memory_limit", hog["detail"]

    flood = fusion("import sys\nfor _ in range(100):\n    sys.stdout.write('x' * 2**20)")
    assert flood["status"] == "Failed" and flood["verdict"] == "output_limit"
    assert len(flood["run_result"]["stdout"]) <= 8 * 2**20

    # and the service is unharmed
    assert fusion("print(6 * 7)")["run_result"]["stdout"] == "42\n"
    assert open_server.get("/readyz").status_code == 200


def test_token_is_required_except_for_healthz(guarded):
    assert httpx.get(guarded.url + "/healthz").status_code == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
        for method, path in (
            ("GET", "/metrics"),
            ("GET", "/readyz"),
            ("POST", "/v1/judge"),
            ("POST", "/run_code"),
        ):
            response = httpx.request(method, guarded.url + path, headers=headers, json={})
            assert response.status_code == 401, (headers, path)
    assert guarded.get("/readyz").status_code == 200
    assert httpx.get(f"{guarded.url}/readyz?token={TOKEN}").status_code == 200  # verl sends no headers
    assert httpx.get(f"{guarded.url}/readyz?token=wrong").status_code == 401


def test_body_over_the_limit_is_413(guarded):
    big = {"code": "#" * (2 * 2**20), "language": "python"}
    assert guarded.post("/run_code", json=big).status_code == 413


def test_malformed_json_and_wrong_fields_are_422_naming_them(guarded):
    response = guarded.post(
        "/run_code",
        content=b'{"code": "print(1)", "language": ',
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    response = guarded.post(
        "/run_code", json={"code": "print(1)", "language": "python", "run_timeout": "soon"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "run_timeout"]
    response = guarded.post("/v1/judge", json={"requests": [{"code": "print(1)"}]})
    assert response.status_code == 422
    assert ["body", "requests", 0, "language"] in [e["loc"] for e in response.json()["detail"]]
    response = guarded.post(
        "/run_code", json={"code": "print(1)", "language": "python", "memory_limit_MB": 8}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "memory_limit_MB"]
    response = guarded.post(
        "/run_code", json={"code": "print(1)", "language": "python", "run_timeout": 10**6}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "run_timeout"]
    response = guarded.post(
        "/v1/run", json={"language": "python", "code": "print(1)", "limits": {"time_s": 10**6}}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "limits", "time_s"]


def test_past_the_queue_is_429_with_retry_after(guarded):
    slow = threading.Thread(
        target=guarded.post, args=("/v1/run",), kwargs={"json": {"language": "bash", "code": "sleep 2"}}
    )
    slow.start()
    try:
        deadline = time.monotonic() + 20
        while guarded.metric("oorl_sandbox_in_flight") < 1:
            assert time.monotonic() < deadline, "the slow run never started"
            time.sleep(0.02)
        refused = guarded.post("/v1/run", json={"language": "bash", "code": "true"})
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
    finally:
        slow.join(timeout=30)
    assert guarded.post("/v1/run", json={"language": "bash", "code": "true"}).json()["verdict"] == "accepted"
    assert guarded.metric('oorl_sandbox_requests_total{code="429",endpoint="run"}') >= 1


def test_a_crashed_slot_is_restarted_and_counted(guarded):
    assert guarded.metric("oorl_sandbox_slot_restarts_total") == 0
    houses = [pid for pid, name in descendants(guarded.proc.pid) if name == "bwrap"]
    assert houses, "the server runs no sandbox house"
    os.kill(houses[0], signal.SIGKILL)
    deadline = time.monotonic() + 20
    while guarded.metric("oorl_sandbox_slot_restarts_total") < 1:
        assert time.monotonic() < deadline, "the crashed slot was not restarted"
        time.sleep(0.1)
    assert guarded.get("/readyz").status_code == 200
    assert (
        guarded.post("/v1/run", json={"language": "python", "code": "print(1)"}).json()["verdict"]
        == "accepted"
    )
    metrics = guarded.get("/metrics").text
    for name in (
        "oorl_sandbox_queue_depth",
        "oorl_sandbox_request_seconds_bucket",
        "oorl_sandbox_verdicts_total",
    ):
        assert name in metrics


def test_a_slot_that_crashes_mid_run_judges_the_program_again(guarded):
    restarts = guarded.metric("oorl_sandbox_slot_restarts_total")
    answers = []
    running = threading.Thread(
        target=lambda: answers.append(
            guarded.post("/v1/run", json={"language": "bash", "code": "sleep 1.5; echo done"}).json()
        )
    )
    running.start()
    deadline = time.monotonic() + 20
    while guarded.metric("oorl_sandbox_in_flight") < 1:
        assert time.monotonic() < deadline, "the run never started"
        time.sleep(0.02)
    time.sleep(0.5)  # inside the run now
    houses = [pid for pid, name in descendants(guarded.proc.pid) if name == "bwrap"]
    os.kill(houses[0], signal.SIGKILL)
    running.join(timeout=60)
    assert answers and answers[0]["verdict"] == "accepted", answers
    assert answers[0]["tests"][0]["stdout"] == "done\n"
    assert guarded.metric("oorl_sandbox_slot_restarts_total") == restarts + 1
