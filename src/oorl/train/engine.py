"""Engines: how the policy, its optimizer and its reference are spread over the ranks.

    engine = make_engine(cfg, model, dist, total_updates)
    with engine.autocast():
        loss = ...                   # forward on engine.model
    engine.backward(loss)            # any number of times: gradients accumulate
    grad_norm = engine.step()        # (reduce,) clip, optimizer step, schedule, zero the gradients

- `ddp`: every rank holds the whole model; gradients are summed over ranks in one flat all-reduce
  per dtype at `step()`.
- `fsdp`: PyTorch FSDP2 (`fully_shard` on every decoder layer, then the root) with a
  `MixedPrecisionPolicy`: float32 shards, compute in `model.dtype`, gradients reduced in float32.
- `deepspeed`: DeepSpeed ZeRO-1/2/3 through its own engine, optimizer (and, at stage 3, parameter)
  offload to the CPU as the paper ran it; `bf16` mode when `model.dtype` is bfloat16 (float32
  masters inside DeepSpeed's optimizer).

The recipe normalises every loss by global counts (tokens, groups, pairs of the whole step) and
expects gradients *summed* over ranks. FSDP and DeepSpeed average them, so their `backward`
multiplies the loss by the world size first. Both also make every forward and backward a collective:
every rank must run the same number of them (`collective` tells the recipe to pad).

Precision: parameters and optimizer state live in `model.master_dtype` (float32 by default) and
forward passes compute in `model.dtype`: autocast (ddp), the mixed-precision policy (fsdp) or
DeepSpeed's bf16 mode. The frozen reference is a copy in the compute dtype, sharded like the policy
under fsdp and ZeRO-3.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
from pathlib import Path

import torch

from oorl.config import TrainConfig
from oorl.train.dist import Dist
from oorl.train.model import DTYPES, Reference


def make_scheduler(optimizer, kind: str, total: int, warmup_ratio: float):
    """Linear warm-up over ceil(ratio * total) steps, then cosine / linear decay to 0, or constant."""
    from transformers import get_scheduler

    name = {"cosine": "cosine", "linear": "linear", "constant": "constant_with_warmup"}[kind]
    return get_scheduler(
        name, optimizer, num_warmup_steps=math.ceil(warmup_ratio * total), num_training_steps=total
    )


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    o = cfg.optim
    return torch.optim.AdamW(params, lr=o.lr, betas=tuple(o.betas), eps=o.eps, weight_decay=o.weight_decay)


def trainable(model: torch.nn.Module) -> list[torch.nn.Parameter]:
    return [p for p in model.parameters() if p.requires_grad]


def frozen_copy(model: torch.nn.Module, dtype: torch.dtype) -> torch.nn.Module:
    ref = copy.deepcopy(model).to(dtype).eval()
    ref.requires_grad_(False)
    return ref


class Engine:
    """The ddp engine; the others override what they do differently."""

    collective = False  # True: every forward / backward is a collective (pad counts across ranks)
    sharded_params = False  # True: generate needs every rank in step (HF `synced_gpus`)

    def __init__(self, cfg: TrainConfig, model: torch.nn.Module, dist: Dist, total_updates: int):
        self.cfg, self.dist = cfg, dist
        self.device = dist.device
        self.compute_dtype = DTYPES[cfg.model.dtype]
        self.master_dtype = DTYPES[cfg.model.master_dtype]
        self.loss_factor = 1.0
        self.reference = self._make_reference(model)
        self.model = self._wrap(model)
        self.optimizer = self._make_optimizer()
        self.scheduler = self._make_scheduler(total_updates)

    # --- set-up (overridden per engine) ---------------------------------------------------------

    def _make_reference(self, model) -> Reference:
        if self.cfg.model.lora.enabled:
            return Reference(policy=model)
        return Reference(frozen=frozen_copy(model, self.compute_dtype).to(self.device))

    def _wrap(self, model):
        model = model.to(self.device, self.master_dtype)
        self.dist.broadcast_parameters(model)
        return model

    def _make_optimizer(self):
        return make_optimizer(trainable(self.model), self.cfg)

    def _make_scheduler(self, total_updates: int):
        o = self.cfg.optim
        return make_scheduler(self.optimizer, o.schedule, total_updates, o.warmup_ratio)

    @property
    def module(self) -> torch.nn.Module:
        """The HF model itself (for generate and save_pretrained)."""
        return self.model

    # --- the update -----------------------------------------------------------------------------

    def autocast(self):
        """Forward passes compute in model.dtype over parameters kept in model.master_dtype."""
        if self.compute_dtype == self.master_dtype:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.compute_dtype)

    def backward(self, loss: torch.Tensor) -> None:
        (loss * self.loss_factor).backward()

    def step(self) -> float | None:
        """Sum gradients over ranks, clip, step, advance the schedule; returns the pre-clip norm."""
        params = trainable(self.model)
        self.dist.sum_gradients(params)
        norm = None
        if self.cfg.optim.max_grad_norm is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(params, self.cfg.optim.max_grad_norm))
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return norm

    def lr(self) -> float:
        return self.scheduler.get_last_lr()[0]

    # --- diagnostics ----------------------------------------------------------------------------

    gradient_sharded = False  # True: gradient() is this rank's shard; dot products need a sum over ranks

    def gradient(self) -> torch.Tensor | None:
        """The gradient accumulated so far as one flat float32 vector, summed over ranks as `step`
        sums it (zeros for parameters without one); None where the engine keeps it to itself.
        For diagnostics only (`log.grad_norms`): it costs a copy and a collective."""
        flat = [
            (p.grad.detach() if p.grad is not None else torch.zeros_like(p)).float().reshape(-1)
            for p in trainable(self.model)
        ]
        return self.dist.all_reduce(torch.cat(flat))

    # --- checkpoints ----------------------------------------------------------------------------

    def save_state(self, folder: Path) -> None:
        """What exact resume needs beyond the exported weights (every rank calls this)."""
        if self.dist.is_main:
            masters = None
            if self.cfg.checkpoint.export_dtype != self.cfg.model.master_dtype or self.cfg.model.lora.enabled:
                masters = {k: v.detach().cpu() for k, v in self.model.state_dict().items()}
            torch.save(
                {
                    "masters": masters,
                    "optimizer": self.optimizer.state_dict(),
                    "scheduler": self.scheduler.state_dict(),
                },
                folder / "engine.pt",
            )

    def load_state(self, folder: Path) -> None:
        state = torch.load(folder / "engine.pt", weights_only=False, map_location="cpu")
        if state["masters"] is not None:
            self.model.load_state_dict(state["masters"])
        else:
            load_exported_weights(self.model, folder)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])

    def full_state_dict(self) -> dict[str, torch.Tensor] | None:
        """The whole model's weights on the main rank (None elsewhere); every rank calls this."""
        if not self.dist.is_main:
            return None
        return {k: v.detach().cpu() for k, v in self.model.state_dict().items()}


def load_exported_weights(model: torch.nn.Module, folder: Path) -> None:
    """Load `folder/model.safetensors` into `model` (tied embeddings are saved once)."""
    from safetensors.torch import load_file

    weights = load_file(str(folder / "model.safetensors"))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    if unexpected or [k for k in missing if "lm_head" not in k]:
        raise ValueError(
            f"{folder}: weights do not match the model (missing {missing}, unexpected {unexpected})"
        )


class FSDPEngine(Engine):
    """PyTorch FSDP2: parameters, gradients and optimizer state sharded over the ranks."""

    collective = True
    sharded_params = True
    gradient_sharded = True

    def _mesh(self):
        from torch.distributed.device_mesh import init_device_mesh

        return init_device_mesh(self.device.type, (self.dist.world_size,))

    def _shard(self, model, mp_policy=None):
        from torch.distributed.fsdp import CPUOffloadPolicy, MixedPrecisionPolicy, OffloadPolicy, fully_shard

        kwargs = {
            "mesh": self._mesh(),
            "mp_policy": mp_policy or MixedPrecisionPolicy(),
            "offload_policy": CPUOffloadPolicy() if self.cfg.train.offload_params else OffloadPolicy(),
        }
        for layer in decoder_layers(model):
            fully_shard(layer, **kwargs)
        fully_shard(model, **kwargs)
        return model

    def _make_reference(self, model) -> Reference:
        ref = frozen_copy(model, self.compute_dtype)
        if not self.cfg.train.offload_params:
            ref = ref.to(self.device)
        return Reference(frozen=self._shard(ref))

    def _wrap(self, model):
        from torch.distributed.fsdp import MixedPrecisionPolicy

        model = model.to(self.master_dtype)
        if not self.cfg.train.offload_params:
            model = model.to(self.device)
        self.dist.broadcast_parameters(model)
        policy = MixedPrecisionPolicy(
            param_dtype=self.compute_dtype if self.compute_dtype != self.master_dtype else None,
            reduce_dtype=torch.float32,
        )
        self.loss_factor = float(self.dist.world_size)  # FSDP averages the reduce-scatter
        return self._shard(model, policy)

    def autocast(self):
        return contextlib.nullcontext()  # the mixed-precision policy casts

    def step(self) -> float | None:
        params = trainable(self.model)
        norm = None
        if self.cfg.optim.max_grad_norm is not None:
            total = torch.nn.utils.clip_grad_norm_(params, self.cfg.optim.max_grad_norm)
            norm = float(total.full_tensor() if hasattr(total, "full_tensor") else total)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        return norm

    def gradient(self) -> torch.Tensor | None:
        """This rank's shard of the (already reduce-scattered) gradient, flat."""
        flat = [
            (p.grad.to_local() if p.grad is not None else torch.zeros_like(p.to_local()))
            .detach()
            .float()
            .reshape(-1)
            for p in trainable(self.model)
        ]
        return torch.cat(flat)

    def save_state(self, folder: Path) -> None:
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict

        model_sd, optim_sd = get_state_dict(self.model, self.optimizer)
        dcp.save({"model": model_sd, "optimizer": optim_sd}, checkpoint_id=str(folder / "engine"))
        if self.dist.is_main:
            torch.save({"scheduler": self.scheduler.state_dict()}, folder / "engine.pt")

    def load_state(self, folder: Path) -> None:
        import torch.distributed.checkpoint as dcp
        from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

        model_sd, optim_sd = get_state_dict(self.model, self.optimizer)
        state = {"model": model_sd, "optimizer": optim_sd}
        dcp.load(state, checkpoint_id=str(folder / "engine"))
        set_state_dict(
            self.model, self.optimizer, model_state_dict=state["model"], optim_state_dict=state["optimizer"]
        )
        sched = torch.load(folder / "engine.pt", weights_only=False)
        self.scheduler.load_state_dict(sched["scheduler"])

    def full_state_dict(self) -> dict[str, torch.Tensor] | None:
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        sd = get_model_state_dict(
            self.model, options=StateDictOptions(full_state_dict=True, cpu_offload=True)
        )
        return sd if self.dist.is_main else None


class DeepSpeedEngine(Engine):
    """DeepSpeed ZeRO through `deepspeed.initialize`: its engine owns reduction, clipping and the step."""

    collective = True

    def __init__(self, cfg: TrainConfig, model: torch.nn.Module, dist: Dist, total_updates: int):
        self.total_updates = total_updates
        self.sharded_params = cfg.train.zero_stage == 3
        super().__init__(cfg, model, dist, total_updates)

    def ds_config(self) -> dict:
        return deepspeed_config(self.cfg, self.device.type)

    def _make_reference(self, model) -> Reference:
        ref = frozen_copy(model, self.compute_dtype)
        if self.cfg.train.zero_stage == 3:
            import deepspeed

            config = {
                "train_micro_batch_size_per_gpu": 1,
                "zero_optimization": {"stage": 3},
                "bf16": {"enabled": self.compute_dtype == torch.bfloat16},
            }
            if self.cfg.train.offload_params:
                config["zero_optimization"]["offload_param"] = {"device": "cpu"}
            ref_engine, *_ = deepspeed.initialize(model=ref, config=config)
            return Reference(frozen=ref_engine.module)
        return Reference(frozen=ref.to(self.device))

    def _wrap(self, model):
        import deepspeed

        if self.device.type == "cpu":
            # DeepSpeed's CPU accelerator would JIT-compile a shared-memory all-reduce (g++ and
            # Python headers, minutes on a small machine) as a speed-up over the gloo group we
            # already run; CPU ranks are for tests and laptops, so gloo alone is used.
            deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
        model = model.to(self.master_dtype)
        self.dist.broadcast_parameters(model)
        params = trainable(model)
        if self.cfg.train.offload_optimizer:
            from deepspeed.ops.adam import DeepSpeedCPUAdam

            o = self.cfg.optim
            optimizer = DeepSpeedCPUAdam(
                params, lr=o.lr, betas=tuple(o.betas), eps=o.eps, weight_decay=o.weight_decay, adamw_mode=True
            )
        else:
            optimizer = make_optimizer(params, self.cfg)
        cfg = self.cfg

        def scheduler(opt):
            return make_scheduler(opt, cfg.optim.schedule, self.total_updates, cfg.optim.warmup_ratio)

        self.ds, optimizer, _, self._ds_scheduler = deepspeed.initialize(
            model=model, optimizer=optimizer, lr_scheduler=scheduler, config=self.ds_config()
        )
        self._ds_optimizer = optimizer
        self.loss_factor = float(self.dist.world_size)  # DeepSpeed averages gradients over ranks
        self.ds.set_gradient_accumulation_boundary(False)
        return self.ds

    def _make_optimizer(self):
        return self._ds_optimizer

    def _make_scheduler(self, total_updates: int):
        return self._ds_scheduler  # DeepSpeed steps the scheduler it was given

    @property
    def module(self) -> torch.nn.Module:
        return self.ds.module

    def autocast(self):
        return contextlib.nullcontext()  # DeepSpeed's bf16 mode keeps the module in bf16

    def backward(self, loss: torch.Tensor) -> None:
        self.ds.backward(loss * self.loss_factor)

    def step(self) -> float | None:
        # Close the accumulation: one backward at the boundary (of a zero loss, touching every
        # trainable parameter) makes ZeRO reduce what the earlier backward calls left pending.
        self.ds.set_gradient_accumulation_boundary(True)
        params = trainable(self.ds.module)
        self.ds.backward(sum(p.reshape(-1)[:1].sum() for p in params) * 0.0)
        self.ds.step()
        self.ds.set_gradient_accumulation_boundary(False)
        norm = self.ds.get_global_grad_norm()
        return None if norm is None or self.cfg.optim.max_grad_norm is None else float(norm)

    def gradient(self) -> torch.Tensor | None:
        return None  # ZeRO keeps partitioned gradients in its own buffers

    def lr(self) -> float:
        return self.ds.get_lr()[0]

    def save_state(self, folder: Path) -> None:
        self.ds.save_checkpoint(str(folder), tag="engine", save_latest=False)

    def load_state(self, folder: Path) -> None:
        path, _ = self.ds.load_checkpoint(
            str(folder), tag="engine", load_optimizer_states=True, load_lr_scheduler_states=True
        )
        if path is None:
            raise FileNotFoundError(f"{folder}/engine: no DeepSpeed checkpoint")
        self.ds.set_gradient_accumulation_boundary(False)

    def full_state_dict(self) -> dict[str, torch.Tensor] | None:
        from deepspeed.utils import safe_get_full_fp32_param

        module = self.ds.module
        out = {}
        for name, p in module.named_parameters(remove_duplicate=False):
            # ZeRO-1/2 keep whole parameters on every rank, but in bf16 mode the float32 masters
            # are DeepSpeed's; at stage 3 the parameters themselves are partitioned
            if p.dtype == torch.float32 and self.cfg.train.zero_stage < 3:
                full = p.detach()
            else:
                full = safe_get_full_fp32_param(p)
            if self.dist.is_main:
                out[name] = full.detach().float().cpu()
        if not self.dist.is_main:
            return None
        for name, b in module.named_buffers():
            if name in module.state_dict():
                out[name] = b.detach().cpu()
        return out


def deepspeed_config(cfg: TrainConfig, device_type: str) -> dict:
    """The DeepSpeed config of a run: ZeRO stage and offload from `train`, bf16 from `model.dtype`,
    clipping from `optim`; `train.deepspeed_config` (a JSON file) supplies anything else."""
    t, o = cfg.train, cfg.optim
    zero: dict = {"stage": t.zero_stage}
    pin = device_type == "cuda"
    if t.offload_optimizer:
        zero["offload_optimizer"] = {"device": "cpu", "pin_memory": pin}
    if t.offload_params:
        zero["offload_param"] = {"device": "cpu", "pin_memory": pin}
    ours = {
        "train_micro_batch_size_per_gpu": 1,
        # the recipe calls backward as often as a step needs and then step(); one DeepSpeed
        # "micro step" per optimizer step, with the accumulation boundary set by hand
        "gradient_accumulation_steps": 1,
        "zero_optimization": zero,
        "bf16": {"enabled": cfg.model.dtype == "bfloat16"},
        "gradient_clipping": o.max_grad_norm or 0.0,
        "zero_allow_untested_optimizer": True,
        "steps_per_print": 2**31 - 1,
        "wall_clock_breakdown": False,
    }
    base = json.loads(Path(t.deepspeed_config).read_text()) if t.deepspeed_config else {}
    return _merge(base, ours)


def _merge(base: dict, ours: dict) -> dict:
    out = dict(base)
    for k, v in ours.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def decoder_layers(model: torch.nn.Module) -> list[torch.nn.Module]:
    """The transformer blocks of an HF causal LM (`model.model.layers`), the FSDP units."""
    base = getattr(model, "model", model)
    layers = getattr(base, "layers", None)
    if layers is None:
        raise ValueError(
            f"{type(model).__name__}: no .model.layers to shard; fsdp needs a decoder-only HF model"
        )
    return list(layers)


ENGINES = {"ddp": Engine, "fsdp": FSDPEngine, "deepspeed": DeepSpeedEngine}


def make_engine(cfg: TrainConfig, model: torch.nn.Module, dist: Dist, total_updates: int) -> Engine:
    """The configured engine around `model` (loaded in master_dtype on the CPU)."""
    return ENGINES[cfg.train.engine](cfg, model, dist, total_updates)
