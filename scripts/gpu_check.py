"""One rank of scripts/gpu_check.sh: N OORL steps of the tiny recipe on a ~0.5 B Qwen3-architecture
model (random weights), in the paper's precision (bf16 compute, float32 masters), with one engine.

usage: python scripts/gpu_check.py OUT ENGINE STEPS   (under torchrun, one process per GPU)

Rewards are the answer-format check only (a fenced block): this measures the trainer's memory and
speed on the GPU, not the sandbox, which may not be installed on a GPU node.
"""

import json
import sys
from pathlib import Path

import torch


def build_model(folder: Path) -> None:
    """The demo's tokenizer and a randomly initialised Qwen3 of about 0.5 B parameters."""
    from transformers import Qwen3Config, Qwen3ForCausalLM

    from oorl.train.demo import demo_config
    from oorl.train.model import BOS, train_tokenizer
    from oorl.train.run import bundled_texts

    tok = train_tokenizer(bundled_texts(demo_config()), 2048)
    config = Qwen3Config(
        vocab_size=len(tok),
        hidden_size=1536,
        intermediate_size=4096,
        num_hidden_layers=20,
        num_attention_heads=12,
        num_key_value_heads=4,
        head_dim=128,
        max_position_embeddings=4096,
        tie_word_embeddings=False,
        bos_token_id=tok.convert_tokens_to_ids(BOS),
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    torch.manual_seed(0)
    model = Qwen3ForCausalLM(config)
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    print(f"built {folder}: {sum(p.numel() for p in model.parameters()) / 1e9:.2f} B parameters", flush=True)


def format_reward(tasks, texts):
    from oorl.rewards import RewardResult

    return [RewardResult(reward=float("```" in t), format_ok="```" in t, compiled="```" in t) for t in texts]


def main(out: str, engine: str, steps: str) -> None:
    from oorl.train.demo import demo_config, quiet_transformers
    from oorl.train.run import run_training

    quiet_transformers()
    out = Path(out)
    cfg = demo_config(
        [
            f"out={out / engine}",
            f"steps={steps}",
            f"train.engine={engine}",
            "model.dtype=bfloat16",
            "model.master_dtype=float32",
            "model.gradient_checkpointing=true",
            "threads=null",
            "log.progress=false",
            "log.tensorboard=false",
            "checkpoint.every=1000",
            "checkpoint.export_dtype=bfloat16",
        ]
    )
    result = run_training(cfg, model_path=str(out / "model"), reward_fn=format_reward)
    if result.final_model is not None:
        rows = [json.loads(x) for x in (out / engine / "metrics.jsonl").read_text().splitlines()]
        timed = rows[1:] or rows  # the first step includes warm-up (kernels, allocator)
        print(
            json.dumps(
                {
                    "engine": engine,
                    "steps": len(rows),
                    "step_s": sum(r["time_step"] for r in timed) / len(timed),
                    "generate_s": sum(r["time_generate"] for r in timed) / len(timed),
                    "peak_gib": max(r.get("gpu_peak_gib", 0.0) for r in rows),
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    if sys.argv[1] == "build":
        build_model(Path(sys.argv[2]))
    else:
        main(*sys.argv[1:4])
