"""Typed training settings: one pydantic model per group, a doc per field, YAML as serialisation.

A recipe is one `TrainConfig`. Every field has a type, a default and a description; fixed choices are
`Literal`s; cross-field rules live in validators, so a bad file fails in `load_config` (naming the
field) before any model or dataset is touched. The YAML files in `configs/` are these models dumped.

    cfg = load_config("configs/tiny_cpu.yaml", overrides=["optim.lr=1e-4", "steps=10"])
    save_config(cfg, "run/config.yaml")
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from oorl.sandbox.remote import SandboxSettings

Dtype = Literal["float32", "bfloat16", "float16"]


class _Group(BaseModel):
    # extra="forbid": a misspelt key is an error, not a silently ignored setting.
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class LoraSettings(_Group):
    enabled: bool = Field(False, description="train LoRA adapters (peft) instead of all weights")
    r: int = Field(16, ge=1, description="LoRA rank")
    alpha: int = Field(32, ge=1, description="LoRA scaling numerator (scale = alpha / r)")
    dropout: float = Field(0.0, ge=0.0, lt=1.0, description="dropout on the LoRA input")
    target_modules: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        description="module names that get adapters",
    )


class ModelSettings(_Group):
    name_or_path: str = Field(
        "tiny", description="HF hub id or local directory; 'tiny' builds the tiny model into <out>/tiny-model"
    )
    dtype: Dtype = Field(
        "float32", description="compute dtype of the forward and backward passes, and of the reference"
    )
    master_dtype: Dtype = Field(
        "float32",
        description="dtype of the trained parameters and optimizer state (float32 masters keep small updates)",
    )
    chat_template_kwargs: dict[str, Any] = Field(
        default_factory=dict,
        description="extra arguments of every apply_chat_template call (Qwen3: {enable_thinking: false})",
    )
    gradient_checkpointing: bool = Field(
        False, description="recompute activations in backward to save memory"
    )
    lora: LoraSettings = Field(default_factory=LoraSettings, description="optional LoRA adapters")
    trust_remote_code: bool = Field(False, description="passed to from_pretrained")


class TinyModelSettings(_Group):
    """The locally built Qwen2-architecture model of the embedded default (`oorl model tiny`)."""

    vocab_size: int = Field(
        2048, ge=300, description="byte-level BPE vocabulary size (>= 256 bytes + specials)"
    )
    hidden_size: int = Field(128, ge=16, description="model width")
    num_layers: int = Field(2, ge=1, description="transformer blocks")
    num_heads: int = Field(4, ge=1, description="attention heads")
    num_kv_heads: int = Field(2, ge=1, description="key/value heads (grouped-query attention)")
    intermediate_size: int = Field(256, ge=16, description="MLP width")
    max_position: int = Field(1024, ge=64, description="longest sequence the rotary embedding plans for")

    @model_validator(mode="after")
    def _heads_divide(self) -> TinyModelSettings:
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"hidden_size {self.hidden_size} is not a multiple of num_heads {self.num_heads}"
            )
        if self.num_heads % self.num_kv_heads:
            raise ValueError(
                f"num_heads {self.num_heads} is not a multiple of num_kv_heads {self.num_kv_heads}"
            )
        return self


class SyntheticSettings(_Group):
    """Synthetic problems generated on the fly (oorl.tasks.synthetic) with these size knobs."""

    problems: int = Field(600, ge=1, description="number of problems (held-out ones included)")
    seed: int = Field(0, description="generator seed: the same seed gives the same problems")
    n_locals: int = Field(2, ge=1, le=7, description="local integer variables per program")
    n_stmts: int = Field(2, ge=1, description="top-level statements per program")
    block_stmts: int = Field(1, ge=1, description="most statements in a nested block")
    max_nesting: int = Field(1, ge=0, description="deepest nesting of if / loops")
    expr_depth: int = Field(1, ge=0, description="deepest expression tree")
    n_outputs: int = Field(1, ge=1, description="printed integers")
    n_tests: int = Field(3, ge=2, description="stdio tests per problem")
    verify: bool = Field(
        False,
        description="judge every rendering in the sandbox first (slow; the generator's tests already check renderers)",
    )


class DataSettings(_Group):
    problems: str | None = Field(None, description="problems JSONL; None = the bundled synthetic corpus")
    synthetic: SyntheticSettings | None = Field(
        None, description="generate synthetic problems instead of reading a file (problems must then be None)"
    )
    source_langs: list[str] = Field(
        default_factory=lambda: ["python", "cpp"], description="languages translated from"
    )
    target_langs: list[str] = Field(
        default_factory=lambda: ["python", "cpp", "java", "php", "bash", "javascript"],
        description="languages translated into (the paper's six training targets)",
    )
    heldout_fraction: float = Field(
        0.2, ge=0.0, lt=1.0, description="share of problems kept out for evaluation"
    )
    split_seed: int = Field(0, description="seed of the train / held-out split (a hash of the problem id)")
    sft_share: float = Field(
        1.0,
        gt=0.0,
        le=1.0,
        description="share of training problems used for SFT; below 1 the rest (disjoint) are the RL prompts",
    )
    max_prompt_tokens: int = Field(
        1024,
        ge=16,
        description="translation tasks whose rendered prompt is longer are dropped (counted in the log)",
    )
    humaneval_x: str | None = Field(
        None, description="HumanEval-X directory to add to SFT pairs; None = not used"
    )
    ir_groups: str | None = Field(
        None,
        description="IR-group JSONL; None = the bundled groups of the synthetic corpus (built when missing)",
    )
    ir_compact: bool = Field(
        False,
        description="train and evaluate on compacted IR (oorl.ir.normalize.compact_ir): no lifetime "
        "markers, alignments or pointer hints, 20-25% fewer tokens",
    )
    max_ir_tokens: int = Field(
        1024,
        ge=16,
        description="IR groups whose prompt plus longest winner or loser is longer are dropped (counted in the log)",
    )

    @model_validator(mode="after")
    def _known_languages(self) -> DataSettings:
        from oorl.langs import canonical_language

        self.__dict__["source_langs"] = [canonical_language(x) for x in self.source_langs]
        self.__dict__["target_langs"] = [canonical_language(x) for x in self.target_langs]
        if not self.source_langs or not self.target_langs:
            raise ValueError("source_langs and target_langs must not be empty")
        if self.problems is not None and self.synthetic is not None:
            raise ValueError("set either data.problems (a file) or data.synthetic (generated), not both")
        return self


class RolloutSettings(_Group):
    backend: Literal["hf", "vllm"] = Field("hf", description="generation backend (vllm: optional extra, GPU)")
    prompts_per_step: int = Field(8, ge=1, description="B: prompts per optimizer step, over all ranks")
    group_size: int = Field(4, ge=1, description="G: completions sampled per prompt")
    temperature: float = Field(
        1.0,
        gt=0.0,
        description="sampling temperature; the policy's log-probs (old, new, reference) use it too",
    )
    top_p: float = Field(1.0, gt=0.0, le=1.0, description="nucleus sampling mass")
    max_new_tokens: int = Field(1024, ge=1, description="longest completion")
    generation_batch_size: int | None = Field(
        None, ge=1, description="most sequences (prompts x samples) per generate call; None: all of a rank's"
    )
    gpu_memory_utilization: float = Field(
        0.4, gt=0.0, lt=1.0, description="vllm only: share of GPU memory the engine may take"
    )


class OnPolicySettings(_Group):
    enabled: bool = Field(True, description="train on the on-policy translation batch (L_OnP)")
    weight: float = Field(1.0, ge=0.0, description="w_rl in L = w_rl * L_OnP + w_gepo * L_GEPO")
    estimator: Literal["reinforce_pp", "reinforce_pp_baseline", "rloo", "grpo", "dr_grpo"] = Field(
        "reinforce_pp", description="advantage estimator (oorl.algos.advantages.ADVANTAGE_ESTIMATORS)"
    )
    kl_coef: float = Field(0.01, ge=0.0, description="per-token KL penalty folded into the reward")
    kl_estimator: Literal["k1", "k2", "k3"] = Field("k1", description="KL estimator of the in-reward penalty")
    clip_eps: float = Field(0.2, gt=0.0, lt=1.0, description="PPO clip range eps")
    ppo_epochs: int = Field(1, ge=1, description="passes over one rollout batch")
    mini_batches: int = Field(
        1, ge=1, description="mini-batches per pass; each is one optimizer step (so the PPO clip can act)"
    )
    micro_batch_size: int = Field(8, ge=1, description="sequences per forward/backward on a rank")
    aggregation: Literal["token-mean", "seq-mean-token-mean", "seq-mean-token-sum"] = Field(
        "token-mean", description="how the per-token loss is reduced (normalised over the whole step)"
    )


class PreferenceSettings(_Group):
    """The off-policy IR batch: GEPO (OORL), DPO on winner x loser pairs (ablation), or nothing."""

    kind: Literal["gepo", "dpo", "none"] = Field("gepo", description="paper Table 4: gepo (OORL), dpo, none")
    weight: float = Field(0.01, ge=0.0, description="w_gepo (also the DPO weight in that ablation)")
    groups_per_step: int = Field(4, ge=1, description="IR groups per optimizer step, over all ranks")
    max_winners: int = Field(4, ge=1, description="winners kept per group (memory grows with n + m)")
    max_losers: int = Field(4, ge=1, description="losers kept per group")
    beta: float = Field(0.1, gt=0.0, description="implicit-reward scale beta (DPO's usual 0.1)")
    lam: float = Field(1.0, ge=0.0, description="lambda: weight of the winner-variance term")
    variance: Literal["population", "sample"] = Field(
        "population", description="variance of the winner group"
    )
    beta_in_variance: bool = Field(
        True, description="variance of beta * r (the literal reading) rather than r"
    )
    length_normalize: bool = Field(False, description="mean instead of summed IR log-probs")
    label_smoothing: float = Field(0.0, ge=0.0, lt=0.5, description="conservative DPO eps (dpo only)")
    memory_light: bool = Field(False, description="exact GEPO gradient one sequence at a time (no n+m graph)")


class OptimSettings(_Group):
    lr: float = Field(5e-7, gt=0.0, description="peak learning rate of AdamW")
    weight_decay: float = Field(0.0, ge=0.0, description="AdamW weight decay (the paper: none)")
    betas: tuple[float, float] = Field((0.9, 0.999), description="AdamW betas")
    eps: float = Field(1e-8, gt=0.0, description="AdamW epsilon")
    schedule: Literal["cosine", "linear", "constant"] = Field("cosine", description="learning-rate schedule")
    warmup_ratio: float = Field(0.03, ge=0.0, lt=1.0, description="share of steps with linear warm-up")
    max_grad_norm: float | None = Field(1.0, gt=0.0, description="gradient clipping norm (None: off)")


class SFTSettings(_Group):
    steps: int = Field(0, ge=0, description="warm-up SFT optimizer steps before RL (0: none)")
    batch_size: int = Field(16, ge=1, description="pairs per SFT step")
    lr: float = Field(1e-5, gt=0.0, description="SFT peak learning rate")
    warmup_ratio: float = Field(0.05, ge=0.0, lt=1.0, description="SFT warm-up share")
    max_seq_len: int = Field(2048, ge=16, description="pairs longer than this (prompt + answer) are dropped")


class CheckpointSettings(_Group):
    every: int = Field(50, ge=1, description="save every this many OORL steps (and at the end)")
    keep_last: int = Field(2, ge=1, description="older step checkpoints are deleted")
    export_dtype: Dtype = Field(
        "float32", description="dtype of the weights in step checkpoints and <out>/final-model"
    )


class EngineSettings(_Group):
    """How the model is spread over ranks (oorl.train.engine)."""

    engine: Literal["ddp", "fsdp", "deepspeed"] = Field(
        "ddp", description="ddp: full replicas; fsdp: PyTorch FSDP2 fully_shard; deepspeed: ZeRO"
    )
    zero_stage: Literal[1, 2, 3] = Field(2, description="deepspeed only: ZeRO stage (the paper: 2)")
    offload_optimizer: bool = Field(
        False, description="deepspeed: optimizer state and step on the CPU (the paper); fsdp: CPUOffload"
    )
    offload_params: bool = Field(False, description="deepspeed ZeRO-3 / fsdp: parameters on the CPU")
    check_memory: bool = Field(
        True, description="on GPUs, refuse a run that `oorl plan` says does not fit, before loading weights"
    )
    deepspeed_config: str | None = Field(
        None, description="deepspeed only: a JSON file of extra settings, merged under the ones derived here"
    )


class LogSettings(_Group):
    tensorboard: bool = Field(True, description="write TensorBoard event files under <out>/tb")
    wandb: bool = Field(False, description="log to Weights & Biases (needs the wandb extra)")
    wandb_project: str = Field("oorl", description="W&B project name")
    progress: bool = Field(True, description="show rich progress bars")
    grad_norms: bool = Field(
        False,
        description="log the preference and on-policy gradients' norms and cosine apart (a gradient "
        "copy and, over ranks, a collective per step; not with deepspeed)",
    )


class EvalSettings(_Group):
    max_tasks: int = Field(64, ge=1, description="held-out translation tasks evaluated")
    n_samples: int = Field(1, ge=1, description="samples per task; 1 = greedy pass@1")
    temperature: float = Field(0.2, gt=0.0, description="sampling temperature when n_samples > 1")
    max_new_tokens: int = Field(1024, ge=1, description="longest completion at evaluation")
    batch_size: int = Field(16, ge=1, description="prompts per generate call")
    ir_groups: int = Field(
        32,
        ge=0,
        description="held-out IR groups for GEPO's pair / group accuracy (oorl.eval.ir); 0 = not measured",
    )


class TrainConfig(_Group):
    """One OORL run: `steps` OORL steps of L = w_rl * L_OnP + w_gepo * L_GEPO (paper eq. 1).

    One OORL step = one on-policy rollout batch + one IR batch. The rollout batch is learned in
    `onpolicy.ppo_epochs` passes of `onpolicy.mini_batches` mini-batches, each mini-batch one
    optimizer step (1 x 1 by default: one optimizer step per OORL step). The IR batch's gradient
    joins the first of those optimizer steps only, so every IR batch is applied once. The
    learning-rate schedule counts optimizer steps.
    """

    seed: int = Field(0, description="seed of python, numpy and torch (and sampling)")
    epochs: int = Field(1, ge=1, description="passes over the RL tasks (IR groups if on-policy is off)")
    steps: int | None = Field(
        None, ge=1, description="OORL steps; None: derived from epochs, the task count and prompts_per_step"
    )
    out: str = Field("runs/oorl", description="output folder: checkpoints, logs, report")
    threads: int | None = Field(
        None, ge=1, description="torch intra-op threads (None: leave torch's default)"
    )
    sandbox_workers: int | None = Field(
        None, ge=1, description="parallel sandbox runs per rank (None: the cores shared among a node's ranks)"
    )
    sandbox: SandboxSettings = Field(
        default_factory=SandboxSettings,
        description="judge on `oorl sandbox serve` servers (sandbox.urls, sandbox.token_file) instead of in-process",
    )
    model: ModelSettings = Field(default_factory=ModelSettings, description="policy / reference model")
    train: EngineSettings = Field(default_factory=EngineSettings, description="distribution engine")
    tiny: TinyModelSettings = Field(default_factory=TinyModelSettings, description="the built tiny model")
    data: DataSettings = Field(default_factory=DataSettings, description="translation tasks and IR groups")
    rollout: RolloutSettings = Field(default_factory=RolloutSettings, description="sampling")
    onpolicy: OnPolicySettings = Field(default_factory=OnPolicySettings, description="REINFORCE++ / PPO-clip")
    preference: PreferenceSettings = Field(default_factory=PreferenceSettings, description="GEPO / DPO")
    optim: OptimSettings = Field(default_factory=OptimSettings, description="AdamW and schedule")
    sft: SFTSettings = Field(default_factory=SFTSettings, description="warm-up SFT")
    checkpoint: CheckpointSettings = Field(default_factory=CheckpointSettings, description="saving")
    log: LogSettings = Field(default_factory=LogSettings, description="metrics sinks")
    eval: EvalSettings = Field(default_factory=EvalSettings, description="held-out pass@k")

    @model_validator(mode="after")
    def _consistent(self) -> TrainConfig:
        if not self.onpolicy.enabled and self.preference.kind == "none":
            raise ValueError("onpolicy.enabled is false and preference.kind is 'none': nothing to train")
        if self.onpolicy.estimator in ("rloo", "grpo") and self.rollout.group_size < 2:
            raise ValueError(
                f"rollout.group_size must be >= 2 for onpolicy.estimator={self.onpolicy.estimator!r}"
            )
        if self.rollout.backend == "vllm" and self.model.lora.enabled:
            raise ValueError(
                "rollout.backend='vllm' with model.lora.enabled is not supported; use backend 'hf'"
            )
        if self.model.name_or_path == "tiny" and self.model.lora.enabled:
            raise ValueError("model.lora.enabled with model.name_or_path='tiny': train the tiny model fully")
        if self.preference.kind == "dpo" and self.preference.memory_light:
            raise ValueError("preference.memory_light applies to GEPO only (preference.kind='gepo')")
        if self.preference.memory_light and self.model.lora.enabled and self.model.lora.dropout > 0:
            # its gradient is exact only if the two forward passes agree; dropout draws new masks
            raise ValueError(
                "preference.memory_light needs a deterministic forward pass: set model.lora.dropout to 0"
            )
        m = self.model
        if m.master_dtype != "float32" and m.master_dtype != m.dtype:
            raise ValueError(
                f"model.master_dtype={m.master_dtype!r} with model.dtype={m.dtype!r}: masters are float32 or the compute dtype"
            )
        if m.dtype == "float16" and m.master_dtype == "float32":
            raise ValueError("model.dtype float16 over float32 masters needs loss scaling: use bfloat16")
        if self.train.engine != "ddp" and m.lora.enabled:
            raise ValueError(f"model.lora.enabled with train.engine={self.train.engine!r}: use engine ddp")
        if self.train.engine == "deepspeed" and m.master_dtype != "float32":
            raise ValueError("train.engine deepspeed keeps float32 masters: set model.master_dtype float32")
        if self.train.engine != "deepspeed" and self.train.deepspeed_config:
            raise ValueError("train.deepspeed_config is read by train.engine=deepspeed only")
        return self

    def world_batch_check(self, world_size: int) -> None:
        """Raise when the global batch does not split evenly over `world_size` ranks."""
        rows = self.rollout.prompts_per_step // world_size * self.rollout.group_size
        if self.onpolicy.enabled and rows % self.onpolicy.mini_batches:
            raise ValueError(
                f"{rows} rollouts per rank do not split into onpolicy.mini_batches={self.onpolicy.mini_batches}"
            )
        if self.rollout.prompts_per_step % world_size:
            raise ValueError(
                f"rollout.prompts_per_step={self.rollout.prompts_per_step} does not split over {world_size} ranks"
            )
        if self.preference.kind != "none" and self.preference.groups_per_step % world_size:
            raise ValueError(
                f"preference.groups_per_step={self.preference.groups_per_step} does not split over {world_size} ranks"
            )


class ConfigError(ValueError):
    """A config file that does not parse or validate; the message names the file and each bad field."""


def _describe(e: ValidationError) -> str:
    parts = []
    for err in e.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def _parse_override(text: str) -> tuple[list[str], Any]:
    if "=" not in text:
        raise ConfigError(f"override {text!r} is not KEY=VALUE (e.g. optim.lr=1e-5)")
    key, value = text.split("=", 1)
    return key.strip().split("."), yaml.safe_load(value)


def apply_overrides(data: dict, overrides: list[str]) -> dict:
    """`["optim.lr=1e-5", "rollout.group_size=8"]` written into a nested dict (values parsed as YAML)."""
    for text in overrides:
        path, value = _parse_override(text)
        node = data
        for part in path[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {text!r}: {part!r} is not a group")
        node[path[-1]] = value
    return data


def config_from_dict(data: dict, *, source: str = "<config>") -> TrainConfig:
    """Validate a nested dict; a ValidationError becomes a ConfigError that names every bad field."""
    try:
        return TrainConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"{source}: {_describe(e)}") from None


def load_config(path: str | os.PathLike | None = None, overrides: list[str] | None = None) -> TrainConfig:
    """A `TrainConfig` from a YAML file (None: the defaults) with `KEY=VALUE` overrides applied."""
    data: dict = {}
    source = "<defaults>"
    if path is not None:
        source = str(path)
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as e:
            raise ConfigError(f"{source}: not valid YAML ({e})") from None
        except OSError as e:
            raise ConfigError(f"{source}: cannot read ({e.strerror})") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{source}: expected a mapping at the top level, got {type(data).__name__}")
    return config_from_dict(apply_overrides(data, list(overrides or [])), source=source)


def dump_config(cfg: BaseModel) -> str:
    """YAML text of a config (round-trips through `load_config`)."""
    return yaml.safe_dump(cfg.model_dump(mode="json"), sort_keys=False)


def save_config(cfg: BaseModel, path: str | os.PathLike) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dump_config(cfg), encoding="utf-8")
