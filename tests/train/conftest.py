"""Fixtures for the trainer tests: a small problems file, IR groups, a tiny config, a built model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from train_fakes import tiny_overrides

torch.set_num_threads(1)


def linear_problem(i: int) -> dict:
    """`print(x * a + b)` in Python and JavaScript, with two stdio tests."""
    a, b = 2 + i % 5, i % 7
    return {
        "id": f"lin-{i}",
        "provenance": {"dataset": "test"},
        "solutions": {
            "python": f"x = int(input())\nprint(x * {a} + {b})\n",
            "javascript": (
                f"const x = parseInt(require('fs').readFileSync(0, 'utf8'));\nconsole.log(x * {a} + {b});\n"
            ),
        },
        "tests": [{"stdin": f"{s}\n", "expected": f"{s * a + b}\n"} for s in (1, 5)],
    }


def ir_group(i: int) -> dict:
    ir = "define i32 @f(i32 %0) {{\n  %2 = {op} i32 %0, {k}\n  ret i32 %2\n}}"
    return {
        "id": f"g{i}",
        "source_lang": "c",
        "source": f"int f(int x) {{ return x + {i}; }}",
        "prompt": f"Compile to LLVM IR:\nint f(int x) {{ return x + {i}; }}",
        "winners": [
            {"ir": ir.format(op="add", k=i), "opt_levels": ["O2"]},
            {"ir": ir.format(op="add nsw", k=i), "opt_levels": ["O0"]},
        ],
        "losers": [
            {
                "ir": ir.format(op="sub", k=i),
                "operator": "binop",
                "from_opt_level": "O2",
                "witness": {
                    "args": ["f", "1"],
                    "expected": str(1 + i),
                    "observed": str(1 - i),
                    "kind": "output",
                },
            }
        ],
        "exec": {},
        "provenance": {},
    }


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("data")
    write_jsonl(d / "problems.jsonl", [linear_problem(i) for i in range(24)])
    write_jsonl(d / "groups.jsonl", [ir_group(i) for i in range(6)])
    return d


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, data_dir) -> Path:
    """A tiny Qwen2 model + tokenizer built from the fixture problems (shared by the session)."""
    from oorl.config import load_config
    from oorl.train.model import build_tiny_model
    from oorl.train.run import bundled_texts

    out = tmp_path_factory.mktemp("tiny")
    cfg = load_config(None, tiny_overrides(data_dir, out))
    build_tiny_model(out / "model", bundled_texts(cfg), cfg.tiny, seed=0)
    return out / "model"
