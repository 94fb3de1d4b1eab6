import json
import os
import signal
import subprocess
import sys
import time

import pytest
from train_fakes import tiny_overrides

pytestmark = [pytest.mark.sandbox, pytest.mark.slow]

TIMING = ("time_generate", "time_sandbox", "time_logprobs", "time_train", "time_step", "tokens_per_s")


def _cmd(out, data_dir, model_dir, *extra):
    sets = [
        *tiny_overrides(data_dir, out),
        "steps=4",
        "checkpoint.every=100",
        "rollout.temperature=1.0",
        *extra,
    ]
    return [
        sys.executable,
        "-m",
        "oorl.train.cli",
        "train",
        "--model",
        str(model_dir),
        *(x for s in sets for x in ("--set", s)),
    ]


def _rows(out):
    return [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines() if x.strip()]


def _comparable(rows):
    return [{k: v for k, v in r.items() if k not in TIMING} for r in rows]


def test_sigterm_saves_and_resume_continues_exactly(data_dir, tiny_model_dir, tmp_path):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    straight = tmp_path / "straight"
    subprocess.run(
        _cmd(straight, data_dir, tiny_model_dir), check=True, capture_output=True, env=env, timeout=240
    )
    expected = _rows(straight)
    assert len(expected) == 4

    cut = tmp_path / "cut"
    proc = subprocess.Popen(
        _cmd(cut, data_dir, tiny_model_dir),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    deadline = time.monotonic() + 180
    while not ((cut / "metrics.jsonl").exists() and _rows(cut)) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr[-2000:]
    assert "interrupted, checkpoint saved" in stdout
    done = len(_rows(cut))
    assert 1 <= done < 4
    assert (cut / "checkpoints" / f"step-{done:06d}" / "trainer.pt").exists()
    assert not list((cut / "checkpoints").glob(".tmp-*"))  # the save was atomic: no leftovers

    subprocess.run(
        [*_cmd(cut, data_dir, tiny_model_dir), "--resume"],
        check=True,
        capture_output=True,
        env=env,
        timeout=240,
    )
    assert _comparable(_rows(cut)) == _comparable(expected)
