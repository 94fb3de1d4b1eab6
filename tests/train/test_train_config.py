import subprocess
import sys
from pathlib import Path

import pytest

from oorl.config import ConfigError, TrainConfig, apply_overrides, dump_config, load_config
from oorl.train.demo import demo_config

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "configs").glob("*.yaml"))


def test_every_shipped_recipe_is_found():
    names = {p.name for p in SHIPPED}
    assert {
        "tiny_cpu.yaml",
        "paper_qwen3_8b.yaml",
        "ablation_onpolicy.yaml",
        "ablation_dpo.yaml",
        "ablation_gepo.yaml",
    } <= names


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_config_loads_and_round_trips(path, tmp_path):
    cfg = load_config(path)
    again = tmp_path / "again.yaml"
    again.write_text(dump_config(cfg))
    assert load_config(again) == cfg


def test_paper_config_has_the_papers_settings():
    cfg = load_config(ROOT / "configs" / "paper_qwen3_8b.yaml")
    assert cfg.model.name_or_path == "Qwen/Qwen3-8B"
    assert (cfg.optim.lr, cfg.optim.schedule, cfg.optim.warmup_ratio, cfg.optim.weight_decay) == (
        5e-7,
        "cosine",
        0.03,
        0.0,
    )
    assert cfg.rollout.prompts_per_step == 8
    assert cfg.data.max_prompt_tokens + cfg.rollout.max_new_tokens == 8192
    assert cfg.onpolicy.estimator == "reinforce_pp"
    assert (cfg.preference.kind, cfg.preference.weight, cfg.preference.lam, cfg.onpolicy.weight) == (
        "gepo",
        0.01,
        1.0,
        1.0,
    )


def test_paper_scale_ablations_differ_in_the_preference_kind():
    """One `oorl train` job per row of Table 4 on a cluster (on one machine, `oorl ablate` makes
    the rows from any config)."""
    kinds = {}
    for name in ("onpolicy", "dpo", "gepo"):
        cfg = load_config(ROOT / "configs" / f"ablation_{name}.yaml")
        kinds[name] = cfg.preference.kind
        assert cfg.onpolicy.enabled and cfg.model.name_or_path == "Qwen/Qwen3-8B"
    assert kinds == {"onpolicy": "none", "dpo": "dpo", "gepo": "gepo"}


def test_the_demo_defaults_live_in_one_file():
    """configs/tiny_cpu.yaml is the packaged file `oorl demo` reads, not a copy of it."""
    from oorl.train.data import bundled_path

    assert (ROOT / "configs" / "tiny_cpu.yaml").resolve() == bundled_path(
        "configs", "tiny_cpu.yaml"
    ).resolve()
    assert demo_config(["steps=7"]).steps == 7 and demo_config().out == "runs/demo"


def test_paper_deepspeed_config_is_zero2_with_cpu_offload_and_bf16(tmp_path):
    """The DeepSpeed config the paper recipe hands to deepspeed.initialize, with a user file's
    extra settings merged under ours."""
    import json

    from oorl.train.engine import deepspeed_config

    extra = tmp_path / "ds.json"
    extra.write_text(json.dumps({"zero_optimization": {"stage": 3, "reduce_bucket_size": 5e8}, "foo": 1}))
    cfg = load_config(ROOT / "configs" / "paper_qwen3_8b.yaml", [f"train.deepspeed_config={extra}"])
    ds = deepspeed_config(cfg, "cuda")
    assert ds["zero_optimization"]["stage"] == 2  # ours wins over the file's
    assert ds["zero_optimization"]["offload_optimizer"] == {"device": "cpu", "pin_memory": True}
    assert ds["zero_optimization"]["reduce_bucket_size"] == 5e8 and ds["foo"] == 1
    assert ds["bf16"] == {"enabled": True} and ds["gradient_clipping"] == 1.0
    assert (cfg.model.dtype, cfg.model.master_dtype, cfg.checkpoint.export_dtype) == (
        "bfloat16",
        "float32",
        "bfloat16",
    )
    assert cfg.model.chat_template_kwargs == {"enable_thinking": False}


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (
            [
                "preference.memory_light=true",
                "model.name_or_path=x",
                "model.lora.enabled=true",
                "model.lora.dropout=0.1",
            ],
            "deterministic",
        ),
        (["model.dtype=bfloat16", "model.master_dtype=float16"], "master_dtype"),
        (["model.dtype=float16"], "loss scaling"),
        (
            ["train.engine=deepspeed", "model.dtype=bfloat16", "model.master_dtype=bfloat16"],
            "float32 masters",
        ),
        (["train.engine=fsdp", "model.name_or_path=x", "model.lora.enabled=true"], "engine ddp"),
    ],
)
def test_inconsistent_settings_are_refused(sets, message):
    with pytest.raises(ConfigError, match=message):
        load_config(None, sets)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("rollout:\n  group_size: 0\n", "rollout.group_size"),
        ("optim:\n  lrr: 0.1\n", "optim.lrr"),
        ("preference:\n  kind: ipo\n", "preference.kind"),
        ("data:\n  target_langs: [python, klingon]\n", "data"),
        ("onpolicy:\n  estimator: grpo\nrollout:\n  group_size: 1\n", "group_size"),
    ],
)
def test_a_bad_field_is_named(tmp_path, text, field):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert field in str(e.value) and str(path) in str(e.value)


def test_unknown_language_lists_the_known_ones(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("data:\n  target_langs: [klingon]\n")
    with pytest.raises(ConfigError, match="known languages: python"):
        load_config(path)


def test_overrides_are_typed_and_nested():
    data = apply_overrides(
        {"optim": {"lr": 1.0}}, ["optim.lr=1e-5", "rollout.group_size=8", "data.target_langs=[php]"]
    )
    cfg = TrainConfig.model_validate(data)
    assert cfg.optim.lr == 1e-5 and cfg.rollout.group_size == 8 and cfg.data.target_langs == ["php"]
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        apply_overrides({}, ["optim.lr"])


def test_cli_rejects_a_bad_config_before_loading_any_model(tmp_path):
    bad = tmp_path / "bad.yaml"
    out = tmp_path / "run"
    bad.write_text(f"out: {out}\nmodel:\n  name_or_path: /nonexistent/model\noptim:\n  max_grad_norm: -1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "oorl.train.cli", "train", "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "optim.max_grad_norm" in proc.stderr
    assert not out.exists()  # nothing was set up: the model path was never touched
    assert "Traceback" not in proc.stderr


TINY = sorted(p for p in SHIPPED if p.name == "tiny_cpu.yaml" or p.name.endswith("_tiny.yaml"))


@pytest.mark.sandbox
@pytest.mark.slow
@pytest.mark.parametrize("path", TINY, ids=lambda p: p.name)
def test_tiny_config_runs_two_steps(path, tmp_path, tiny_model_dir, data_dir):
    """Each CPU recipe trains for 2 steps as shipped (short completions from the test's tiny model,
    and IR groups its tokenizer was built on: the shipped groups need the recipe's own tokenizer)."""
    import json

    import torch

    from oorl.train.run import run_training

    torch.set_num_threads(1)
    cfg = load_config(
        path,
        [
            f"out={tmp_path / 'run'}",
            "steps=2",
            "rollout.max_new_tokens=12",
            "log.progress=false",
            "log.tensorboard=false",
            "checkpoint.every=100",
            f"data.ir_groups={data_dir / 'groups.jsonl'}",
        ],
    )
    result = run_training(cfg, model_path=str(tiny_model_dir))
    assert result.steps_done == 2 and not result.interrupted
    rows = [json.loads(x) for x in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == [1, 2]
    kind = cfg.preference.kind
    assert all(("policy_loss" in r) and ((f"{kind}_loss" in r) == (kind != "none")) for r in rows)
