"""The SandboxFusion translation and the sandbox switch, without starting anything."""

from __future__ import annotations

import pytest

from oorl.langs import get_language
from oorl.sandbox import (
    CompileResult,
    JudgeResult,
    Limits,
    RemoteSandbox,
    SandboxSettings,
    Verdict,
    open_sandbox,
)
from oorl.sandbox.service import ServeSettings
from oorl.sandbox.service.fusion import (
    FILES_MARK,
    RunCodeRequest,
    UnsupportedRequest,
    split_fetched,
    to_fusion_response,
    to_judge_request,
)
from oorl.sandbox.types import TestResult as RunResult


def test_request_limits_come_from_sandbox_fusion_fields_over_the_server_defaults():
    defaults = Limits(time_s=5, memory_mb=512, output_mb=4)
    req = to_judge_request(
        RunCodeRequest(code="x", language="nodejs", run_timeout=2, compile_timeout=30, memory_limit_MB=256),
        defaults,
    )
    assert req.language == "javascript"
    assert (req.limits.time_s, req.limits.compile_time_s, req.limits.memory_mb, req.limits.output_mb) == (
        2,
        30,
        256,
        4,
    )
    assert req.tests[0].stdin == "" and req.tests[0].expected is None
    unset = to_judge_request(RunCodeRequest(code="x", language="python"), defaults)
    assert unset.limits.memory_mb == 512 and unset.limits.time_s == 10  # SandboxFusion's default run_timeout


def test_languages_we_lack_and_files_for_compiled_languages_are_refused():
    with pytest.raises(UnsupportedRequest, match="'lua'.*python"):
        to_judge_request(RunCodeRequest(code="x", language="lua"), Limits())
    with pytest.raises(UnsupportedRequest, match="interpreted"):
        to_judge_request(RunCodeRequest(code="int main(){}", language="cpp", files={"a": ""}), Limits())
    with pytest.raises(UnsupportedRequest, match="relative"):
        to_judge_request(RunCodeRequest(code="x", language="python", fetch_files=["../etc/passwd"]), Limits())


def _result(verdict: Verdict, exit_code: int | None, detail: str = "", stdout: str = "") -> JudgeResult:
    test = RunResult(verdict=verdict, exit_code=exit_code, stdout=stdout, detail=detail, time_s=0.1)
    return JudgeResult(
        verdict=verdict, passed=0, total=1, tests=[test], compile=CompileResult(ok=True), detail=detail
    )


def test_statuses_follow_sandbox_fusion_and_limits_are_never_success():
    python = get_language("python")
    ok = to_fusion_response(_result(Verdict.ACCEPTED, 0, stdout="hi\n"), python, "print()", fetch=False)
    assert (ok.status, ok.run_result.status, ok.run_result.return_code, ok.compile_result) == (
        "Success",
        "Finished",
        0,
        None,
    )
    # a harness marker in the output of a clean exit is still SandboxFusion's Success
    marker = to_fusion_response(_result(Verdict.WRONG_ANSWER, 0), python, "x", fetch=False)
    assert marker.status == "Success" and marker.verdict is Verdict.WRONG_ANSWER
    killed = to_fusion_response(
        _result(Verdict.RUNTIME_ERROR, None, "killed by signal SIGSEGV"), python, "x", fetch=False
    )
    assert (killed.status, killed.run_result.return_code) == ("Failed", -11)
    tle = to_fusion_response(
        _result(Verdict.TIME_LIMIT, None, "wall time exceeded 1 s"), python, "x", fetch=False
    )
    assert (tle.status, tle.run_result.status) == ("Failed", "TimeLimitExceeded")
    cut = to_fusion_response(
        _result(Verdict.OUTPUT_LIMIT, None, "output exceeded 8 MiB"), python, "x", fetch=False
    )
    assert cut.status == "Failed" and cut.verdict is Verdict.OUTPUT_LIMIT
    broken = JudgeResult(verdict=Verdict.SANDBOX_ERROR, passed=0, total=1, detail="house died")
    assert to_fusion_response(broken, python, "x", fetch=False).status == "SandboxError"


def test_compile_results_of_compiled_languages():
    cpp = get_language("cpp")
    failed = JudgeResult(
        verdict=Verdict.COMPILE_ERROR,
        passed=0,
        total=1,
        compile=CompileResult(ok=False, output="main.cpp:1: error\n[compile step exceeded 10 s]"),
    )
    response = to_fusion_response(failed, cpp, "int main(", fetch=False)
    assert response.status == "Failed" and response.run_result is None
    assert (response.compile_result.status, response.compile_result.return_code) == ("TimeLimitExceeded", 1)


def test_fetched_files_are_split_from_stdout():
    assert split_fetched(f"out\n{FILES_MARK}a.txt\taGk=\nb/c\t\n") == ("out\n", {"a.txt": "aGk=", "b/c": ""})
    assert split_fetched("no marker\n") == ("no marker\n", {})


def test_off_loopback_needs_a_token():
    with pytest.raises(ValueError, match="needs a token"):
        ServeSettings(host="0.0.0.0")
    assert ServeSettings(host="0.0.0.0", token="t").host == "0.0.0.0"


def test_open_sandbox_picks_remote_from_settings_and_environment(tmp_path, monkeypatch):
    token = tmp_path / "token"
    token.write_text("abc\n")
    with open_sandbox(SandboxSettings(urls=["http://127.0.0.1:9/"], token_file=str(token)), workers=3) as sb:
        assert isinstance(sb, RemoteSandbox)
        assert sb.urls == ["http://127.0.0.1:9"] and sb.workers == 3
        assert sb._headers["Authorization"] == "Bearer abc"
    monkeypatch.setenv("OORL_SANDBOX_URLS", "http://a:1, http://b:2")
    monkeypatch.setenv("OORL_SANDBOX_TOKEN_FILE", str(token))
    assert SandboxSettings.from_env() == SandboxSettings(
        urls=["http://a:1", "http://b:2"], token_file=str(token)
    )
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ValueError, match="no token"):
        open_sandbox(SandboxSettings(urls=["http://a:1"], token_file=str(tmp_path / "empty")))


def test_serve_refuses_a_public_address_without_a_token(tmp_path):
    from typer.testing import CliRunner

    from oorl.cli import app

    result = CliRunner().invoke(app, ["sandbox", "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "needs a token" in result.output
    (tmp_path / "empty").write_text("")
    result = CliRunner().invoke(app, ["sandbox", "serve", "--token-file", str(tmp_path / "empty")])
    assert result.exit_code == 2 and "holds no token" in result.output
