"""`oorl ir build | stats | replay` through the real typer app on a two-problem fixture."""

import json

import pytest
from ir_cases import FIXTURES
from typer.testing import CliRunner

from oorl.ir.cli import app
from oorl.ir.schema import IRGroup
from oorl.jsonl import read_jsonl

pytestmark = pytest.mark.sandbox

runner = CliRunner()


def test_build_resume_stats_and_replay(tmp_path):
    out = tmp_path / "g.jsonl"
    args = ["build", "--problems", str(FIXTURES / "problems.jsonl"), "--out", str(out), "--max-losers", "2",
            "--max-winners", "3", "--workers", "2"]  # fmt: skip
    r = runner.invoke(app, args)
    assert r.exit_code == 0, r.output
    groups = read_jsonl(out, IRGroup)
    assert [g.id for g in groups] == ["fx-gcd", "fx-min3"]
    for g in groups:
        assert 2 <= len(g.winners) <= 3 and len(g.losers) == 2
        assert set(json.loads(g.model_dump_json())) == {
            "id",
            "source_lang",
            "source",
            "prompt",
            "winners",
            "losers",
            "exec",
            "provenance",
        }
    assert "built 2 groups" in r.output

    again = runner.invoke(app, args)  # resumable: nothing is rebuilt or appended
    assert again.exit_code == 0 and "built 0 groups" in again.output and "already there 2" in again.output
    assert len(out.read_text().splitlines()) == 2

    st = runner.invoke(app, ["stats", str(out)], env={"COLUMNS": "200"})
    assert st.exit_code == 0, st.output
    assert "arith_swap" in st.output and "groups 2" in st.output and "losers/group 2.0" in st.output

    ok = runner.invoke(app, ["replay", str(out)])
    assert ok.exit_code == 0, ok.output
    assert "2 groups, 4 witnesses: 0 no longer hold" in ok.output

    tampered = tmp_path / "t.jsonl"
    g = groups[0].model_copy(deep=True)
    g.losers[1].witness.expected = "not what the source prints\n"
    tampered.write_text(g.model_dump_json() + "\n")
    bad = runner.invoke(app, ["replay", str(tampered)])
    assert bad.exit_code == 1 and "FAILED fx-gcd" in bad.output and "1 no longer hold" in bad.output


def test_build_needs_sources_and_reports_bad_settings(tmp_path):
    r = runner.invoke(app, ["build", "--out", str(tmp_path / "g.jsonl")])
    assert r.exit_code != 0 and "give C files, --problems or --sltrans" in r.output
    r = runner.invoke(app, ["build", str(FIXTURES / "x.c"), "--min-losers", "9", "--max-losers", "2"])
    assert r.exit_code != 0 and "min_losers" in r.output


def test_skipped_sources_are_counted_in_a_sidecar(tmp_path):
    src = tmp_path / "broken.c"
    src.write_text("int f(int x) { return x +; }\n")
    out = tmp_path / "g.jsonl"
    r = runner.invoke(app, ["build", str(src), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "skipped: compile_error 1" in r.output and not out.exists()
    (row,) = [json.loads(line) for line in (tmp_path / "g.skipped.jsonl").read_text().splitlines()]
    assert row["id"] == "fn-broken" and row["reason"] == "compile_error" and "error" in row["detail"]
    st = runner.invoke(app, ["stats", str(out)])
    assert st.exit_code != 0 or "compile_error" in st.output
