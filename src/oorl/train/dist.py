"""Ranks and their collectives, on torch.distributed directly: one process per rank under `torchrun`
(or the `deepspeed` launcher), on one node or several.

Each rank computes on `cuda:LOCAL_RANK` with nccl when CUDA is present, else on the CPU with gloo;
every collective here moves its tensor to that device first (nccl refuses CPU tensors) and hands the
result back where it came from. The all-reduce handed to the advantage estimators makes their
whitening statistics global (docs/ALGORITHMS.md, REINFORCE++ step 4).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import torch
import torch.distributed as torch_dist
from torch import Tensor


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    local_world_size: int = 1
    device: torch.device = field(default_factory=lambda: torch.device("cpu"))

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def all_reduce(self, x: Tensor, op: str = "sum") -> Tensor:
        """Elementwise sum (or max) over ranks (the identity for one rank); the algos' injectable reduction."""
        if not self.active:
            return x
        y = x.detach().to(self.device, copy=True)
        torch_dist.all_reduce(y, op=torch_dist.ReduceOp.MAX if op == "max" else torch_dist.ReduceOp.SUM)
        return y.to(x.device)

    def sum_named(self, values: dict[str, float]) -> dict[str, float]:
        """Sum a dict of numbers over ranks in one collective (every rank passes the same keys)."""
        keys = sorted(values)
        summed = self.all_reduce(torch.tensor([float(values[k]) for k in keys], dtype=torch.float64))
        return {k: float(v) for k, v in zip(keys, summed.tolist(), strict=True)}

    def max_int(self, n: int) -> int:
        return int(self.all_reduce(torch.tensor(n, dtype=torch.long), op="max"))

    def sum_gradients(self, params) -> None:
        """Sum every parameter's .grad over ranks, flattened into one buffer per dtype (ddp engine)."""
        if not self.active:
            return
        grads = [p.grad for p in params if p.grad is not None]
        for dtype in {g.dtype for g in grads}:
            group = [g for g in grads if g.dtype == dtype]
            flat = torch.cat([g.reshape(-1) for g in group])
            torch_dist.all_reduce(flat)
            offset = 0
            for g in group:
                g.copy_(flat[offset : offset + g.numel()].view_as(g))
                offset += g.numel()

    def broadcast_parameters(self, module: torch.nn.Module) -> None:
        """Make every rank start from rank 0's weights (the module must be on `device`)."""
        if self.active:
            for t in module.state_dict().values():
                torch_dist.broadcast(t, 0)

    def barrier(self) -> None:
        if self.active:
            torch_dist.barrier()

    def shard(self, items: list) -> list:
        """This rank's contiguous share of a global list (its length must divide by world_size)."""
        if len(items) % self.world_size:
            raise ValueError(f"{len(items)} items do not split over {self.world_size} ranks")
        k = len(items) // self.world_size
        return items[self.rank * k : (self.rank + 1) * k]


def rank_device(local_rank: int) -> torch.device:
    return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")


def init_distributed(*, force: bool = False) -> Dist:
    """Join the process group the launcher describes in the environment (nccl on CUDA, gloo on CPU).

    `force` makes a group of one when no launcher set one up (FSDP and DeepSpeed need a process group even
    for a single process).
    """
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = rank_device(local_rank)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    if world <= 1 and not force:
        return Dist(device=device)
    if not torch_dist.is_initialized():
        if world <= 1:
            os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
            os.environ.setdefault("MASTER_PORT", str(_free_port()))
            os.environ.setdefault("RANK", "0")
            os.environ.setdefault("WORLD_SIZE", "1")
            os.environ.setdefault("LOCAL_RANK", "0")
        backend = "nccl" if device.type == "cuda" else "gloo"
        torch_dist.init_process_group(backend, device_id=device if device.type == "cuda" else None)
    return Dist(
        rank=torch_dist.get_rank(),
        world_size=torch_dist.get_world_size(),
        local_rank=local_rank,
        # torchrun says LOCAL_WORLD_SIZE, DeepSpeed's launcher LOCAL_SIZE
        local_world_size=int(os.environ.get("LOCAL_WORLD_SIZE", os.environ.get("LOCAL_SIZE", "1"))),
        device=device,
    )


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shutdown(dist: Dist) -> None:
    if torch_dist.is_initialized():
        torch_dist.destroy_process_group()
