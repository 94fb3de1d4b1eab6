"""Every command that judges can judge on sandbox servers: the trainer through its config, the IR
builder and evaluation through OORL_SANDBOX_URLS / OORL_SANDBOX_TOKEN_FILE."""

from __future__ import annotations

import json

import pytest
from servers import Server
from typer.testing import CliRunner

from oorl.cli import app
from oorl.config import load_config
from oorl.sandbox import RemoteSandbox, Sandbox, open_sandbox

pytestmark = pytest.mark.sandbox


def test_the_trainer_config_chooses_local_or_remote(tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    remote = load_config(None, ["sandbox.urls=[http://127.0.0.1:9]", f"sandbox.token_file={token}"])
    with open_sandbox(remote.sandbox) as sb:
        assert isinstance(sb, RemoteSandbox)
    with open_sandbox(load_config(None, []).sandbox, workers=1) as sb:
        assert isinstance(sb, Sandbox)


def test_eval_judges_on_the_server_in_the_environment(tmp_path, monkeypatch):
    with Server(token="t0ken") as server:
        (tmp_path / "token").write_text("t0ken\n")
        monkeypatch.setenv("OORL_SANDBOX_URLS", server.url)
        monkeypatch.setenv("OORL_SANDBOX_TOKEN_FILE", str(tmp_path / "token"))
        out = tmp_path / "eval"
        args = ["--bench", "humaneval-x", "--langs", "python", "--backend", "reference", "--limit", "3"]
        result = CliRunner().invoke(app, ["eval", *args, "--out", str(out)])
        assert result.exit_code == 0, result.output
        assert json.loads((out / "summary.json").read_text())["pass_at_k"]["1"] == {"python": 1.0}
        assert server.metric('oorl_sandbox_verdicts_total{language="python",verdict="accepted"}') == 3
