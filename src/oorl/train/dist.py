"""Data parallelism with torch.distributed directly: one process per rank under `torchrun`.

Gradients are *summed* over ranks (each rank's losses are already normalised by global counts:
tokens, groups, pairs of the whole step), so N ranks give the same update as one rank with the same
global batch. The all-reduce handed to the advantage estimators makes their whitening statistics
global as well (ALGORITHMS.md, REINFORCE++ step 4).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as torch_dist
from torch import Tensor


@dataclass(frozen=True)
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def all_reduce(self, x: Tensor) -> Tensor:
        """Elementwise sum over ranks (the identity for one rank); the algos' injectable reduction."""
        if self.active:
            x = x.detach().clone()
            torch_dist.all_reduce(x)
        return x

    def sum_gradients(self, params) -> None:
        """Sum every parameter's .grad over ranks, flattened into one buffer per dtype."""
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
        """Make every rank start from rank 0's weights."""
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


def init_distributed() -> Dist:
    """Join the process group that `torchrun` describes in the environment (gloo on CPU, nccl on GPU)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not torch_dist.is_initialized():
        torch_dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return Dist(
        rank=torch_dist.get_rank(),
        world_size=torch_dist.get_world_size(),
        local_rank=int(os.environ.get("LOCAL_RANK", "0")),
    )


def shutdown(dist: Dist) -> None:
    if dist.active and torch_dist.is_initialized():
        torch_dist.destroy_process_group()
