"""`oorl plan`: the memory model on the meta device, checked against DeepSpeed's own estimators."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from oorl.config import load_config
from oorl.train.plan import DoesNotFit, check_fits, model_config, model_shape, plan

ROOT = Path(__file__).resolve().parents[2]
PAPER = ROOT / "configs" / "paper_qwen3_8b.yaml"


@pytest.fixture(scope="module")
def qwen3_8b():
    return model_shape(model_config(load_config(PAPER)))


def test_qwen3_8b_has_8_19_billion_parameters(qwen3_8b):
    """Built on the meta device from the bundled config.json: no weights, no download."""
    assert qwen3_8b.parameters == pytest.approx(8.19e9, rel=2e-3)
    assert (qwen3_8b.layers, qwen3_8b.hidden, qwen3_8b.kv_heads, qwen3_8b.head_dim) == (36, 4096, 8, 128)


@pytest.mark.parametrize("gpus", [1, 4, 16])
def test_model_states_agree_with_deepspeeds_estimators(qwen3_8b, gpus):
    from deepspeed.runtime.zero.stage3 import estimate_zero3_model_states_mem_needs
    from deepspeed.runtime.zero.stage_1_and_2 import estimate_zero2_model_states_mem_needs

    P, L = qwen3_8b.parameters, qwen3_8b.largest_layer
    cfg = load_config(PAPER)
    rows = {(r["engine"], r["zero_stage"], r["offload"]): r for r in plan(cfg, gpus, 80.0, qwen3_8b)["rows"]}

    def states(key):  # GiB of parameters + gradients + optimizer: the model states
        r = rows[key]
        return r["parameters_gb"] + r["gradients_gb"] + r["optimizer_gb"]

    expected = {
        ("deepspeed", 2, "none"): estimate_zero2_model_states_mem_needs(P, gpus, cpu_offload=False)[1],
        ("deepspeed", 2, "optimizer"): estimate_zero2_model_states_mem_needs(P, gpus, cpu_offload=True)[1],
        ("deepspeed", 3, "none"): estimate_zero3_model_states_mem_needs(P, L, gpus, cpu_offload=False)[1],
        ("deepspeed", 3, "optimizer"): estimate_zero3_model_states_mem_needs(
            P, L, gpus, cpu_offload=True, cpu_offload_params=False
        )[1],
        ("deepspeed", 3, "optimizer+params"): estimate_zero3_model_states_mem_needs(
            P, L, gpus, cpu_offload=True, cpu_offload_params=True
        )[1],
    }
    for key, bytes_ in expected.items():
        assert states(key) == pytest.approx(bytes_ / 2**30, rel=0.10), key


def test_paper_run_on_4_a100s_needs_zero2_offload_not_ddp(qwen3_8b):
    rows = plan(load_config(PAPER), 4, 80.0, qwen3_8b)["rows"]
    fits = {(r["engine"], r["zero_stage"], r["offload"]): r["fits"] for r in rows}
    assert fits[("ddp", None, "none")] is False
    assert fits[("deepspeed", 2, "optimizer")] is True  # the paper's engine
    ddp = next(r for r in rows if r["engine"] == "ddp")
    assert ddp["per_gpu_gb"] > 8.19e9 * 16 / 2**30  # weights, gradients and Adam state alone


def test_kv_cache_row_is_the_configured_generation(qwen3_8b):
    """16 sequences x 8192 tokens x 36 layers x (K, V) x 8 heads x 128 x 2 bytes = 18 GiB."""
    row = plan(load_config(PAPER), 4, 80.0, qwen3_8b)["rows"][0]
    assert row["kv_cache_gb"] == pytest.approx(16 * 8192 * 36 * 2 * 8 * 128 * 2 / 2**30, abs=0.01)


def test_a_run_that_cannot_fit_is_refused_with_what_would(qwen3_8b):
    cfg = load_config(PAPER, ["train.engine=ddp"])
    with pytest.raises(DoesNotFit, match=r"ddp .*deepspeed ZeRO-2 \+ optimizer offload"):
        check_fits(cfg, 4, 80.0, qwen3_8b)
    assert check_fits(load_config(PAPER), 4, 80.0, qwen3_8b)["fits"]


def test_plan_command_prints_json():
    from oorl.train.cli import app

    result = CliRunner().invoke(
        app, ["plan", "--config", str(PAPER), "--gpus", "4", "--gpu-mem-gb", "80", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["parameters"] == pytest.approx(8.19e9, rel=2e-3)
    assert {"engine", "zero_stage", "offload", "per_gpu_gb", "fits"} <= set(data["rows"][0])
    assert any(r["engine"] == "deepspeed" and r["zero_stage"] == 2 and r["fits"] for r in data["rows"])
