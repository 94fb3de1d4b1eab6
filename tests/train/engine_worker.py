"""One rank of the engine tests (started by torchrun, or directly for one rank).

usage: engine_worker.py OUT DATA_DIR MODEL_DIR ENGINE [KEY=VALUE ...]
Runs 3 OORL steps straight; then again 2 steps, a checkpoint, a fresh trainer resumed from it and
the third step. Saves this rank's metrics and final full weights of both runs.
"""

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
torch.set_num_threads(1)

from train_fakes import make_trainer, tiny_overrides  # noqa: E402

from oorl.config import load_config  # noqa: E402
from oorl.train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint  # noqa: E402
from oorl.train.dist import init_distributed, shutdown  # noqa: E402

STEPS = 3


def main(out: str, data_dir: str, model_dir: str, engine: str, *sets: str) -> None:
    cfg = load_config(
        None,
        [
            *tiny_overrides(Path(data_dir), Path(out) / engine),
            f"train.engine={engine}",
            f"steps={STEPS}",
            "rollout.prompts_per_step=4",
            "preference.groups_per_step=2",
            "preference.memory_light=true",  # several backward calls before each optimizer step
            "optim.eps=1e-3",
            "optim.warmup_ratio=0.0",
            "onpolicy.micro_batch_size=3",
            *sets,
        ],
    )
    dist = init_distributed(force=engine != "ddp")

    def fresh():
        torch.manual_seed(0)
        return make_trainer(cfg, model_dir, dist=dist)

    trainer = fresh()
    straight = [trainer.step() for _ in range(STEPS)]
    state = trainer.engine.full_state_dict()

    trainer = fresh()
    first = [trainer.step() for _ in range(STEPS - 1)]
    trainer.global_step = STEPS - 1
    root = Path(cfg.out) / "checkpoints"
    save_checkpoint(
        root,
        step=trainer.global_step,
        engine=trainer.engine,
        tokenizer=trainer.tokenizer,
        data_state=trainer.data_state(),
    )
    trainer = fresh()  # a new model, optimizer and engine, as after a restart
    saved = load_checkpoint(latest_checkpoint(root), engine=trainer.engine)
    trainer.load_data_state(saved["data"])
    resumed = first + [trainer.step()]
    resumed_state = trainer.engine.full_state_dict()
    if dist.is_main:
        torch.save(
            {"metrics": straight, "state": state, "resumed": resumed, "resumed_state": resumed_state},
            Path(out) / f"{engine}-world{dist.world_size}.pt",
        )
    dist.barrier()
    shutdown(dist)


if __name__ == "__main__":
    main(*sys.argv[1:])
