"""`oorl plan`: per-GPU memory of a run for each engine / ZeRO stage / offload choice, before it starts.

The model is built on the meta device from its config alone (no weights, no download; Qwen3-8B's
architecture is bundled), which gives the exact parameter count P and the shapes. Bytes per GPU,
with N GPUs, compute dtype c (2 bytes for bf16) and float32 masters:

| engine                 | parameters        | gradients        | optimizer (fp32 master, m, v) | reference |
|------------------------|-------------------|------------------|-------------------------------|-----------|
| ddp                    | 4P                | 4P               | 8P                            | cP        |
| fsdp (FSDP2)           | 4P/N + 2 layers   | 4P/N             | 8P/N                          | cP/N      |
| deepspeed ZeRO-1       | cP                | cP + 4P/N        | 12P/N                         | cP        |
| deepspeed ZeRO-2       | cP                | cP/N + 4P/N      | 12P/N                         | cP        |
|   + optimizer offload  | cP                | 0 (CPU)          | 0 (CPU)                       | cP        |
| deepspeed ZeRO-3       | cP/N + 2 layers   | cP/N             | 14P/N                         | cP/N      |
|   + optimizer offload  | cP/N + 2 layers   | 0 (CPU)          | 0 (CPU)                       | cP/N      |
|   + parameter offload  | 2 layers          | 0                | 0                             | 0         |

The model-state columns follow DeepSpeed's own estimators
(`estimate_zero2_model_states_mem_needs`: 2P + 18P/N, offloaded 2P; `..._zero3_...`: 4 x largest
layer + 18P/N, offloaded 4 x largest layer + 2P/N or 4 x largest layer), and a test checks them
against DeepSpeed's functions. Beside them:

- activations of one micro-batch of `onpolicy.micro_batch_size` sequences of prompt + completion
  length T: with gradient checkpointing one (B, T, hidden) input per layer plus one layer's
  recomputed internals, else every layer's; plus the completion logits (B, T, V) in the compute
  dtype and float32 (the log-softmax). A rough estimate (+-30%);
- the KV cache of one `generate` call: sequences x T x layers x 2 x kv_heads x head_dim x c, where
  sequences = `rollout.generation_batch_size` (default: the rank's prompts x G).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from oorl.config import TrainConfig

GIB = 2**30
BUNDLED = {"Qwen/Qwen3-8B": "qwen3-8b"}  # hub id -> bundled config.json (oorl/data/models/...)


@dataclass(frozen=True)
class Shape:
    """What the memory model needs to know about a causal LM."""

    parameters: int
    largest_layer: int  # parameters of the biggest FSDP / ZeRO-3 unit (a decoder layer or the embedding)
    layers: int
    hidden: int
    intermediate: int
    vocab: int
    kv_heads: int
    head_dim: int


@dataclass(frozen=True)
class Row:
    engine: str
    zero_stage: int | None
    offload: str  # none | optimizer | optimizer+params | params
    parameters_gb: float
    gradients_gb: float
    optimizer_gb: float
    reference_gb: float
    activations_gb: float
    kv_cache_gb: float
    per_gpu_gb: float
    fits: bool


def model_config(cfg: TrainConfig):
    """The HF config of the configured model: bundled (known hub ids), a local folder, or 'tiny'."""
    from transformers import AutoConfig

    name = cfg.model.name_or_path
    if name == "tiny":
        from oorl.train.model import tiny_config

        return tiny_config(cfg.tiny, vocab_size=cfg.tiny.vocab_size)
    if name in BUNDLED:
        from oorl.train.data import bundled_path

        return AutoConfig.from_pretrained(str(bundled_path("models", BUNDLED[name])))
    if (Path(name) / "config.json").exists():
        return AutoConfig.from_pretrained(name, trust_remote_code=cfg.model.trust_remote_code)
    raise ValueError(
        f"model.name_or_path={name!r}: no local config.json and no bundled architecture "
        f"(bundled: {', '.join(BUNDLED)}); give a local folder with the model's config.json"
    )


def model_shape(config) -> Shape:
    """Parameter counts from the model built on the meta device (no memory, no weights)."""
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):
        model = AutoModelForCausalLM.from_config(config)
    parameters = sum(p.numel() for p in model.parameters())
    units = [sum(p.numel() for p in layer.parameters()) for layer in model.model.layers]
    units.append(model.get_input_embeddings().weight.numel())
    heads = config.num_attention_heads
    return Shape(
        parameters=parameters,
        largest_layer=max(units),
        layers=config.num_hidden_layers,
        hidden=config.hidden_size,
        intermediate=config.intermediate_size,
        vocab=config.vocab_size,
        kv_heads=getattr(config, "num_key_value_heads", None) or heads,
        head_dim=getattr(config, "head_dim", None) or config.hidden_size // heads,
    )


def model_states(engine: str, stage: int | None, offload: str, P: int, largest: int, N: int, c: int) -> tuple:
    """(parameters, gradients, optimizer, reference) bytes per GPU; see the module docstring."""
    if engine == "ddp":
        return 4 * P, 4 * P, 8 * P, c * P
    if engine == "fsdp":
        gathered = 2 * c * largest  # the unit being computed and the one prefetched
        if offload == "params":
            return gathered, 0, 0, 0
        return 4 * P / N + gathered, 4 * P / N, 8 * P / N, c * P / N
    if stage in (1, 2):
        if offload == "optimizer":
            return c * P, 0, 0, c * P
        # ZeRO-1 keeps whole 16-bit gradients, ZeRO-2 partitions them; both add a float32 partition
        grads16 = c * P if stage == 1 else c * P / N
        return c * P, grads16 + 4 * P / N, 12 * P / N, c * P
    gathered = 2 * c * largest
    if offload == "optimizer+params":
        return gathered, 0, 0, 0
    if offload == "optimizer":
        return c * P / N + gathered, 0, 0, c * P / N
    return c * P / N + gathered, c * P / N, 14 * P / N, c * P / N


def activations(cfg: TrainConfig, s: Shape, c: int) -> float:
    B = cfg.onpolicy.micro_batch_size
    T = cfg.data.max_prompt_tokens + cfg.rollout.max_new_tokens
    C = cfg.rollout.max_new_tokens
    # one decoder layer's internals: attention projections, MLP (gate, up, act), norms, residuals
    per_layer = B * T * (10 * s.hidden + 3 * s.intermediate) * c
    kept = (
        s.layers * B * T * s.hidden * c + per_layer
        if cfg.model.gradient_checkpointing
        else s.layers * per_layer
    )
    logits = B * (C + 1) * s.vocab * (c + 4)
    return kept + logits


def kv_cache(cfg: TrainConfig, s: Shape, N: int, c: int) -> float:
    sequences = cfg.rollout.generation_batch_size or (
        max(1, cfg.rollout.prompts_per_step // N) * cfg.rollout.group_size
    )
    T = cfg.data.max_prompt_tokens + cfg.rollout.max_new_tokens
    return sequences * T * s.layers * 2 * s.kv_heads * s.head_dim * c


CHOICES = [
    ("ddp", None, "none"),
    ("fsdp", None, "none"),
    ("fsdp", None, "params"),
    ("deepspeed", 1, "none"),
    ("deepspeed", 2, "none"),
    ("deepspeed", 2, "optimizer"),
    ("deepspeed", 3, "none"),
    ("deepspeed", 3, "optimizer"),
    ("deepspeed", 3, "optimizer+params"),
]


def plan(cfg: TrainConfig, gpus: int, gpu_mem_gb: float, shape: Shape | None = None) -> dict:
    """`{"parameters": P, "rows": [Row as a dict, ...]}` for every engine choice."""
    s = shape or model_shape(model_config(cfg))
    c = {"float32": 4, "bfloat16": 2, "float16": 2}[cfg.model.dtype]
    act, kv = activations(cfg, s, c), kv_cache(cfg, s, gpus, c)
    rows = []
    for engine, stage, offload in CHOICES:
        states = model_states(engine, stage, offload, s.parameters, s.largest_layer, gpus, c)
        total = sum(states) + act + kv
        gb = [x / GIB for x in (*states, act, kv, total)]
        rows.append(
            asdict(Row(engine, stage, offload, *[round(x, 2) for x in gb], fits=total / GIB <= gpu_mem_gb))
        )
    return {"parameters": s.parameters, "gpus": gpus, "gpu_mem_gb": gpu_mem_gb, "rows": rows}


def configured_row(cfg: TrainConfig, result: dict) -> dict:
    """The row of the engine the config chose."""
    t = cfg.train
    if t.engine == "ddp":
        key = ("ddp", None, "none")
    elif t.engine == "fsdp":
        key = ("fsdp", None, "params" if t.offload_params else "none")
    else:
        offload = "+".join(
            x for x, on in (("optimizer", t.offload_optimizer), ("params", t.offload_params)) if on
        )
        key = ("deepspeed", t.zero_stage, offload or "none")
    for row in result["rows"]:
        if (row["engine"], row["zero_stage"], row["offload"]) == key:
            return row
    raise ValueError(f"no memory model for {key}")


class DoesNotFit(RuntimeError):
    """The configured run needs more GPU memory than there is."""


def check_fits(cfg: TrainConfig, gpus: int, gpu_mem_gb: float, shape: Shape | None = None) -> dict:
    """Raise DoesNotFit, naming the settings that would fit, when the configured engine does not."""
    result = plan(cfg, gpus, gpu_mem_gb, shape)
    row = configured_row(cfg, result)
    if not row["fits"]:
        fitting = [describe(r) for r in result["rows"] if r["fits"]]
        hint = (
            f"these fit: {'; '.join(fitting)}"
            if fitting
            else "no engine fits: use more GPUs, LoRA or shorter sequences"
        )
        raise DoesNotFit(
            f"the run needs about {row['per_gpu_gb']:.1f} GiB per GPU with {describe(row)} "
            f"(parameters {row['parameters_gb']}, gradients {row['gradients_gb']}, optimizer {row['optimizer_gb']}, "
            f"reference {row['reference_gb']}, activations {row['activations_gb']}, KV cache {row['kv_cache_gb']}) "
            f"but a GPU has {gpu_mem_gb:.1f} GiB; {hint} (`oorl plan` shows the table)"
        )
    return row


def describe(row: dict) -> str:
    text = f"deepspeed ZeRO-{row['zero_stage']}" if row["engine"] == "deepspeed" else row["engine"]
    return text + ("" if row["offload"] == "none" else f" + {row['offload']} offload")


def render(result: dict) -> str:
    """A plain-text table of `plan`'s result."""
    head = ["engine", "params", "grads", "optim", "ref", "activ", "KV", "total GiB", "fits"]
    lines = [
        f"{result['parameters'] / 1e9:.2f} B parameters; {result['gpus']} GPU(s) of {result['gpu_mem_gb']:g} GiB",
        "  ".join(f"{h:>10}" if i else f"{h:<44}" for i, h in enumerate(head)),
    ]
    for r in result["rows"]:
        cells = [
            r["parameters_gb"],
            r["gradients_gb"],
            r["optimizer_gb"],
            r["reference_gb"],
            r["activations_gb"],
            r["kv_cache_gb"],
            r["per_gpu_gb"],
        ]
        lines.append(
            f"{describe(r):<34}  "
            + "  ".join(f"{x:>10.1f}" for x in cells)
            + f"  {'yes' if r['fits'] else 'no':>10}"
        )
    return "\n".join(lines)


def to_json(result: dict) -> str:
    rows = [
        {k: r[k] for k in ("engine", "zero_stage", "offload", "per_gpu_gb", "fits")} | {"detail_gb": r}
        for r in result["rows"]
    ]
    return json.dumps({"parameters": result["parameters"], "rows": rows}, indent=2)
