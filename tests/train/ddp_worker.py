"""One rank of the data-parallel invariance test (started by torchrun, or directly for one rank).

usage: ddp_worker.py OUT DATA_DIR MODEL_DIR
Runs 2 OORL steps on a fixed global batch and saves this rank's metrics and final weights.
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(1)

from train_fakes import make_trainer, tiny_overrides  # noqa: E402

from oorl.config import load_config  # noqa: E402
from oorl.train.dist import init_distributed, shutdown  # noqa: E402


def main(out: str, data_dir: str, model_dir: str) -> None:
    cfg = load_config(
        None,
        [
            *tiny_overrides(Path(data_dir), Path(out)),
            "rollout.prompts_per_step=4",
            "preference.groups_per_step=2",
            "optim.eps=1e-3",
            "optim.warmup_ratio=0.0",
            "onpolicy.micro_batch_size=3",
        ],
    )
    dist = init_distributed()
    torch.manual_seed(0)
    trainer = make_trainer(cfg, model_dir, dist=dist)
    metrics = [trainer.step() for _ in range(cfg.steps)]
    state = {k: v.detach().clone() for k, v in trainer.model.state_dict().items()}
    torch.save({"metrics": metrics, "state": state}, Path(out) / f"world{dist.world_size}-rank{dist.rank}.pt")
    dist.barrier()  # as run_training does: no rank leaves while another still talks to it
    shutdown(dist)


if __name__ == "__main__":
    main(*sys.argv[1:4])
