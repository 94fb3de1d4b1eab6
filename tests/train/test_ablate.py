"""`oorl ablate`: variants, statistics, the summary's shape, resuming per cell, and the real --quick run."""

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oorl.train import ablate
from oorl.train.ablate import AblationError, run_ablation, t_interval, variant_overrides
from oorl.train.demo import demo_config


def test_variants_name_what_trains_after_sft():
    assert variant_overrides("sft") is None
    assert variant_overrides("onpolicy") == ["onpolicy.enabled=True", "preference.kind=none"]
    assert variant_overrides("onpolicy+dpo") == ["onpolicy.enabled=True", "preference.kind=dpo"]
    assert variant_overrides("onpolicy+gepo") == ["onpolicy.enabled=True", "preference.kind=gepo"]
    assert variant_overrides("gepo") == ["onpolicy.enabled=False", "preference.kind=gepo"]
    for bad in ("ppo", "onpolicy+onpolicy", "dpo+gepo", "sft+gepo"):
        with pytest.raises(AblationError, match="onpolicy\\+gepo"):
            variant_overrides(bad)


def test_t_interval_by_hand():
    lo, hi = t_interval([1.0, 2.0, 3.0])  # mean 2, sd 1, t(0.975, 2 df) = 4.303
    assert (lo + hi) / 2 == pytest.approx(2.0) and (hi - lo) / 2 == pytest.approx(4.303 / math.sqrt(3))
    assert t_interval([0.4]) is None
    assert t_interval([0.5, 0.5]) == (0.5, 0.5)


def test_report_names_the_on_policy_rows_after_the_estimator(tmp_path, monkeypatch):
    from oorl.algos import ADVANTAGE_ESTIMATORS, ESTIMATOR_NAMES

    assert set(ESTIMATOR_NAMES) == set(ADVANTAGE_ESTIMATORS)
    monkeypatch.setattr(ablate, "run_job", _fake_run_job([]))
    cfg = demo_config(["onpolicy.estimator=rloo", "optim.lr=3e-4"])
    run_ablation(
        cfg, tmp_path, variants=["sft", "onpolicy", "onpolicy+gepo"], seeds=[0, 1], echo=lambda *_: None
    )
    report = (tmp_path / "report.md").read_text()
    assert "| + RLOO + GEPO (OORL) | 0.240 ± " in report and "GRPO" not in report
    assert "RLOO at lr 0.0003" in report


SCORES = {  # (variant, seed) -> pass@1, IR pair accuracy
    ("sft", 0): (0.10, 0.5),
    ("sft", 1): (0.20, 0.5),
    ("sft", 2): (0.15, 0.5),
    ("onpolicy", 0): (0.20, 0.50),
    ("onpolicy", 1): (0.25, 0.52),
    ("onpolicy", 2): (0.30, 0.48),
    ("onpolicy+gepo", 0): (0.22, 0.60),
    ("onpolicy+gepo", 1): (0.26, 0.63),
    ("onpolicy+gepo", 2): (0.33, 0.61),
}


def _fake_run_job(calls):
    def run_job(job):
        variant = job.variant or "sft"
        calls.append((variant, job.seed))
        p, acc = SCORES[(variant, job.seed)]
        scores = {
            "pass_at_1": p,
            "greedy_pass_at_1": p / 2,
            "per_language": {"javascript": p},
            "greedy_per_language": {"javascript": p / 2},
            "ir_pair_accuracy": acc,
            "ir_group_accuracy": acc,
            "ir_margin": acc - 0.5,
        }
        record = {
            "variant": variant,
            "seed": job.seed,
            "scores": scores,
            "eval": job.config["eval"],
            "train_s": 1.0,
            "eval_s": 1.0,
            "heldout_tasks": 9,
        }
        path = ablate.result_path(ablate.Path(job.root), variant, job.seed)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
        return record

    return run_job


def test_plot_contrasts_are_the_reports_paired_comparisons():
    def shaped(*variants):
        return {"variants": dict.fromkeys(variants, {})}

    full = ablate.contrasts(shaped("sft", "onpolicy", "onpolicy+dpo", "onpolicy+gepo"))
    assert [(v, against) for v, against, _ in full] == [
        ("onpolicy", "sft"),
        ("onpolicy+dpo", "sft"),
        ("onpolicy+gepo", "sft"),
        ("onpolicy+dpo", "onpolicy"),
        ("onpolicy+gepo", "onpolicy"),
    ]
    assert full[-1][2] == "onpolicy+\ngepo\n− onpolicy"
    assert [(v, a) for v, a, _ in ablate.contrasts(shaped("onpolicy", "onpolicy+gepo"))] == [
        ("onpolicy+gepo", "onpolicy")
    ]
    assert ablate.contrasts(shaped("sft")) == []


def test_summary_shape_paired_intervals_and_resume(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(ablate, "run_job", _fake_run_job(calls))
    variants, seeds = ["sft", "onpolicy", "onpolicy+gepo"], [0, 1, 2]
    cfg = demo_config()
    summary = run_ablation(cfg, tmp_path, variants=variants, seeds=seeds, echo=lambda *_: None)
    assert sorted(calls) == sorted(SCORES)  # SFT once per seed, then every cell once

    on = summary["variants"]["onpolicy"]
    assert set(on) == {"seeds", "mean", "ci95"} and set(on["seeds"]) == {"0", "1", "2"}
    assert on["mean"]["pass_at_1"] == pytest.approx(0.25)
    assert on["ci95"]["pass_at_1"] == pytest.approx(list(t_interval([0.20, 0.25, 0.30])))
    # paired by seed: gepo - onpolicy = +0.02, +0.01, +0.03 on pass@1; +0.10, +0.11, +0.13 on IR
    paired = summary["paired_vs_onpolicy"]["onpolicy+gepo"]
    assert paired["pass_at_1"] == pytest.approx(list(t_interval([0.02, 0.01, 0.03])))
    assert paired["ir_pair_accuracy"][0] > 0  # the interval excludes 0
    assert summary["paired_vs_sft"]["onpolicy+gepo"]["pass_at_1"] == pytest.approx(
        list(t_interval([0.12, 0.06, 0.18]))
    )
    assert "onpolicy" not in summary["paired_vs_onpolicy"]
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["variants"]["sft"]["seeds"]["1"]["pass_at_1"] == 0.20
    report = (tmp_path / "report.md").read_text()
    assert "| + Dr. GRPO + GEPO (OORL) | 0.270 ± " in report and "| base (SFT) |" in report
    assert "+0.020 [" in report and (tmp_path / "ablation.png").stat().st_size > 10_000

    # a killed ablation: two cells lost their results; only those are redone
    ablate.result_path(tmp_path, "onpolicy", 1).unlink()
    ablate.result_path(tmp_path, "sft", 2).unlink()
    calls.clear()
    again = run_ablation(cfg, tmp_path, variants=variants, seeds=seeds, echo=lambda *_: None)
    assert sorted(calls) == [("onpolicy", 1), ("sft", 2)]
    assert again["variants"] == summary["variants"]

    with pytest.raises(AblationError, match="another config"):
        run_ablation(demo_config(["steps=7"]), tmp_path, variants=variants, seeds=seeds, echo=lambda *_: None)

    # other evaluation settings: every cell is scored again (run_job skips training for those)
    calls.clear()
    said = []
    run_ablation(
        demo_config(["eval.ir_groups=7"]), tmp_path, variants=variants, seeds=seeds, echo=said.append
    )
    assert sorted(calls) == sorted(SCORES)
    assert "to do: 3 SFT, 6 cells; 9 of these trained already and are only scored again" in said[0]
    assert "ir_groups: 7" in (tmp_path / "config.yaml").read_text()


def test_one_ablation_per_folder(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(ablate, "run_job", _fake_run_job(calls))

    def run():
        run_ablation(
            demo_config(), tmp_path, variants=["sft", "onpolicy"], seeds=[0, 1], echo=lambda *_: None
        )

    other = ablate._lock_folder(tmp_path)  # as another ablation process holds it
    with pytest.raises(AblationError, match=f"another ablation is running in .* \\(pid {os.getpid()}\\)"):
        run()
    assert calls == [] and not (tmp_path / "config.yaml").exists()
    other.close()
    run()
    assert sorted(calls) == [("onpolicy", 0), ("onpolicy", 1), ("sft", 0), ("sft", 1)]
    run()  # the lock went with the run that held it
    assert len(calls) == 4


_HANGING_ABLATION = """
import os, signal, sys, time
from pathlib import Path
from oorl.train import ablate
from oorl.train.demo import demo_config

def hang(job):
    signal.signal(signal.SIGTERM, lambda *_: None)  # as an OORL cell's clean-stop handler takes it
    Path(sys.argv[1], f"{os.getpid()}.pid").write_text("")
    time.sleep(300)

if __name__ == "__main__":
    ablate.run_job = hang
    ablate.run_ablation(demo_config(), sys.argv[2], variants=["sft"], seeds=[0, 1], jobs=2)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def test_a_killed_ablation_takes_its_running_cells_with_it(tmp_path):
    """Orphaned cells would run on beside the same cells restarted by the next run, in one folder."""
    script, pids = tmp_path / "hang.py", tmp_path / "pids"
    script.write_text(_HANGING_ABLATION)
    pids.mkdir()
    parent = subprocess.Popen([sys.executable, str(script), str(pids), str(tmp_path / "abl")])
    try:
        deadline = time.monotonic() + 120
        while len(list(pids.iterdir())) < 2 and parent.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        cells = [int(p.stem) for p in pids.iterdir()]
        assert len(cells) == 2 and all(map(_alive, cells))
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 30
    while any(map(_alive, cells)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(map(_alive, cells))


@pytest.mark.sandbox
@pytest.mark.slow
def test_quick_ablation_end_to_end(tmp_path):
    out = tmp_path / "abl"
    cmd = [
        sys.executable,
        "-m",
        "oorl.train.cli",
        "ablate",
        "--quick",
        "--out",
        str(out),
        "--set",
        "log.progress=false",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # two cells at a time, each in its own process (the --jobs path); each seed's SFT comes first
    proc = subprocess.run([*cmd, "--jobs", "2"], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert list(summary["variants"]) == ["sft", "onpolicy", "onpolicy+dpo", "onpolicy+gepo"]
    for name, row in summary["variants"].items():
        assert set(row["seeds"]) == {"0", "1"}, name
        for seed in row["seeds"].values():
            assert 0.0 <= seed["pass_at_1"] <= 1.0 and 0.0 <= seed["greedy_pass_at_1"] <= 1.0
            assert 0.0 <= seed["ir_pair_accuracy"] <= 1.0 and seed["ir_pairs"] > 0
        lo, hi = row["ci95"]["pass_at_1"]
        assert lo <= row["mean"]["pass_at_1"] <= hi
    # the SFT model is its own reference: exactly chance on the IR pairs
    assert all(s["ir_pair_accuracy"] == 0.5 for s in summary["variants"]["sft"]["seeds"].values())
    assert set(summary["paired_vs_onpolicy"]) == {"sft", "onpolicy+dpo", "onpolicy+gepo"}
    assert len(summary["paired_vs_onpolicy"]["onpolicy+gepo"]["ir_pair_accuracy"]) == 2
    assert "| + Dr. GRPO + DPO |" in (out / "report.md").read_text()
    assert (out / "ablation.png").stat().st_size > 10_000
    # every cell trained from its seed's SFT model, with the variant's loss only
    metrics = (out / "seed-1" / "onpolicy+gepo" / "metrics.jsonl").read_text()
    assert "gepo_loss" in metrics and "grad_norm_preference" in metrics
    assert "gepo_loss" not in (out / "seed-1" / "onpolicy" / "metrics.jsonl").read_text()
    # other evaluation settings, one cell at a time: every cell is scored again, none trained again
    weights = out / "seed-1" / "onpolicy+gepo" / "final-model" / "model.safetensors"
    exported = weights.stat().st_mtime_ns
    trained = json.loads((out / "seed-1" / "onpolicy+gepo" / "result.json").read_text())["train_s"]
    rescore = [*cmd, "--set", "eval.ir_groups=3"]
    proc = subprocess.run(rescore, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    assert "to do: 2 SFT, 6 cells; 8 of these trained already" in proc.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert {s["ir_groups"] for row in summary["variants"].values() for s in row["seeds"].values()} == {3}
    assert weights.stat().st_mtime_ns == exported
    assert json.loads((out / "seed-1" / "onpolicy+gepo" / "result.json").read_text())["train_s"] == trained
    # and once more: nothing is redone
    proc = subprocess.run(rescore, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0 and "to do: 0 SFT, 0 cells" in proc.stdout, proc.stdout + proc.stderr[-2000:]
