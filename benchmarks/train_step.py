"""On-policy step throughput: our OORL step (REINFORCE++, no IR batch) against TRL's GRPOTrainer.

Both run side by side in this process on the same tiny model, the same chat-rendered translation
prompts, the same sandbox-judged unit-test reward, B prompts x G samples per step, the same
max_new_tokens, temperature, learning rate and KL coefficient (a reference-model forward in both),
one thread. Prints our step's time split (generation / sandbox / training) and the ratio

    ratio = TRL seconds per step / our seconds per step      (> 1: we are faster)

Timings are means over the measured steps after `--warmup` steps. Run:

    python benchmarks/train_step.py [--model DIR] [--steps 4] [--prompts 8] [--group 4]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch


def build_model(cfg, out: Path) -> str:
    from oorl.train.model import build_tiny_model
    from oorl.train.run import bundled_texts

    build_tiny_model(out, bundled_texts(cfg), cfg.tiny, seed=cfg.seed)
    return str(out)


def ours(cfg, model_path: str, tasks, sandbox, steps: int, warmup: int) -> list[dict]:
    from oorl.rollout import make_backend
    from oorl.train.model import load_model
    from oorl.train.recipe import OORLTrainer
    from oorl.train.run import default_reward_fn

    torch.manual_seed(0)
    model, tok = load_model(cfg.model, model_path)
    trainer = OORLTrainer(
        cfg,
        model=model,
        tokenizer=tok,
        backend=lambda engine: make_backend("hf", engine.module, tok),
        tasks=tasks,
        ir_groups=None,
        reward_fn=default_reward_fn(sandbox),
    )
    return [trainer.step() for _ in range(warmup + steps)][warmup:]


def trl_grpo(cfg, model_path: str, tasks, sandbox, steps: int, warmup: int, workdir: Path) -> list[float]:
    from datasets import Dataset
    from transformers import TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    from oorl.rewards import score_completions
    from oorl.tasks.prompts import render_prompt
    from oorl.train.model import load_model

    model, tok = load_model(cfg.model, model_path)
    data = Dataset.from_dict(
        {"prompt": [render_prompt(t, tok) for t in tasks], "task": list(range(len(tasks)))}
    )

    def unit_test_reward(completions, task, **kwargs):
        return [r.reward for r in score_completions(sandbox, [tasks[i] for i in task], completions)]

    class Timer(TrainerCallback):
        def __init__(self):
            self.times: list[float] = []

        def on_step_begin(self, args, state, control, **kwargs):
            self.t0 = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            self.times.append(time.perf_counter() - self.t0)

    B, G = cfg.rollout.prompts_per_step, cfg.rollout.group_size
    args = GRPOConfig(
        output_dir=str(workdir),
        per_device_train_batch_size=B * G,
        num_generations=G,
        max_completion_length=cfg.rollout.max_new_tokens,
        temperature=cfg.rollout.temperature,
        top_p=1.0,
        learning_rate=cfg.optim.lr,
        lr_scheduler_type="constant",
        beta=cfg.onpolicy.kl_coef,
        max_steps=warmup + steps,
        logging_steps=1,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        seed=cfg.seed,
        max_grad_norm=cfg.optim.max_grad_norm,
        disable_tqdm=True,
    )
    timer = Timer()
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=unit_test_reward,
        args=args,
        train_dataset=data,
        processing_class=tok,
        callbacks=[timer],
    )
    trainer.train()
    return timer.times[warmup:]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model folder (default: build the demo's tiny model)")
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--group", type=int, default=4)
    ap.add_argument("--max-new-tokens", type=int, default=96)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()

    from oorl.sandbox import Sandbox
    from oorl.train.data import build_tasks
    from oorl.train.demo import demo_config, quiet_transformers

    quiet_transformers()
    torch.set_num_threads(a.threads)
    cfg = demo_config(
        [
            "preference.kind=none",
            f"rollout.prompts_per_step={a.prompts}",
            f"rollout.group_size={a.group}",
            f"rollout.max_new_tokens={a.max_new_tokens}",
            "onpolicy.kl_coef=0.01",
            "optim.warmup_ratio=0.0",
            f"steps={a.steps + a.warmup}",
            "log.progress=false",
        ]
    )
    tasks, _ = build_tasks(cfg.data)
    with tempfile.TemporaryDirectory() as tmp, Sandbox(workers=cfg.sandbox_workers) as sandbox:
        model_path = a.model or build_model(cfg, Path(tmp) / "model")
        ours_rows = ours(cfg, model_path, tasks, sandbox, a.steps, a.warmup)
        trl_times = trl_grpo(cfg, model_path, tasks, sandbox, a.steps, a.warmup, Path(tmp) / "trl")

    mean = lambda k: statistics.mean(r[k] for r in ours_rows)  # noqa: E731
    ours_step, trl_step = mean("time_step"), statistics.mean(trl_times)
    print(
        f"setup: B={a.prompts} prompts x G={a.group} samples, max_new_tokens={a.max_new_tokens}, "
        f"threads={a.threads}, {a.steps} measured steps after {a.warmup} warm-up"
    )
    print(
        f"ours  step {ours_step:.3f} s = generation {mean('time_generate'):.3f} + sandbox {mean('time_sandbox'):.3f} "
        f"+ training {mean('time_train'):.3f} (+ rest {ours_step - mean('time_generate') - mean('time_sandbox') - mean('time_train'):.3f})"
    )
    print(
        f"ours  completion tokens per step {mean('response_tokens') * a.prompts * a.group:.0f}, "
        f"reward {mean('reward'):.3f}"
    )
    print(f"TRL GRPOTrainer step {trl_step:.3f} s")
    print(f"ratio (TRL s/step / ours s/step) = {trl_step / ours_step:.2f}")


if __name__ == "__main__":
    main()
