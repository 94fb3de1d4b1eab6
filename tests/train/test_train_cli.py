"""End-to-end through the real command line, on a model small enough for a test."""

import json
import os
import subprocess
import sys

import pytest

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

SMALL = [
    "sft.steps=3",
    "steps=2",
    "data.synthetic.problems=30",
    "data.target_langs=[javascript]",
    "eval.max_tasks=3",
    "eval.ir_groups=8",
    "eval.max_new_tokens=12",
    "rollout.max_new_tokens=12",
    "rollout.prompts_per_step=2",
    "rollout.group_size=2",
    "tiny.hidden_size=32",
    "tiny.intermediate_size=64",
    "tiny.num_heads=2",
    "tiny.num_kv_heads=1",
    "data.max_ir_tokens=2048",
    "preference.groups_per_step=1",
    "log.progress=false",
]


def _run(*args, timeout=300):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "oorl.train.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_demo_writes_the_report(tmp_path):
    out = tmp_path / "demo"
    stdout = _run("demo", "--out", str(out), *(x for s in SMALL for x in ("--set", s)))
    assert "held-out pass@1: SFT" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["heldout_pass_at_1"]) == {"sft", "oorl"} and summary["heldout_tasks"] == 3
    for stage, value in summary["heldout_pass_at_1"].items():
        # one target language, so the headline is that language's; 3 tasks x 4 samples each: a count / 12
        assert summary["heldout_per_language"][stage] == {"javascript": value}
        assert abs(value * 12 - round(value * 12)) < 1e-9, value
    assert summary["steps"] == 2 and summary["wall_s"] > 0
    # GEPO's held-out IR metrics: the SFT model is its own reference, so exactly chance before
    ir = summary["heldout_ir"]
    assert ir["sft"]["pair_accuracy"] == 0.5 and ir["sft"]["n_pairs"] > 0
    assert 0.0 <= ir["oorl"]["pair_accuracy"] <= 1.0 and ir["oorl"]["n_groups"] == ir["sft"]["n_groups"]
    rows = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2] and all("gepo_loss" in r and "reward" in r for r in rows)
    assert (out / "reward_curve.png").stat().st_size > 0
    report = (out / "report.md").read_text()
    assert "| javascript |" in report and "tiny" in report.lower() and "held-out IR groups" in report
    from oorl.algos import ESTIMATOR_NAMES
    from oorl.config import load_config

    estimator = load_config(out / "oorl" / "config.yaml").onpolicy.estimator
    assert f"({ESTIMATOR_NAMES[estimator]}, B=" in report  # the estimator that ran, by name
    assert (out / "oorl" / "final-model" / "config.json").exists()
