"""`oorl eval` and `oorl eval compare` through the real command line."""

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from oorl.cli import app

runner = CliRunner()


def _samples(path, passes):
    path.mkdir()
    rows = [
        {"bench": "humaneval-x", "problem_id": f"HumanEval/{i}", "language": lang, "sample_index": 0}
        | {"completion": "", "verdict": "accepted" if ok else "wrong_answer", "stderr": "", "time_s": 0.1}
        for lang, oks in passes.items()
        for i, ok in enumerate(oks)
    ]
    (path / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_compare_prints_and_writes_the_deltas(tmp_path):
    a = _samples(tmp_path / "a", {"go": [False] * 40, "cpp": [True] * 40})
    b = _samples(tmp_path / "b", {"go": [True] * 30 + [False] * 10, "cpp": [True] * 40})
    result = runner.invoke(
        app, ["eval", "compare", str(a), str(b), "--markdown", str(tmp_path / "d.md"), "--reps", "500"]
    )
    assert result.exit_code == 0, result.output
    assert "+0.750" in result.output and "*" in result.output
    md = (tmp_path / "d.md").read_text()
    assert "| go | 40 | 0.000 | 0.750 | +0.750 * |" in md and "| cpp | 40 | 1.000 | 1.000 | +0.000 |" in md


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bench", "mbpp", "--backend", "reference"], "known: multipl-e, humaneval-x"),
        (["--bench", "humaneval-x", "--langs", "cobol", "--backend", "reference"], "cobol"),
        (["--backend", "reference"], "needs --bench and --out"),
        (["--bench", "humaneval-x", "--backend", "hf"], "needs --model"),
        (["--bench", "humaneval-x", "--backend", "reference", "--n-samples", "3"], "greedy"),
        (["--bench", "humaneval-x", "--backend", "reference", "--k", "1,x"], "comma-separated integers"),
    ],
)
def test_bad_input_gets_a_clear_error(tmp_path, args, message):
    result = runner.invoke(app, ["eval", "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2 and message in result.output, result.output


def test_compare_needs_eval_folders(tmp_path):
    result = runner.invoke(app, ["eval", "compare", str(tmp_path), str(tmp_path)])
    assert result.exit_code == 2 and "oorl eval` output folder" in result.output


@pytest.mark.sandbox
def test_a_local_model_on_the_synthetic_matrix(tmp_path):
    """The hf backend end to end: a tiny model built here answers held-out synthetic translations."""
    import torch

    from oorl.config import TinyModelSettings
    from oorl.train.model import build_tiny_model

    torch.set_num_threads(1)
    model = tmp_path / "tiny"
    texts = [
        "print(int(input()) + 1)\n",
        "```javascript\nconsole.log(1);\n```\n",
        "Translate the following code.",
    ] * 20
    settings = TinyModelSettings(
        vocab_size=300, hidden_size=32, intermediate_size=64, num_heads=2, num_kv_heads=1
    )
    build_tiny_model(model, texts, settings, seed=0)
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "oorl.cli",
        "eval",
        "--model",
        str(model),
        "--bench",
        "synthetic",
        "--backend",
        "hf",
    ]
    cmd += ["--langs", "python->javascript,python->bash", "--limit", "2", "--max-new-tokens", "8"]
    cmd += ["--out", str(out), "--no-progress", "--workers", "1"]
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "OMP_NUM_THREADS": "1"}
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert (
        set(summary["pass_at_k"]["1"]) == {"python->javascript", "python->bash"} and summary["problems"] == 2
    )
    rows = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 4 and all(r["direction"] in summary["pass_at_k"]["1"] for r in rows)
    # 8 new tokens of an untrained model cannot close a fenced block: format failures, never run
    assert {r["verdict"] for r in rows} == {"format"} and summary["overall"]["1"] == 0.0
    again = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and len((out / "samples.jsonl").read_text().splitlines()) == 4
