import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

pytestmark = [pytest.mark.slow]

WORKER = Path(__file__).with_name("ddp_worker.py")
COMPARED = (
    "policy_loss",
    "gepo_loss",
    "gepo_margin",
    "grad_norm",
    "reward",
    "kl",
    "format_rate",
    "clip_frac",
)


def _run(cmd, tmp_path):
    # a crashed rank dumps every thread's Python stack, so a failure says where it happened
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]


def test_two_ranks_equal_one_rank_with_the_same_global_batch(data_dir, tiny_model_dir, tmp_path):
    """torchrun with gloo: global advantage whitening, global token / group normalisers and summed
    gradients make 2 ranks x 2 prompts the same update as 1 rank x 4 prompts."""
    args = [str(WORKER), str(tmp_path), str(data_dir), str(tiny_model_dir)]
    _run([sys.executable, *args], tmp_path)
    _run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node",
            "2",
            *args,
        ],
        tmp_path,
    )
    one = torch.load(tmp_path / "world1-rank0.pt")
    r0, r1 = torch.load(tmp_path / "world2-rank0.pt"), torch.load(tmp_path / "world2-rank1.pt")
    for step, (a, b) in enumerate(zip(one["metrics"], r0["metrics"], strict=True)):
        for key in COMPARED:
            assert abs(a[key] - b[key]) <= 1e-5 + 1e-4 * abs(a[key]), (step, key, a[key], b[key])
    assert one["metrics"][-1]["grad_norm"] > 0
    for name, w in one["state"].items():
        torch.testing.assert_close(r0["state"][name], w, atol=1e-6, rtol=1e-5, msg=name)
        torch.testing.assert_close(r1["state"][name], r0["state"][name], atol=0, rtol=0, msg=name)
    initial = load_file(str(tiny_model_dir / "model.safetensors"))
    assert any(not torch.allclose(one["state"][k], initial[k]) for k in initial)  # the update did something
