"""The sharded engines against plain data parallelism, on CPU ranks (gloo), and their exact resume.

Tolerance. Every engine computes the same float32 arithmetic, but in a different order: FSDP
reduce-scatters gradients of flat shards and averages (we scale the loss by the world size to
keep sums), DeepSpeed reduces flat buckets and clips with its own norm. The differences start at
float32 rounding (~1e-7 relative) and AdamW then divides each gradient by its running RMS, so a
rounding-level difference in a near-zero gradient moves that weight by up to about lr * 1e-4 per
step (eps = 1e-3 bounds the amplification). Over 3 steps at lr 1e-3: weights agree to 1e-5 and
metrics to 1e-4 relative, while the update itself moves weights by ~3e-3 (checked below), so a
wrong reduction (a missing or doubled rank, a gradient left out) fails by orders of magnitude.
Resume is exact: the same engine restarted from its checkpoint gives bit-identical weights.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

pytestmark = pytest.mark.slow  # whole training runs (minutes on 2 shared cores)

WORKER = Path(__file__).with_name("engine_worker.py")
# what a process measures of itself (a resumed process also loaded a checkpoint: its peak memory differs)
MEASURED = ("time_", "tokens_per_s", "gpu_peak_gib")
COMPARED = ("policy_loss", "gepo_loss", "gepo_margin", "grad_norm", "reward", "kl", "clip_frac")


def _run(cmd, cwd):
    # a crashed rank dumps every thread's Python stack, so a failure says where it happened
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONFAULTHANDLER": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-4000:]


def _torchrun(nproc: int) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc)]


@pytest.fixture(scope="module")
def ddp_reference(data_dir, tiny_model_dir, tmp_path_factory):
    """3 steps of the ddp engine in one process: the reference both sharded engines must match."""
    out = tmp_path_factory.mktemp("ddp")
    _run([sys.executable, str(WORKER), str(out), str(data_dir), str(tiny_model_dir), "ddp"], out)
    return torch.load(out / "ddp-world1.pt")


def _check(run, reference, tiny_model_dir):
    for step, (a, b) in enumerate(zip(reference["metrics"], run["metrics"], strict=True)):
        for key in COMPARED:
            assert abs(a[key] - b[key]) <= 1e-6 + 1e-4 * abs(a[key]), (step, key, a[key], b[key])
    initial = load_file(str(tiny_model_dir / "model.safetensors"))
    moved = max(float((reference["state"][k] - initial[k]).abs().max()) for k in initial)
    assert moved > 1e-3  # the update did something
    for name in initial:
        torch.testing.assert_close(run["state"][name], reference["state"][name], atol=1e-5, rtol=0, msg=name)
    _check_exact_resume(run)


def _check_exact_resume(run):
    """Bit-identical weights and the same metrics (measurements aside) for the resumed step."""
    differ = {
        (step, key): (a.get(key), b.get(key))
        for step, (a, b) in enumerate(zip(run["metrics"], run["resumed"], strict=True))
        for key in a.keys() | b.keys()
        if not key.startswith(MEASURED) and a.get(key) != b.get(key)
    }
    assert not differ, f"resumed run's metrics differ (straight, resumed): {differ}"
    moved = {
        name: float((run["resumed_state"][name] - w).abs().max())
        for name, w in run["state"].items()
        if not torch.equal(run["resumed_state"][name], w)
    }
    assert not moved, f"resumed run's weights differ (max abs): {moved}"


def test_ddp_resumes_exactly(ddp_reference):
    _check_exact_resume(ddp_reference)


def test_fsdp_over_two_ranks_matches_ddp_and_resumes_exactly(
    ddp_reference, data_dir, tiny_model_dir, tmp_path
):
    """FSDP2 `fully_shard` over 2 gloo ranks (each with 2 of the 4 prompts and 1 of the 2 IR groups)."""
    _run([*_torchrun(2), str(WORKER), str(tmp_path), str(data_dir), str(tiny_model_dir), "fsdp"], tmp_path)
    _check(torch.load(tmp_path / "fsdp-world2.pt"), ddp_reference, tiny_model_dir)


@pytest.mark.parametrize("nproc", [1, 2])
def test_deepspeed_zero2_matches_ddp_and_resumes_exactly(
    ddp_reference, data_dir, tiny_model_dir, tmp_path, nproc
):
    """DeepSpeed ZeRO-2 on its CPU accelerator, with several backward calls before each step."""
    cmd = [*_torchrun(nproc)] if nproc > 1 else [sys.executable]
    _run([*cmd, str(WORKER), str(tmp_path), str(data_dir), str(tiny_model_dir), "deepspeed"], tmp_path)
    _check(torch.load(tmp_path / f"deepspeed-world{nproc}.pt"), ddp_reference, tiny_model_dir)
